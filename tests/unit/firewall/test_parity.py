"""Parity and explain on the recorded hosts and on hand-written rulesets."""

from __future__ import annotations

import json

import pytest

from tests.conftest import make_snapshot
from tests.unit.firewall.rulesets import (
    ACCEPT,
    CASES,
    DROP,
    FIXTURES,
    Nft,
    fixture,
    inet_input,
    match,
    meta,
    payload,
    tcp_dport,
)
from v6gap.errors import InputError, RulesetError
from v6gap.firewall.parity import ParityDifference, explain, parity
from v6gap.firewall.partition import port_atoms, source_atoms
from v6gap.firewall.sources import read_snapshot


def _rows(differences: list[ParityDifference]) -> list[tuple[object, ...]]:
    return [(d.proto, d.from_port, d.to_port, d.ipv4, d.ipv6, d.wider) for d in differences]


def test_seed_headline_ipv4_ssh_only_ipv6_empty() -> None:
    rows = _rows(parity(fixture("v4-ssh-only-v6-empty")))
    assert rows[:3] == [
        ("tcp", 0, 21, "drop", "accept", "ipv6"),
        ("tcp", 23, 65535, "drop", "accept", "ipv6"),
        ("udp", 0, 65535, "drop", "accept", "ipv6"),
    ]
    icmp = [r for r in rows if r[0] == "icmpv6"]
    assert {r[1] for r in icmp} == {1, 2, 3, 4, 128, 129}
    assert rows[-1] == ("other", None, None, "drop", "accept", "ipv6")
    assert _rows(parity(fixture("legacy-v4-ssh-only"))) == rows


def test_json_shape() -> None:
    differences = parity(fixture("v4-ssh-only-v6-empty"))
    tcp = differences[0].to_json()
    assert list(tcp) == ["proto", "from_port", "to_port", "ipv4", "ipv6", "wider", "why"]
    assert tcp["why"]["ipv4"]["trace"][-1] == "iptables-save: *filter INPUT: policy drop"
    icmp = next(d for d in differences if d.proto == "icmpv6").to_json()
    assert {"from_type", "to_type"} <= set(icmp) and "from_port" not in icmp
    json.dumps([d.to_json() for d in differences])


def test_seed_option2_echo_limit_and_parameter_problem() -> None:
    rows = _rows(parity(fixture("seed-option2")))
    assert rows == [
        (
            "icmpv6",
            128,
            128,
            "accept",
            "conditional",
            "ipv4",
        ),  # IPv4's unlimited accept comes first
        ("icmpv6", 129, 129, "accept", "conditional", "ipv4"),
        ("icmpv6", 4, 4, "drop", "accept", "ipv6"),
    ]


def test_conditional_sources_are_named() -> None:
    (first, ssh, *_rest) = parity(fixture("ip-only-drop"))
    assert (first.proto, first.from_port, first.to_port) == ("tcp", 0, 21)
    assert ssh.ipv4 == "conditional" and ssh.from_port == ssh.to_port == 22
    accepted = ssh.why["ipv4"]["accepted_sources"]
    assert accepted[0].startswith("0.0.0.0/2") and not any(a == "198.51.100.0/24" for a in accepted)


def test_conditional_interfaces_are_named() -> None:
    iifname = meta("iifname")
    ruleset = inet_input(
        [match(iifname, "eth1"), DROP],
        [match(iifname, "eth*"), tcp_dport(22), ACCEPT],
        [match(iifname, "wg0"), tcp_dport(22), ACCEPT],
    )
    ssh = explain(ruleset, "ipv6", 6, 22)
    assert ssh.verdict == "conditional" and ssh.interfaces == ("eth*", "wg0")
    assert ssh.to_data()["accepted_interfaces"] == ["eth*", "wg0"]
    assert explain(ruleset, "ipv6", 6, 22, iif="eth1").verdict == "drop"
    assert explain(ruleset, "ipv6", 6, 22, iif="eth0").verdict == "accept"
    # Every other interface but one: the list names the exception's complement.
    open_ = inet_input([match(iifname, "eth1"), DROP], [tcp_dport(22), ACCEPT])
    assert explain(open_, "ipv6", 6, 22).interfaces == ("other interfaces",)
    # Conditional by source alone: no interface list.
    by_source = inet_input(
        [match(iifname, "eth1"), tcp_dport(22), ACCEPT],
        [match(payload("ip6", "saddr"), {"prefix": {"addr": "2001:db8::", "len": 32}}), ACCEPT],
    )
    web = explain(by_source, "ipv6", 6, 80)
    assert web.verdict == "conditional" and web.interfaces == () and web.sources


@pytest.mark.parametrize("case", ["inet-policy-drop", "docker-internal-nft", "empty"])
def test_cases_at_parity(case: str) -> None:
    assert parity(fixture(case)) == []


@pytest.mark.parametrize("case", CASES)
def test_every_fixture_answers(case: str) -> None:
    for difference in parity(fixture(case)):
        assert difference.ipv4 != difference.ipv6


def test_partition_follows_the_ruleset() -> None:
    ruleset = inet_input([tcp_dport({"set": [22, {"range": [1000, 2000]}]}), ACCEPT])
    assert port_atoms(ruleset, 6) == [(0, 21), (22, 22), (23, 999), (1000, 2000), (2001, 65535)]
    assert port_atoms(ruleset, 17) == [(0, 65535)]
    atoms = source_atoms(
        inet_input([match(payload("ip", "saddr"), "192.0.2.0/24"), ACCEPT]), "ipv4"
    )
    assert (0xC0000200, 0xC00002FF) in atoms and not any(a[0] == 0x7F000000 for a in atoms)


def test_explain() -> None:
    ruleset = fixture("seed-option2")
    ra = explain(ruleset, "ipv6", 58, icmp_type=134)
    assert ra.verdict == "conditional" and ra.sources == ("fe80::/10",)
    assert explain(ruleset, "ipv6", 58, icmp_type=134, saddr="fe80::1").verdict == "accept"
    assert explain(ruleset, "ipv6", 58, icmp_type=134, saddr="2001:db8::1").verdict == "drop"
    ssh = explain(ruleset, "ipv6", 6, dport=22)
    assert ssh.verdict == "accept" and 'comment "SSH"' not in ssh.trace[0]
    assert "handle" in ssh.trace[0]
    assert explain(ruleset, "ipv4", 6).verdict == "conditional"  # some ports only
    with pytest.raises(InputError):
        explain(ruleset, "ipv4", 6, saddr="::1")
    assert explain(ruleset, "ipv6", 6, saddr="::1").verdict == "unknown"  # loopback is no network


def test_snapshot_reading() -> None:
    folder = FIXTURES / "v4-ssh-only-v6-empty"
    snapshot = make_snapshot(
        firewall={
            "nft_json": (folder / "nft.json").read_text(),
            "saves": {"iptables-save": (folder / "iptables-save.txt").read_text()},
        }
    )
    assert parity(read_snapshot(snapshot))[0].from_port == 0
    partial = make_snapshot(
        firewall={"saves": {"iptables-save": (folder / "iptables-save.txt").read_text()}},
        unavailable={"nft": "nft: command not found"},
    )
    assert read_snapshot(partial).notes == (
        "nft not read (nft: command not found): its tables are missing here",
    )
    with pytest.raises(RulesetError, match="no firewall dump"):
        read_snapshot(make_snapshot())


def test_native_tables_named_like_iptables_are_kept() -> None:
    """``ip filter`` written with nft is not replaced by the save dump's empty translation."""
    ruleset = fixture("ip-only-drop")
    native = next(t for t in ruleset.tables if t.name == "filter")
    assert native.source == "nft -j list ruleset" and native.chain("input") is not None


def test_wider_ranks_unknown_above_drop() -> None:
    ruleset = Nft().table("ip6", "t").chain("ip6", "t", "input", "input")
    ruleset.rule("ip6", "t", "input", match({"fib": {"result": "type"}}, "local"), {"drop": None})
    v4_drop = Nft().table("ip", "u").chain("ip", "u", "input", "input", policy="drop")
    merged = ruleset.read().merged(v4_drop.read())
    (tcp, *_rest) = parity(merged)
    assert (tcp.ipv4, tcp.ipv6, tcp.wider) == ("drop", "unknown", "ipv6")
