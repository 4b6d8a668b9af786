"""The class evaluator on hand-written rulesets: chains, priorities, jumps, cycles, bounds."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.firewall.rulesets import (
    ACCEPT,
    CT_STATE,
    DROP,
    Nft,
    goto,
    inet_input,
    inet_input_nft,
    jump,
    match,
    meta,
    payload,
    tcp_dport,
)
from v6gap.firewall import evaluate
from v6gap.firewall.evaluate import Judgement, PacketClass, judge
from v6gap.firewall.model import Ruleset

SSH6 = PacketClass("ipv6", 6, (22, 22))
SSH4 = PacketClass("ipv4", 6, (22, 22))
WEB6 = PacketClass("ipv6", 6, (80, 80))


def test_policy_drop_with_one_open_port() -> None:
    ruleset = inet_input(
        [match(CT_STATE, ["established", "related"]), ACCEPT],
        [match(meta("iif"), "lo"), ACCEPT],
        [tcp_dport(22), ACCEPT],
    )
    assert judge(ruleset, SSH6).verdict == "accept"
    assert judge(ruleset, SSH4).verdict == "accept"
    web = judge(ruleset, WEB6)
    assert web.verdict == "drop" and web.trace[-1].endswith("policy drop")
    assert "handle 3" in judge(ruleset, SSH6).trace[0]


def test_no_chain_accepts_everything() -> None:
    found = judge(Ruleset(), SSH6)
    assert found.verdict == "accept" and "no ipv6 filter chain" in found.trace[0]


def test_family_selectors_in_inet_tables() -> None:
    ruleset = inet_input(
        [match(meta("nfproto"), "ipv4"), tcp_dport(22), ACCEPT],
        [match(payload("ip6", "saddr"), {"prefix": {"addr": "2001:db8::", "len": 32}}, "!="), DROP],
        policy="accept",
    )
    assert judge(ruleset, SSH4).verdict == "accept"
    assert judge(ruleset, PacketClass("ipv4", 17)).verdict == "accept"  # ip6 saddr: not IPv4
    inside = PacketClass("ipv6", 6, (22, 22), saddr=(0x20010DB8 << 96, (0x20010DB8 << 96) + 5))
    assert judge(ruleset, inside).verdict == "accept"
    assert judge(ruleset, PacketClass("ipv6", 6, (22, 22), saddr=(1, 1))).verdict == "drop"
    assert judge(ruleset, SSH6).verdict == "conditional"  # any source: some are dropped


def test_base_chains_run_by_priority_and_drop_is_final() -> None:
    nft = (
        Nft()
        .table("inet", "a")
        .chain("inet", "a", "late", "input", 10, "accept")
        .rule("inet", "a", "late", tcp_dport(22), DROP)
        .table("ip6", "b")
        .chain("ip6", "b", "early", "input", -10, "drop")
        .rule("ip6", "b", "early", tcp_dport({"set": [22, 80]}), ACCEPT)
    )
    ruleset = nft.read()
    ssh = judge(ruleset, SSH6)
    assert ssh.verdict == "drop"  # accepted by the first chain, dropped by the second
    assert "b chain early" in ssh.trace[0] and "a chain late" in ssh.trace[-1]
    assert judge(ruleset, WEB6).verdict == "accept"
    assert judge(ruleset, PacketClass("ipv6", 17)).verdict == "drop"
    assert judge(ruleset, SSH4).verdict == "drop"  # only the inet chain sees IPv4
    accept_first = Nft().table("ip6", "t")
    accept_first.chain("ip6", "t", "one", "input", 0, "drop").rule("ip6", "t", "one", ACCEPT)
    accept_first.chain("ip6", "t", "two", "input", 5, "drop")
    assert judge(accept_first.read(), SSH6).verdict == "drop"  # accept only ends its chain


def _with_chains(*rules: tuple[str, list[dict[str, Any]]], policy: str = "drop") -> Ruleset:
    nft = Nft().table("inet", "t").chain("inet", "t", "input", "input", 0, policy)
    for name in {n for n, _ in rules if n != "input"}:
        nft.chain("inet", "t", name)
    for name, expr in rules:
        nft.rule("inet", "t", name, *expr)
    return nft.read()


def test_jump_return_and_goto() -> None:
    ruleset = _with_chains(
        ("input", [jump("services")]),
        ("input", [tcp_dport(80), ACCEPT]),
        ("services", [tcp_dport(22), ACCEPT]),
        ("services", [tcp_dport(80), {"return": None}]),
        ("services", [tcp_dport(443), goto("tls")]),
        ("tls", [match(meta("iifname"), "eth0"), ACCEPT]),
    )
    ssh = judge(ruleset, SSH6)
    assert ssh.verdict == "accept" and "jump services" in ssh.trace[0]
    assert judge(ruleset, WEB6).verdict == "accept"  # returned, then accepted by input
    tls = judge(ruleset, PacketClass("ipv6", 6, (443, 443)))
    assert tls.verdict == "conditional"  # only from eth0; else the goto returns to policy drop
    assert any("goto tls" in step for step in tls.trace)
    assert judge(ruleset, PacketClass("ipv6", 6, (443, 443), iif="eth0")).verdict == "accept"
    assert judge(ruleset, PacketClass("ipv6", 6, (443, 443), iif="eth1")).verdict == "drop"


def test_cycles_and_missing_chains_are_unknown() -> None:
    ruleset = _with_chains(
        ("input", [tcp_dport(22), jump("a")]),
        ("input", [tcp_dport(80), jump("nowhere")]),
        ("a", [jump("b")]),
        ("b", [jump("a")]),
    )
    cycle = judge(ruleset, SSH6)
    assert cycle.verdict == "unknown" and any(
        "jump cycle" in s for s in cycle.trace + cycle.other_trace
    )
    assert judge(ruleset, WEB6).verdict == "unknown"
    assert judge(ruleset, PacketClass("ipv6", 17)).verdict == "drop"


def test_depth_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    chain_rules = [("input", [jump("c0")])]
    chain_rules += [(f"c{i}", [jump(f"c{i + 1}")]) for i in range(10)]
    chain_rules += [("c10", [ACCEPT])]
    ruleset = _with_chains(*chain_rules)
    assert judge(ruleset, SSH6).verdict == "accept"
    monkeypatch.setattr(evaluate, "MAX_JUMP_DEPTH", 5)
    found = judge(ruleset, SSH6)
    assert found.verdict == "unknown" and any("deeper than 5" in s for s in found.trace)


def test_unknown_matches_and_other_verdicts() -> None:
    fib = match({"fib": {"result": "type", "flags": ["daddr", "iif"]}}, "local")
    ruleset = inet_input(
        [fib, tcp_dport(22), ACCEPT], [tcp_dport(80), {"queue": {"num": 0}}], [ACCEPT]
    )
    assert judge(ruleset, SSH6).verdict == "accept"  # accepted either way
    assert judge(ruleset, WEB6).verdict == "unknown"
    unsure = inet_input([fib, tcp_dport(22), ACCEPT])
    assert judge(unsure, SSH6).verdict == "unknown"
    assert judge(unsure, WEB6).verdict == "drop"


def test_limits_interfaces_and_daddr_are_conditional() -> None:
    limited = inet_input([tcp_dport(22), {"limit": {"rate": 3, "per": "minute"}}, ACCEPT])
    found: Judgement = judge(limited, SSH6)
    assert found.verdict == "conditional" and "limit" in found.trace[0]
    assert judge(inet_input([match(meta("iif"), "lo", "!="), ACCEPT]), SSH6).verdict == "accept"
    daddr = inet_input([match(payload("ip6", "daddr"), "2001:db8::1"), ACCEPT])
    assert judge(daddr, SSH6).verdict == "conditional"
    assert judge(inet_input([match(meta("oifname"), "eth0"), ACCEPT]), SSH6).verdict == "drop"


def test_reject_counts_as_drop_and_ct_state() -> None:
    ruleset = inet_input(
        [match(CT_STATE, "invalid"), DROP],
        [match(CT_STATE, "new", "!="), ACCEPT],
        [tcp_dport(22), {"reject": {"type": "tcp reset"}}],
        policy="accept",
    )
    found = judge(ruleset, SSH6)
    assert found.verdict == "drop" and "reject" in found.trace[-1]
    assert judge(ruleset, WEB6).verdict == "accept"


def test_vmaps() -> None:
    vmap = {
        "vmap": {
            "key": payload("tcp", "dport"),
            "data": {"set": [[22, ACCEPT], [{"range": [80, 90]}, jump("web")], [443, DROP]]},
        }
    }
    ruleset = _with_chains(
        ("input", [vmap]), ("input", [ACCEPT]), ("web", [match(meta("iifname"), "eth0"), DROP])
    )
    assert judge(ruleset, SSH6).verdict == "accept"
    assert judge(ruleset, PacketClass("ipv6", 6, (443, 443))).verdict == "drop"
    assert judge(ruleset, PacketClass("ipv6", 6, (85, 85))).verdict == "conditional"
    assert judge(ruleset, PacketClass("ipv6", 6, (1000, 1000))).verdict == "accept"
    assert judge(ruleset, PacketClass("ipv6", 17)).verdict == "accept"


def test_address_types_on_the_input_and_forward_paths() -> None:
    local = {"fib": {"result": "type", "flags": ["daddr"]}}
    ruleset = inet_input([match(local, "local"), ACCEPT])
    assert judge(ruleset, SSH6).verdict == "accept"  # a TCP connection to one of its addresses
    udp = judge(ruleset, PacketClass("ipv6", 17, (53, 53)))
    assert udp.verdict == "conditional"  # UDP may also come to a multicast group
    group = PacketClass(
        "ipv6", 17, (5353, 5353), daddr=(0xFF02 << 112 | 0xFB, 0xFF02 << 112 | 0xFB)
    )
    assert judge(ruleset, group).verdict == "drop"
    unicast = Nft().table("inet", "f").chain("inet", "f", "fwd", hook="forward", policy="drop")
    unicast.rule("inet", "f", "fwd", match(local, {"set": ["unicast"]}), ACCEPT)
    routed = PacketClass("ipv6", 6, (22, 22), hook="forward")
    assert judge(unicast.read(), routed).verdict == "accept"
    not_local = Nft().table("inet", "f").chain("inet", "f", "fwd", hook="forward", policy="accept")
    not_local.rule("inet", "f", "fwd", match(local, "local"), DROP)
    assert judge(not_local.read(), routed).verdict == "accept"  # routed: never local
    # Sources from the network are unicast; loopback addresses are the host's own (local).
    src = {"fib": {"result": "type", "flags": ["saddr"]}}
    spoof = inet_input([match(src, "local"), DROP], [tcp_dport(22), ACCEPT])
    assert judge(spoof, SSH6).verdict == "accept"
    assert judge(spoof, PacketClass("ipv6", 6, (22, 22), saddr=(1, 1))).verdict == "drop"


def test_a_class_is_split_by_destination_type_when_a_chain_tells_them_apart() -> None:
    # ufw-not-local's shape: return for each delivered type in its own rule, drop the rest.
    fib = {"fib": {"result": "type", "flags": ["daddr"]}}
    nft = inet_input_nft([jump("not_local")], [match(payload("udp", "dport"), 53), ACCEPT])
    nft.chain("inet", "t", "not_local")
    for kind in ("local", "multicast"):
        nft.rule("inet", "t", "not_local", match(fib, kind), {"return": None})
    nft.rule("inet", "t", "not_local", DROP)
    ruleset = nft.read()
    dns = judge(ruleset, PacketClass("ipv6", 17, (53, 53)))
    assert dns.verdict == "accept" and dns.trace[-1].endswith("→ accept")
    assert judge(ruleset, PacketClass("ipv6", 17, (54, 54))).trace[-1].endswith("policy drop")
    # Without the multicast return, multicast packets are dropped in not_local: conditional.
    nft.objects = [o for o in nft.objects if "multicast" not in str(o)]
    assert judge(nft.read(), PacketClass("ipv6", 17, (53, 53))).verdict == "conditional"


def test_address_type_edges_the_review_found() -> None:
    fib = {"fib": {"result": "type", "flags": ["daddr"]}}
    # A verdict map keyed on the destination type splits the class as rules do.
    vmap = {"vmap": {"key": fib, "data": {"set": [["local", ACCEPT], ["multicast", ACCEPT]]}}}
    assert judge(inet_input([vmap]), PacketClass("ipv6", 17, (53, 53))).verdict == "accept"
    # A destination range may hold (subnet) broadcast addresses: not all local.
    broadcast = inet_input([match(fib, "broadcast"), ACCEPT])
    subnet = PacketClass("ipv4", 17, (137, 137), daddr=(0xC0A80100, 0xC0A801FF))
    assert judge(broadcast, subnet).verdict == "conditional"


def test_merged_parts_keep_a_drop_path() -> None:
    accept = Judgement("accept", ("a → accept",))
    partly = Judgement("conditional", ("b → accept",), ("b → drop",))
    merged = evaluate._merged([accept, partly])
    assert merged == Judgement("conditional", ("a → accept",), ("b → drop",))


def test_a_given_ipv4_destination_may_be_a_subnet_broadcast() -> None:
    from tests.conftest import make_snapshot
    from v6gap.firewall.sources import located

    fib = {"fib": {"result": "type", "flags": ["daddr"]}}
    ruleset = inet_input([match(fib, "local"), ACCEPT])

    def to(address: int, protocol: int = 17) -> PacketClass:
        return PacketClass("ipv4", protocol, (53, 53), daddr=(address, address))

    net = 0xC0000200  # 192.0.2.0
    assert judge(ruleset, to(net + 1)).verdict == "accept"  # never a broadcast address
    assert judge(ruleset, to(net + 63)).verdict == "conditional"  # of a /26, or a host's own
    assert judge(ruleset, to(net + 63, protocol=6)).verdict == "accept"  # TCP: never broadcast
    # The host's subnets decide: 192.0.2.63 is the broadcast of its /26.
    snapshot = make_snapshot(
        interfaces=[
            {
                "name": "eth0",
                "index": 2,
                "addresses": [
                    {"family": "ipv4", "address": "192.0.2.10", "prefixlen": 26, "scope": "global"}
                ],
            }
        ]
    )
    placed = located(ruleset, snapshot)
    assert placed.broadcast == frozenset({("ipv4", (net + 63, net + 63))})
    assert judge(placed, to(net + 63)).verdict == "drop"
    assert judge(placed, to(net + 10)).verdict == "accept"
