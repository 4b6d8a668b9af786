"""ICMP and ICMPv6 echo through the system's ``ping``; ICMP errors coming back.

Why the binary and not raw sockets: ``ping`` already matches replies to requests per family
(identifiers, ICMPv6 checksums, scope ids), runs without extra privileges where
``ping_group_range`` or its capabilities allow, and a subprocess started from a process that
entered a namespace runs in that namespace. Lab hosts require it anyway.
"""

from __future__ import annotations

import asyncio
import re
import shutil
from typing import Dict, Optional, Sequence

from v6gap.probe.engine import Prober
from v6gap.probe.model import Echo, IcmpTest, Observation

ECHO_COUNT = 3
_RTT = re.compile(r"= [\d.]+/([\d.]+)/")  # rtt min/avg/max/mdev = 0.041/0.052/0.068/0.011 ms
_RECEIVED = re.compile(r"(\d+) (?:packets )?received")


def parse_ping(output: str) -> Echo:
    """An ``Echo`` from iputils ping's summary (received count and the average RTT)."""
    received = _RECEIVED.search(output)
    if received is None or int(received.group(1)) == 0:
        return Echo(False)
    rtt = _RTT.search(output)
    return Echo(True, float(rtt.group(1)) if rtt else None)


async def echo_one(address: str, timeout: float = 1.0, source: Optional[str] = None) -> Echo:
    binary = shutil.which("ping")
    if binary is None:
        return Echo(False, error="ping not found (package iputils-ping)")
    argv = [binary, "-n", "-q", "-c", str(ECHO_COUNT), "-i", "0.2", "-W", f"{timeout:g}"]
    argv += ["-I", source, address] if source else [address]
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await proc.communicate()
    echo = parse_ping(out.decode(errors="replace"))
    if not echo.answered and proc.returncode not in (0, 1):
        line = (err.decode(errors="replace").strip().splitlines() or ["ping failed"])[-1]
        return Echo(False, error=line)
    return echo


def source_for(address: str, sources: Sequence[str]) -> Optional[str]:
    """The source address of ``address``'s family among ``sources``, if one was given."""
    v6 = ":" in address
    return next((s for s in sources if (":" in s) == v6), None)


async def echo_all(addresses: Sequence[str], sources: Sequence[str] = ()) -> Dict[str, Echo]:
    """Echo every address at once (from the given source address of its family, if any)."""
    results = await asyncio.gather(*(echo_one(a, source=source_for(a, sources)) for a in addresses))
    return dict(zip(addresses, results))


# What an outside prober cannot honestly test, said wherever the ICMP results are shown.
UNTESTABLE = (
    "packet-too-big accepted by the target (path MTU discovery): needs a router with a smaller "
    "MTU on the path; the audit judges it from the ruleset (V6G-FW-04)",
    "the target's other outgoing errors (packet-too-big, time-exceeded, parameter-problem): it "
    "sends them only when forwarding or given malformed packets; port-unreachable stands in",
    "router advertisements and redirects accepted: the target acts on them without answering "
    "(V6G-NDP-01, V6G-NDP-02, V6G-NDP-06)",
    "MLD (V6G-FW-05): queries come from routers and reports go to multicast",
    "neighbour discovery behind a router: it happens between the target and that router",
)

# traceroute's first port: almost never listened on, so a UDP probe there should draw an ICMP
# port-unreachable, the most common error, sent by the target's own stack.
ERROR_PORT = 33434


def error_result(observation: Observation) -> IcmpTest:
    """What a UDP probe of ``ERROR_PORT`` says about ICMP errors coming back from the target."""
    if observation.reason == "refused":
        return IcmpTest("port-unreachable", f"udp/{ERROR_PORT}: the error came back")
    if observation.reason == "reject":
        return IcmpTest(
            "reject", f"udp/{ERROR_PORT}: an ICMP error came back ({observation.detail})"
        )
    if observation.state == "open":
        return IcmpTest("reply", f"udp/{ERROR_PORT} answered: open, so no error to expect")
    return IcmpTest(
        "no-answer",
        f"udp/{ERROR_PORT}: no error came back: the probe was dropped on the way in or the "
        "target's error was dropped on the way out (not told apart from outside)",
    )


async def errors_all(prober: Prober, addresses: Sequence[str]) -> Dict[str, IcmpTest]:
    """A UDP probe of ``ERROR_PORT`` on every address; sent before the port scan, while the
    target's ICMP rate limit is untouched."""
    observed = await prober.run([(a, "udp", ERROR_PORT) for a in addresses])
    return {o.address: error_result(o) for o in observed}
