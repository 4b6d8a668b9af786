"""The forward path's default (FW-12's engine question) on hand-written and real rulesets."""

from __future__ import annotations

import dataclasses
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.unit.firewall.rulesets import (
    ACCEPT,
    CT_STATE,
    DROP,
    FIXTURES,
    Nft,
    match,
    meta,
    payload,
    tcp_dport,
)
from tests.unit.firewall.test_properties import reference, rulesets
from v6gap.firewall.evaluate import PacketClass, judge
from v6gap.firewall.forward import forward_default
from v6gap.firewall.iptables import read_save
from v6gap.firewall.model import Ruleset, Table


def _forward(*rules: list[dict[str, Any]], policy: str = "drop") -> Ruleset:
    nft = Nft().table("inet", "t").chain("inet", "t", "forward", "forward", 0, policy)
    for expr in rules:
        nft.rule("inet", "t", "forward", *expr)
    return nft.read()


def _docker(policy: str) -> Ruleset:
    """Docker's published-port ip6tables ruleset, with the FORWARD policy Docker may set."""
    text = (FIXTURES / "docker-published-port-iptables" / "ip6tables-save.txt").read_text()
    return read_save(text.replace(":FORWARD ACCEPT", f":FORWARD {policy}"), "ip6tables-save")


def test_accepts_for_named_interfaces_and_addresses_are_an_allow_list() -> None:
    ruleset = _forward(
        [match(CT_STATE, ["established", "related"]), ACCEPT],
        [match(meta("iifname"), "lan0"), ACCEPT],
        [match(payload("ip6", "daddr"), "2001:db8:5::/64"), tcp_dport(443), ACCEPT],
    )
    found = forward_default(ruleset)
    assert found.verdict == "deny", found.evidence()
    assert all(r.trace[-1].endswith("policy drop") for r in found.rows)


def test_drops_for_named_interfaces_under_an_accept_policy_are_not_a_default_deny() -> None:
    ruleset = _forward(
        [match(meta("iifname"), "wan0"), DROP],
        [match(payload("ip6", "saddr"), "2001:db8:bad::/48"), DROP],
        policy="accept",
    )
    found = forward_default(ruleset)
    assert found.verdict == "accept"
    assert {r.describe() for r in found.accepted} >= {"tcp 0-65535", "udp 0-65535"}


def test_rules_that_single_traffic_out_are_allowed_not_the_default() -> None:
    found = forward_default(
        _forward(
            [match(CT_STATE, ["established", "related"]), ACCEPT],
            [tcp_dport(22), ACCEPT],
            [match(meta("l4proto"), "ipv6-icmp"), ACCEPT],  # FW-12's own remediation does this
        )
    )
    assert found.verdict == "deny"
    assert [r.describe() for r in found.allowed] == ["tcp 22", "icmpv6 type 0-255"]
    assert (
        found.evidence()[1] == "accepted by rules that single them out: tcp 22, icmpv6 type 0-255"
    )


def test_blanket_accepts_are_the_default() -> None:
    new = forward_default(_forward([match(CT_STATE, "new"), ACCEPT]))
    assert new.verdict == "accept" and not new.allowed
    limit = {"limit": {"rate": 10, "per": "second"}}
    limited = forward_default(_forward([limit, ACCEPT]))
    assert limited.verdict == "accept"
    assert {r.verdict for r in limited.defaulted} == {"conditional"}
    icmp = forward_default(_forward([match(meta("l4proto"), "ipv6-icmp"), limit, ACCEPT]))
    assert icmp.verdict == "deny" and {r.proto for r in icmp.allowed} == {"icmpv6"}


def test_an_explicit_accept_in_any_base_chain_is_an_allowance() -> None:
    nft = Nft().table("inet", "t").chain("inet", "t", "open", "forward", -10, "accept")
    nft.chain("inet", "t", "shut", "forward", 0, "drop").rule(
        "inet", "t", "shut", tcp_dport(443), ACCEPT
    )
    found = forward_default(nft.read())
    assert found.verdict == "deny" and [r.describe() for r in found.allowed] == ["tcp 443"]
    nft.chain("inet", "t", "late", "forward", 10, "accept")
    assert forward_default(nft.read()).verdict == "deny"  # every class still meets "shut"


def test_a_rule_the_engine_does_not_understand_is_unknown() -> None:
    found = forward_default(_forward([match({"socket": {"key": "transparent"}}, 1), ACCEPT]))
    assert found.verdict == "unknown" and found.undecided


def test_docker_forward_chains_follow_the_forward_policy() -> None:
    assert forward_default(_docker("DROP")).verdict == "deny"
    accepted = forward_default(_docker("ACCEPT"))
    assert accepted.verdict == "accept"
    assert any("*filter FORWARD: policy accept" in step for step in accepted.accepted[0].trace)


def test_prerouting_drops_count_on_the_forward_and_the_input_path() -> None:
    # Packets to the host cross prerouting before input (the differential lab test proves it).
    nft = (
        Nft()
        .table("inet", "t")
        .chain("inet", "t", "pre", "prerouting", -300)
        .rule("inet", "t", "pre", tcp_dport(23), DROP)
    )
    ruleset = nft.read()
    assert [r.describe() for r in forward_default(ruleset).rows if r.verdict == "drop"] == [
        "tcp 23"
    ]
    found = judge(ruleset, PacketClass("ipv6", 6, (23, 23)))
    assert found.verdict == "drop" and found.trace[-1].endswith("chain pre handle 1 → drop")
    assert judge(ruleset, PacketClass("ipv6", 6, (22, 22))).verdict == "accept"


def test_output_interface_matches_decide_on_the_forward_hook() -> None:
    ruleset = _forward([match(meta("oifname"), "dmz0"), ACCEPT])
    to_dmz = PacketClass("ipv6", 6, (80, 80), hook="forward", iif="x", oif="dmz0")
    assert judge(ruleset, to_dmz).verdict == "accept"
    assert judge(ruleset, PacketClass("ipv6", 6, (80, 80), hook="forward")).verdict == (
        "conditional"
    )
    assert forward_default(ruleset).verdict == "deny"


def test_explain_takes_the_destination_address() -> None:
    from v6gap.firewall.parity import explain

    web = Nft().table("inet", "t").chain("inet", "t", "input", "input", 0, "drop")
    web.rule("inet", "t", "input", match(payload("ip6", "daddr"), "2001:db8:2::2"), ACCEPT)
    ruleset = web.read()
    assert explain(ruleset, "ipv6", 6, 80).verdict == "conditional"  # the host's address: unknown
    assert explain(ruleset, "ipv6", 6, 80, daddr="2001:db8:2::2").verdict == "accept"
    assert explain(ruleset, "ipv6", 6, 80, daddr="2001:db8:1::2").verdict == "drop"


def test_no_output_interface_before_routing_or_for_local_delivery() -> None:
    # The kernel compares index 0 / an empty name where there is no output device: a
    # prerouting "oif eth1 drop" drops nothing (found by the forward differential lab test),
    # "oifname != eth1 drop" drops everything (seen in a lab namespace, input and prerouting).
    nft = Nft().table("ip", "t").chain("ip", "t", "pre", "prerouting", -150)
    nft.rule("ip", "t", "pre", match(meta("oif"), "eth1"), DROP)
    routed = PacketClass("ipv4", 6, (22, 22), iif="eth0", hook="forward", oif="eth1")
    assert judge(nft.read(), routed).verdict == "accept"
    negated = Nft().table("ip", "t").chain("ip", "t", "pre", "prerouting", -150)
    negated.rule("ip", "t", "pre", match(meta("oifname"), "eth1", "!="), DROP)
    assert judge(negated.read(), routed).verdict == "drop"
    local = Nft().table("ip", "t").chain("ip", "t", "input", "input", 0)
    local.rule("ip", "t", "input", match(meta("oif"), "x", "!="), DROP)
    assert judge(local.read(), PacketClass("ipv4", 6, (22, 22), iif="eth0")).verdict == "drop"
    forward = nft.chain("ip", "t", "fwd", "forward", 0).rule(
        "ip", "t", "fwd", match(meta("oif"), "eth1"), DROP
    )
    assert judge(forward.read(), routed).verdict == "drop"


def test_a_jump_that_singles_traffic_out_makes_its_chain_an_allowance() -> None:
    nft = Nft().table("inet", "t").chain("inet", "t", "web").rule("inet", "t", "web", ACCEPT)
    nft.chain("inet", "t", "forward", "forward", 0, "drop")
    nft.rule("inet", "t", "forward", tcp_dport(443), {"jump": {"target": "web"}})
    found = forward_default(nft.read())
    assert found.verdict == "deny" and [r.describe() for r in found.allowed] == ["tcp 443"]
    blanket = Nft().table("inet", "t").chain("inet", "t", "web").rule("inet", "t", "web", ACCEPT)
    blanket.chain("inet", "t", "forward", "forward", 0, "drop")
    blanket.rule("inet", "t", "forward", {"jump": {"target": "web"}})
    assert forward_default(blanket.read()).verdict == "accept"


def _to_forward(table: Table) -> Table:
    chains = tuple(dataclasses.replace(c, hook="forward") if c.hook else c for c in table.chains)
    return dataclasses.replace(table, chains=chains)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rulesets(), st.sampled_from([6, 17]), st.sampled_from(["ipv4", "ipv6"]))
def test_forward_rows_agree_with_one_packet_at_a_time(
    ruleset: Ruleset, proto: int, family: str
) -> None:
    # The generated input-hook rulesets, moved to the forward hook: every row must tile the
    # port space and give the reference's verdict for a packet of that row from the unnamed
    # source on the unnamed interface.
    forwarded = Ruleset(tuple(_to_forward(t) for t in ruleset.tables))
    found = forward_default(forwarded, family)
    assume(found.source is not None)
    assert found.source is not None
    rows = [r for r in found.rows if r.proto == {6: "tcp", 17: "udp"}[proto]]
    spans = [r.span for r in rows if r.span is not None]
    assert len(spans) == len(rows) and spans[0][0] == 0 and spans[-1][1] == 65535
    assert all(a[1] + 1 == b[0] for a, b in zip(spans, spans[1:]))
    for row, (low, high) in zip(rows, spans):
        for port in {low, high}:
            packet = {
                "family": family,
                "proto": proto,
                "dport": port,
                "icmp": 0,
                "saddr": found.source[0],
                "iif": found.interface,
            }
            assert row.verdict == reference(ruleset, packet), (row, port)
