"""ICMP and ICMPv6 echo through the system's ``ping``.

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

from v6gap.probe.model import Echo

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
