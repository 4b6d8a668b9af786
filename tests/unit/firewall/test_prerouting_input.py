"""Packets to the host cross the prerouting filter chains before input: iptables' raw and
mangle PREROUTING and nft prerouting filter chains decide input verdicts too."""

from __future__ import annotations

from typing import Optional

import pytest

from tests.conftest import make_snapshot
from tests.unit.analysis_fw.rulesets import recorded_firewall
from v6gap.checks.run import run_checks
from v6gap.firewall.evaluate import PacketClass, judge
from v6gap.firewall.iptables import read_save
from v6gap.firewall.model import TCP, UDP, Interval, Ruleset
from v6gap.firewall.parity import explain, parity
from v6gap.firewall.sources import located, read_snapshot
from v6gap.model import Profile, Snapshot, Status

INPUT_OPEN = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n"


@pytest.mark.parametrize("table", ["raw", "mangle"])
def test_iptables_prerouting_drop_decides_input(table: str) -> None:
    pre = f"*{table}\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp --dport 22 -j DROP\nCOMMIT\n"
    ruleset = read_save(pre + INPUT_OPEN, "ip6tables-save")
    found = judge(ruleset, PacketClass("ipv6", TCP, (22, 22)))
    assert found.verdict == "drop"
    assert found.trace == (
        "ip6tables-save: line 3: -A PREROUTING -p tcp --dport 22 -j DROP → drop",
    )
    assert judge(ruleset, PacketClass("ipv6", UDP, (22, 22))).verdict == "accept"
    # Parity sees it: IPv4 (no dump) accepts tcp 22, IPv6 drops it.
    rows = [(r.proto, r.from_port, r.to_port, r.wider) for r in parity(ruleset)]
    assert ("tcp", 22, 22, "ipv4") in rows


def test_prerouting_accept_does_not_end_the_path() -> None:
    # An accept ends only its own chain: the input chain still drops.
    save = (
        "*raw\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp --dport 22 -j ACCEPT\nCOMMIT\n"
        "*filter\n:INPUT DROP [0:0]\nCOMMIT\n"
    )
    found = explain(read_save(save, "ip6tables-save"), "ipv6", TCP, 22)
    assert found.verdict == "drop" and found.trace[-1].endswith("*filter INPUT: policy drop")


IFACES = [
    {
        "name": "eth0",
        "index": 2,
        "up": True,
        "addresses": [
            {"family": "ipv4", "address": "203.0.113.10", "prefixlen": 24},
            {"family": "ipv6", "address": "2001:db8:5::10", "prefixlen": 64},
        ],
    }
]
SOCKETS = [{"family": "ipv6", "proto": "tcp", "address": "::", "port": 8080, "v6only": False}]


def local_destinations(snapshot: Snapshot) -> Optional[frozenset[tuple[str, Interval]]]:
    return located(Ruleset(), snapshot).local


def test_host_destinations_come_from_the_snapshot() -> None:
    local = local_destinations(make_snapshot(interfaces=IFACES))
    assert local is not None
    assert ("ipv4", (0xCB00710A, 0xCB00710A)) in local  # 203.0.113.10
    assert ("ipv4", (0xCB0071FF, 0xCB0071FF)) in local  # its subnet's broadcast
    assert any(f == "ipv6" and a >> 120 == 0xFF for f, (a, _) in local)  # multicast
    assert local_destinations(make_snapshot()) is None  # interfaces not collected
    image = make_snapshot(source="root", interfaces=IFACES)
    assert local_destinations(image) is None  # an image's addresses come at boot


def test_docker_raw_prerouting_leaves_the_audit_decided() -> None:
    fw = recorded_firewall("docker-published-port-iptables")
    snapshot = make_snapshot(firewall=fw, interfaces=IFACES, sockets=SOCKETS)
    ruleset = read_snapshot(snapshot)
    assert explain(ruleset, "ipv6", TCP, 8080).verdict == "accept"
    exp03 = {f.id: f for f in run_checks(snapshot, Profile("server")).findings}["V6G-EXP-03"]
    assert exp03.status is Status.PASS
    assert any("IPv6 accept, IPv4 accept" in e for e in exp03.evidence)
