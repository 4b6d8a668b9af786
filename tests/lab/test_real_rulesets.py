"""Real ufw and firewalld in a lab namespace against the engine: what the engine says of the
tools' own rules must be what real TCP and UDP connections from another namespace meet, on
both families.

The server namespace gets ufw's installed default rules plus three user rules (one IPv4 only),
made by the real ``ufw --force enable``, or firewalld's default zone on the nftables backend,
run as scripts/record_real_rulesets.py runs it (the machine's /etc and firewall untouched), and
is read back as ``v6gap audit --netns`` reads a host. Nothing is loaded on the machine itself:
its ruleset is compared before and after.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Literal, Optional

import pytest

from v6gap import __version__
from v6gap.collect.snapshot import collect_netns
from v6gap.firewall.model import ICMP, ICMPV6, TCP, UDP
from v6gap.firewall.parity import explain, parity
from v6gap.firewall.sources import read_snapshot
from v6gap.lab import Lab, Listener
from v6gap.lab.scenarios import pair
from v6gap.snapshot_io import from_data

pytestmark = pytest.mark.lab
Family = Literal["ipv4", "ipv6"]
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "record_real_rulesets.py"
UFW_COMMANDS = [
    ["allow", "22/tcp"],
    ["allow", "53/udp"],
    ["allow", "from", "198.51.100.0/24", "to", "any", "port", "8080", "proto", "tcp"],
]
LISTENING = (("tcp", 22), ("tcp", 443), ("tcp", 8080), ("udp", 53), ("udp", 9000))
CLOSED = (("tcp", 23), ("udp", 54))
TIMEOUT = 1.0
PROTOCOLS = {"tcp": TCP, "udp": UDP}


def _recorder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("record_real_rulesets", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _real(lab: Lab, family: Family, proto: str, port: int) -> str:
    """What a connection from the client met: open, refused or timeout (never an error)."""
    found = lab.connect("client", proto, lab.addr("server", family), port, TIMEOUT)  # type: ignore[arg-type]
    assert found.outcome != "error", found
    return found.outcome


def _agrees(verdict: str, outcome: str, listening: bool) -> bool:
    """ufw drops (never rejects): a dropped probe times out; an accepted one reaches the port."""
    if verdict == "accept":
        return outcome == ("open" if listening else "refused")
    return outcome == "timeout"


def test_real_ufw_verdicts_meet_real_connections(lab_factory: Any) -> None:
    recorder = _recorder()
    for tool in ("ufw", "iptables-save", "ip6tables-save"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed: run scripts/install-system-deps.sh as root")
    before = recorder.host_firewall()
    listeners = tuple(Listener(proto, "::", port, v6only=False) for proto, port in LISTENING)  # type: ignore[arg-type]
    lab = lab_factory(pair("client", "server").with_host("server", listeners=listeners))
    recorder.ufw_ruleset(lab, "server", UFW_COMMANDS)
    ruleset = read_snapshot(from_data(collect_netns(lab.ns("server"), __version__), "ufw"))
    assert ruleset.notes == ()
    # `firewall parity --live` run inside the namespace reads the same ruleset the same way.
    live = lab.exec(
        "server",
        [sys.executable, "-m", "v6gap", "firewall", "parity", "--live", "--format", "json"],
    )
    assert live.returncode == 0, live.stderr
    assert json.loads(live.stdout)["differences"] == [d.to_json() for d in parity(ruleset)]

    seen: dict[tuple[Family, str, int], tuple[str, str]] = {}
    for family in ("ipv4", "ipv6"):
        client: Optional[str] = lab.addr("client", family)
        for (proto, port), listening in [(p, True) for p in LISTENING] + [
            (p, False) for p in CLOSED
        ]:
            verdict = explain(ruleset, family, PROTOCOLS[proto], port, saddr=client).verdict
            outcome = _real(lab, family, proto, port)  # type: ignore[arg-type]
            seen[(family, proto, port)] = (verdict, outcome)
            if verdict in ("accept", "drop"):
                assert _agrees(verdict, outcome, listening), (family, proto, port, verdict, outcome)

    # What the engine said, so that the comparisons above cannot pass vacuously.
    verdicts = {key: verdict for key, (verdict, _) in seen.items()}
    assert [verdicts[("ipv6", p, n)] for p, n in LISTENING + CLOSED] == [
        "accept",
        "drop",
        "drop",
        "accept",
        "drop",
        "drop",
        "drop",
    ]
    # IPv4 passes ufw-not-local's `-m addrtype --dst-type LOCAL -j RETURN` (and MULTICAST,
    # BROADCAST) before any accept: a connection to the host's own unicast address returns
    # there, as the kernel showed above, so IPv4 gets the same verdicts as IPv6.
    assert [verdicts[("ipv4", p, n)] for p, n in LISTENING + CLOSED] == [
        verdicts[("ipv6", p, n)] for p, n in LISTENING + CLOSED
    ]
    assert seen[("ipv4", "tcp", 22)][1] == "open" and seen[("ipv4", "udp", 53)][1] == "open"
    # 8080 is open to 198.51.100.0/24 over IPv4 only; the client is not in it.
    assert seen[("ipv4", "tcp", 8080)] == ("drop", "timeout")

    # Neighbour discovery with hop limit 255 and echo requests: ufw's before(6).rules.
    for family, protocol, echo in (("ipv6", ICMPV6, 128), ("ipv4", ICMP, 8)):
        found = explain(ruleset, family, protocol, icmp_type=echo, saddr=lab.addr("client", family))
        assert found.verdict == "accept"
        assert lab.ping("client", lab.addr("server", family))
    assert recorder.host_firewall() == before


def test_real_firewalld_verdicts_meet_real_connections(lab_factory: Any) -> None:
    recorder = _recorder()
    before = recorder.host_firewall()
    listeners = tuple(Listener(proto, "::", port, v6only=False) for proto, port in LISTENING)  # type: ignore[arg-type]
    lab = lab_factory(pair("client", "server").with_host("server", listeners=listeners))
    with recorder.running_firewalld(lab, "server"):
        ruleset = read_snapshot(from_data(collect_netns(lab.ns("server"), __version__), "fwd"))
        assert ruleset.notes == ()
        seen: dict[tuple[str, str, int], tuple[str, str]] = {}
        for family in ("ipv4", "ipv6"):
            client = lab.addr("client", family)
            for proto, port in LISTENING + CLOSED:
                verdict = explain(ruleset, family, PROTOCOLS[proto], port, saddr=client).verdict
                found = lab.connect("client", proto, lab.addr("server", family), port, TIMEOUT)  # type: ignore[arg-type]
                seen[(family, proto, port)] = (verdict, found.outcome)
                if verdict == "accept":
                    listening = (proto, port) in LISTENING
                    assert found.outcome == ("open" if listening else "refused"), (family, port)
                else:
                    # Rejected with admin-prohibited: an unreachable error, or a timeout when
                    # the ICMP error is rate-limited or arrives after the connect timeout.
                    assert verdict == "drop" and found.outcome in ("error", "timeout"), found
        # Every ICMP and ICMPv6 type is accepted by the public zone: echo gets through.
        for family, protocol, echo in (("ipv6", ICMPV6, 128), ("ipv4", ICMP, 8)):
            found_echo = explain(ruleset, family, protocol, icmp_type=echo)
            assert found_echo.verdict == "accept"
            assert lab.ping("client", lab.addr("server", family))
        assert recorder.host_firewall() == before
    # ssh is the default zone's only TCP service (dhcpv6-client takes UDP 546 to fe80::/64).
    accepted = sorted(k for k, (v, _) in seen.items() if v == "accept")
    assert accepted == [("ipv4", "tcp", 22), ("ipv6", "tcp", 22)]
