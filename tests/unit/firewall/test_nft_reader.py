"""nft JSON reader: recorded rulesets, each expression kind, and hostile input."""

from __future__ import annotations

import json

import pytest

from tests.unit.firewall.rulesets import (
    ACCEPT,
    CASES,
    CT_STATE,
    FIXTURES,
    Nft,
    inet_input,
    match,
    meta,
    payload,
    tcp_dport,
)
from v6gap.errors import RulesetError
from v6gap.firewall import _nft_rules, nft
from v6gap.firewall.model import (
    AddrMatch,
    AddrTypeMatch,
    AnyOf,
    CtStateMatch,
    FamilyMatch,
    IcmpTypeMatch,
    IfaceMatch,
    PortMatch,
    ProtoMatch,
    Rules,
    Ruleset,
    Unknown,
)
from v6gap.firewall.nft import read_nft


def _read(case: str) -> Ruleset:
    return read_nft((FIXTURES / case / "nft.json").read_text())


@pytest.mark.parametrize("case", CASES)
def test_every_recorded_dump_reads(case: str) -> None:
    ruleset = _read(case)
    assert all(t.source == nft.SOURCE for t in ruleset.tables)
    assert ruleset.rule_count >= 0


def test_seed_option2_chains_and_matches() -> None:
    ruleset = _read("seed-option2")
    (table,) = ruleset.tables
    chain = table.chain("input")
    assert chain is not None and chain.hook == "input" and chain.policy == "drop"
    assert chain.priority == 0 and chain.is_base
    assert table.chain("ra_guard") is not None and not table.chain("ra_guard").is_base  # type: ignore[union-attr]
    first, _, lo, icmp4, icmp4_limited = chain.rules[:5]
    assert first.matches == (CtStateMatch(frozenset({"established", "related"})),)
    assert lo.matches == (IfaceMatch("iif", ("lo",)),)
    assert ProtoMatch(frozenset({1}), False, "ip protocol") in icmp4.matches
    assert IcmpTypeMatch("ipv4", ((0, 0), (3, 3), (8, 8), (11, 11))) in icmp4.matches
    assert icmp4_limited.limit == "10/second burst 20 packets"
    ssh = next(r for r in chain.rules if r.comment == "SSH")
    assert ssh.matches == (PortMatch("dport", frozenset({6}), ((22, 22),)),)
    assert ssh.verdict.kind == "accept"
    assert "inet filter chain input handle" in str(ssh.origin)
    logged = chain.rules[-2]
    assert logged.log and logged.limit and logged.verdict.kind == "continue"
    ra = next(r for r in chain.rules if any(isinstance(m, AddrMatch) for m in r.matches))
    addr = next(m for m in ra.matches if isinstance(m, AddrMatch))
    assert addr.field == "saddr" and addr.text == "fe80::/10" and addr.family == "ipv6"
    assert FamilyMatch(frozenset({"ipv6"})) in ra.matches
    assert table.sets[0].name == "icmpv6_meter"


def test_iptables_nft_tables_are_flagged_and_xt_is_unknown() -> None:
    ruleset = _read("v4-ssh-only-v6-empty")
    (table,) = ruleset.tables
    assert table.xt
    assert any("iptables-nft" in n for n in ruleset.notes)
    conntrack = table.chain("INPUT").rules[1]  # type: ignore[union-attr]
    assert conntrack.matches == (Unknown("xt match conntrack"),)


def test_docker_named_verdict_map_resolves_to_jumps() -> None:
    ruleset = _read("docker-published-port-nft")
    table = next(t for t in ruleset.tables if t.family == "ip6")
    forward = table.chain("filter-FORWARD")
    assert forward is not None
    vmap = next(r.verdict for r in forward.rules if r.verdict.kind == "vmap")
    (entry,) = vmap.entries
    assert entry[0] == (IfaceMatch("oif", ("br-dummy",)),)
    assert entry[1].kind == "jump" and entry[1].target == "filter-forward-in__br-dummy"


def test_kube_proxy_concatenations_become_alternatives() -> None:
    ruleset = _read("kube-proxy-nft-ip6")
    (table,) = ruleset.tables
    services = table.chain("services")
    assert services is not None
    vmap = services.rules[0].verdict
    assert vmap.kind == "vmap"
    ((when, verdict),) = vmap.entries
    (concat,) = when
    assert isinstance(concat, AnyOf)
    kinds = {type(m) for m in concat.alternatives[0]}
    assert {AddrMatch, ProtoMatch, PortMatch} <= kinds
    assert verdict.kind == "goto"
    numgen = table.chain("service-ULMVA6XW-ns1/svc1/tcp/p80")
    assert numgen is not None
    assert all(isinstance(w[0], Unknown) for w, _ in numgen.rules[0].verdict.entries)


def test_anonymous_sets_ranges_and_negation() -> None:
    ruleset = (
        Nft()
        .table("inet", "t")
        .chain("inet", "t", "input", "input")
        .rule(
            "inet", "t", "input", tcp_dport({"set": [22, {"range": [1000, 2000]}, "https"]}), ACCEPT
        )
        .rule("inet", "t", "input", match(payload("udp", "dport"), 1024, "<"), ACCEPT)
        .rule("inet", "t", "input", match(meta("iifname"), "eth*", "!="), ACCEPT)
        .rule("inet", "t", "input", match(meta("l4proto"), {"set": ["tcp", "udp"]}), ACCEPT)
        .rule("inet", "t", "input", match(CT_STATE, ["new", "untracked"]), ACCEPT)
        .rule("inet", "t", "input", match(meta("nfproto"), "ipv6", "!="), ACCEPT)
        .read()
    )
    rules = ruleset.tables[0].chains[0].rules
    assert rules[0].matches == (
        PortMatch("dport", frozenset({6}), ((22, 22), (1000, 2000), (443, 443))),
    )
    assert rules[1].matches == (PortMatch("dport", frozenset({17}), ((0, 1023),)),)
    assert rules[2].matches == (IfaceMatch("iif", ("eth*",), negate=True),)
    assert rules[3].matches == (ProtoMatch(frozenset({6, 17})),)
    assert rules[4].matches == (CtStateMatch(frozenset({"new", "untracked"})),)
    assert rules[5].matches == (FamilyMatch(frozenset({"ipv4"})),)


def test_named_sets_resolve_and_dynamic_sets_stay_unknown() -> None:
    ruleset = (
        Nft()
        .table("ip6", "t")
        .add(
            {
                "set": {
                    "family": "ip6",
                    "table": "t",
                    "name": "ok",
                    "type": "ipv6_addr",
                    "flags": ["interval"],
                    "elem": [{"prefix": {"addr": "2001:db8::", "len": 32}}],
                }
            }
        )
        .add(
            {
                "set": {
                    "family": "ip6",
                    "table": "t",
                    "name": "meter",
                    "type": "ipv6_addr",
                    "flags": ["dynamic"],
                }
            }
        )
        .chain("ip6", "t", "input", "input")
        .rule("ip6", "t", "input", match(payload("ip6", "saddr"), "@ok"), ACCEPT)
        .rule("ip6", "t", "input", match(payload("ip6", "saddr"), "@meter"), ACCEPT)
        .rule("ip6", "t", "input", match(payload("ip6", "saddr"), "@missing"), ACCEPT)
        .read()
    )
    ok, meter, missing = ruleset.tables[0].chains[0].rules
    addr = ok.matches[1]
    assert isinstance(addr, AddrMatch) and addr.ranges[0][0] == 0x20010DB8 << 96
    assert isinstance(meter.matches[0], Unknown) and isinstance(missing.matches[0], Unknown)


def test_unknown_expressions_are_kept_not_dropped() -> None:
    ruleset = (
        Nft()
        .table("inet", "t")
        .chain("inet", "t", "input", "input")
        .rule(
            "inet",
            "t",
            "input",
            match({"fib": {"result": "type", "flags": ["daddr", "iif"]}}, "local"),
            ACCEPT,
        )
        .rule("inet", "t", "input", {"frobnicate": {}}, ACCEPT)
        .rule("inet", "t", "input", match(payload("tcp", "flags"), "syn", "&"), ACCEPT)
        .rule("inet", "t", "input", {"queue": {"num": 1}})
        .read()
    )
    rules = ruleset.tables[0].chains[0].rules
    for rule in rules[:3]:
        assert isinstance(rule.matches[0], Unknown) and rule.matches[0].raw
    assert rules[3].verdict.kind == "other"


def test_netdev_and_bridge_tables_are_reported() -> None:
    ruleset = Nft().table("netdev", "ingress").table("bridge", "br").read()
    assert {t.family for t in ruleset.tables} == {"netdev", "bridge"}
    assert all(not t.families for t in ruleset.tables)
    assert sum("not judged" in n for n in ruleset.notes) == 2


def test_concat_set_lookup_in_a_match() -> None:
    key = {"concat": [payload("ip", "saddr"), payload("tcp", "dport")]}
    elems = {
        "set": [
            {"concat": ["192.0.2.1", 22]},
            {"concat": [{"prefix": {"addr": "198.51.100.0", "len": 24}}, 80]},
        ]
    }
    ruleset = (
        Nft()
        .table("ip", "t")
        .chain("ip", "t", "input", "input")
        .rule("ip", "t", "input", match(key, elems), ACCEPT)
        .read()
    )
    (found,) = ruleset.tables[0].chains[0].rules[0].matches
    assert isinstance(found, AnyOf) and len(found.alternatives) == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not JSON"),
        ("[]", "no 'nftables' list"),
        ('{"nftables": 3}', "no 'nftables' list"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ],
)
def test_malformed_dumps_raise_one_line_errors(text: str, message: str) -> None:
    with pytest.raises(RulesetError, match=message) as info:
        read_nft(text)
    assert "\n" not in str(info.value)


def test_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nft, "MAX_JSON_CHARS", 50)
    with pytest.raises(RulesetError, match="larger than"):
        read_nft(json.dumps({"nftables": [{"table": {"family": "ip", "name": "x" * 60}}]}))
    monkeypatch.setattr(nft, "MAX_JSON_CHARS", 1 << 20)
    monkeypatch.setattr(nft, "MAX_OBJECTS", 2)
    with pytest.raises(RulesetError, match="more than 2 objects"):
        read_nft(json.dumps({"nftables": [{}, {}, {}]}))


def test_deep_or_huge_rules_become_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    deep: object = 1
    for _ in range(100):
        deep = {"set": [deep]}
    nested = Nft().table("ip", "t").chain("ip", "t", "input", "input")
    nested.rule("ip", "t", "input", tcp_dport(deep), ACCEPT)
    rule = nested.read().tables[0].chains[0].rules[0]
    assert isinstance(rule.matches[0], Unknown) and rule.verdict.kind == "accept"
    # Deeper than Python's own recursion can follow (json.loads takes ~1000 levels): the match
    # is kept as unknown, its text cut short, never a crash.
    deeper = Nft().table("ip", "t").chain("ip", "t", "input", "input")
    deeper.rule("ip", "t", "input", tcp_dport("DEEP"), ACCEPT)
    text = deeper.text().replace('"DEEP"', '{"set": [' * 400 + "1" + "]}" * 400)
    (match,) = read_nft(text).tables[0].chains[0].rules[0].matches
    assert isinstance(match, Unknown) and len(match.raw) <= _nft_rules.RAW_CHARS
    monkeypatch.setattr(_nft_rules, "MAX_ELEMENTS", 3)
    big = Nft().table("ip", "t").chain("ip", "t", "input", "input")
    big.rule("ip", "t", "input", tcp_dport({"set": [1, 2, 3, 4, 5]}), ACCEPT)
    assert isinstance(big.read().tables[0].chains[0].rules[0].matches[0], Unknown)


# As `nft -j list ruleset` printed them (nftables 1.0.6): rt type 0, exthdr frag exists, the
# IPv4 later-fragment idiom, firewalld's reverse-path filter, and an accept on a header.
FIB_RPF = match({"fib": {"result": "oif", "flags": ["saddr", "mark", "iif"]}}, False)
RT0 = match({"exthdr": {"name": "rt", "field": "type"}}, 0)
FRAG = match({"exthdr": {"name": "frag"}}, True)
LATER_FRAGMENT = match({"&": [payload("ip", "frag-off"), 8191]}, 0, "!=")
HBH = match({"exthdr": {"name": "hbh"}}, True)
DROP_STATEMENT = {"drop": None}


def test_drops_of_packets_the_engine_does_not_judge_never_hold() -> None:
    nft = Nft().table("inet", "t").chain("inet", "t", "pre", "prerouting")
    for statement in (FIB_RPF, RT0, FRAG, LATER_FRAGMENT):
        nft.rule("inet", "t", "pre", statement, DROP_STATEMENT)
    nft.rule("inet", "t", "pre", HBH, ACCEPT)
    nft.rule("inet", "t", "pre", match({"exthdr": {"name": "hbh"}}, False), DROP_STATEMENT)
    *drops, accept, missing = nft.read().tables[0].chains[0].rules
    texts = []
    for rule in drops:
        (never,) = rule.matches
        assert isinstance(never, AnyOf) and never.alternatives == ()
        texts.append(never.text.split(": never holds: ")[1].split(";")[0])
    assert texts == [
        "only packets from sources not routed back through their input interface (spoofed)",
        *["only packets with this IPv6 extension header or later fragments"] * 3,
    ]
    # Accepting on a header lets in packets the engine does not judge: that stays unknown, as
    # does a match on a header's absence (true for the judged packets, not modelled).
    assert isinstance(accept.matches[0], Unknown) and "extension header" in accept.matches[0].raw
    assert isinstance(missing.matches[0], Unknown)


def test_rules_are_built_when_first_read_and_flags_come_first() -> None:
    ruleset = _read("kube-proxy-nft-ip6")
    chains = [c for t in ruleset.tables for c in t.chains]
    assert chains and all(isinstance(c.rules, Rules) and not c.rules.is_built for c in chains)
    assert ruleset.rule_count == sum(len(c.rules.built()) for c in chains)  # type: ignore[union-attr]
    # A table's own facts are read without building its rules: which ones iptables-nft wrote,
    # and which match ct status (firewalld's `ct status dnat`, settled against the whole ruleset).
    assert not any(t.xt or t.ct_status for t in ruleset.tables)
    firewalld = read_nft((FIXTURES / "real-tools" / "firewalld-default" / "nft.json").read_text())
    assert [t.name for t in firewalld.tables if t.ct_status] == ["firewalld"]
    assert _read("v4-ssh-only-v6-empty").tables[0].xt


def test_fib_address_type_is_understood() -> None:
    fib = {"fib": {"result": "type", "flags": ["daddr"]}}
    ruleset = inet_input(
        [match(fib, "local"), ACCEPT],
        [
            match(
                {"fib": {"result": "type", "flags": ["saddr"]}},
                {"set": ["local", "multicast"]},
                "!=",
            ),
            ACCEPT,
        ],
        [match({"fib": {"result": "type", "flags": ["daddr", "iif"]}}, "local"), ACCEPT],
    )
    first, second, third = ruleset.tables[0].chains[0].rules
    assert first.matches == (AddrTypeMatch("daddr", frozenset({"local"})),)
    assert second.matches == (AddrTypeMatch("saddr", frozenset({"local", "multicast"}), True),)
    assert isinstance(third.matches[0], Unknown)  # the lookup on an interface is not modelled


def test_destination_rewrites_are_noted() -> None:
    nft = Nft().table("ip", "nat").chain("ip", "nat", "pre", "prerouting")
    nft.rule("ip", "nat", "pre", tcp_dport(8080), {"dnat": {"addr": "192.0.2.2", "port": 80}})
    nft.rule("ip", "nat", "pre", match({"ct": {"key": "status"}}, "dnat"), ACCEPT)  # not one
    (note,) = nft.read().notes
    assert note.startswith("nft -j list ruleset: table ip nat rewrites destinations in 1 rule")
    assert "(first: chain pre handle 1)" in note
