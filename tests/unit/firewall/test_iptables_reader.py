"""iptables-save reader: recorded dumps, the common modules, unknown modules, bad input."""

from __future__ import annotations

import pytest

from tests.unit.firewall.rulesets import CASES, FIXTURES
from v6gap.errors import RulesetError
from v6gap.firewall._save_words import split_line
from v6gap.firewall.iptables import read_save
from v6gap.firewall.model import (
    AddrMatch,
    AddrTypeMatch,
    AnyOf,
    CtStateMatch,
    HopLimitMatch,
    IcmpTypeMatch,
    IfaceMatch,
    PortMatch,
    ProtoMatch,
    Rule,
    Rules,
    Unknown,
)
from v6gap.firewall.parity import explain, parity

SAVES = [
    (case, f.name.removesuffix(".txt"))
    for case in CASES
    for f in sorted((FIXTURES / case).glob("*save.txt"))
    if f.read_text().strip()
]


@pytest.mark.parametrize(("case", "command"), SAVES)
def test_every_recorded_dump_reads(case: str, command: str) -> None:
    ruleset = read_save((FIXTURES / case / f"{command}.txt").read_text(), command)
    family = "ip6" if command.startswith("ip6") else "ip"
    assert ruleset.tables and all(t.family == family for t in ruleset.tables)


def test_v4_ssh_only() -> None:
    text = (FIXTURES / "v4-ssh-only-v6-empty" / "iptables-save.txt").read_text()
    (table,) = read_save(text, "iptables-save").tables
    chain = table.chain("INPUT")
    assert chain is not None and chain.policy == "drop" and chain.hook == "input"
    lo, ct, ssh = chain.rules
    assert lo.matches == (IfaceMatch("iif", ("lo",)),)
    assert ct.matches == (CtStateMatch(frozenset({"related", "established"})),)
    assert ssh.matches == (
        ProtoMatch(frozenset({6}), False, "-p"),
        PortMatch("dport", frozenset({6}), ((22, 22),)),
    )
    assert ssh.verdict.kind == "accept"
    assert ssh.origin.ref.startswith("line 8: -A INPUT -p tcp")


def test_docker_raw_prerouting_drop_is_noted() -> None:
    text = (FIXTURES / "sources" / "published-port-nat-icc-off__ip6tables.rules").read_text()
    ruleset = read_save(text, "ip6tables-save")
    assert any("raw PREROUTING drops" in n for n in ruleset.notes)
    filter_table = next(t for t in ruleset.tables if t.name == "filter")
    assert any(not c.is_base for c in filter_table.chains)
    nat = next(t for t in ruleset.tables if t.name == "nat")
    assert all(c.type == "nat" for c in nat.chains)


def _one(rule_text: str, command: str = "ip6tables-save") -> Rule:
    text = f"*filter\n:INPUT DROP [0:0]\n:USER - [0:0]\n-A INPUT {rule_text}\nCOMMIT\n"
    (table,) = read_save(text, command).tables
    return table.chain("INPUT").rules[0]  # type: ignore[union-attr]


def test_common_modules() -> None:
    rule = _one(
        "-s 2001:db8::/32,fe80::/10 ! -i eth0 -p udp -m multiport --dports 53,1000:2000 -j USER"
    )
    addr, iface, proto, ports = rule.matches
    assert isinstance(addr, AddrMatch) and len(addr.ranges) == 2 and addr.field == "saddr"
    assert iface == IfaceMatch("iif", ("eth0",), negate=True)
    assert proto == ProtoMatch(frozenset({17}), False, "-p")
    assert ports == PortMatch("dport", frozenset({17}), ((53, 53), (1000, 2000)))
    assert rule.verdict.kind == "jump" and rule.verdict.target == "USER"
    icmp = _one(
        "-p ipv6-icmp -m icmp6 --icmpv6-type neighbour-solicitation "
        '-m comment --comment "NS x" -j ACCEPT'
    )
    assert IcmpTypeMatch("ipv6", ((135, 135),)) in icmp.matches and icmp.comment == "NS x"
    limited = _one('-m limit --limit 5/min --limit-burst 10 -j LOG --log-prefix "x: "')
    assert limited.limit == "5/min burst 10" and limited.log and limited.verdict.kind == "continue"
    state = _one("-m state ! --state NEW -j DROP")
    assert state.matches == (CtStateMatch(frozenset({"new"}), negate=True),)
    reject = _one("-p tcp ! --dport 22 -j REJECT --reject-with tcp-reset")
    assert reject.verdict.kind == "reject" and "tcp-reset" in reject.verdict.detail
    assert PortMatch("dport", frozenset({6}), ((22, 22),), negate=True) in reject.matches
    wildcard = _one("-i veth+ -j RETURN")
    assert (
        wildcard.matches == (IfaceMatch("iif", ("veth*",)),) and wildcard.verdict.kind == "return"
    )
    goto = _one("-g USER")
    assert goto.verdict.kind == "goto"


def test_unknown_modules_and_targets_are_kept() -> None:
    rule = _one(
        "-m addrtype --dst-type LOCAL --limit-iface-in -m set --match-set blocked src -p tcp "
        "--syn -j DNAT --to 1"
    )
    unknown = [m for m in rule.matches if isinstance(m, Unknown)]
    assert [u.raw for u in unknown] == [
        "-m addrtype --dst-type LOCAL --limit-iface-in",
        "-m set --match-set blocked src",
        "--syn",
    ]
    assert rule.verdict.kind == "other" and "DNAT" in rule.verdict.detail
    bad = _one("-p tcp -m tcp --dport notaport -j ACCEPT")
    assert isinstance(bad.matches[-1], Unknown)
    assert isinstance(_one("-p frobnicate -j ACCEPT").matches[0], Unknown)


@pytest.mark.parametrize(
    ("rule_text", "command", "expected"),
    [
        ("-p ipv6-icmp -m hl --hl-eq 255 -j ACCEPT", "ip6tables-save", ((255, 255),)),
        ("-m hl --hl-lt 2 -j DROP", "ip6tables-save", ((0, 1),)),
        ("-m hl --hl-gt 254 -j DROP", "ip6tables-save", ((255, 255),)),
        ("-m ttl --ttl-eq 1 -j DROP", "iptables-save", ((1, 1),)),
        ("-m hl --hl-gt 255 -j DROP", "ip6tables-save", ()),  # never holds
    ],
)
def test_hop_limit_and_ttl(rule_text: str, command: str, expected: tuple[object, ...]) -> None:
    family = "ipv6" if command.startswith("ip6") else "ipv4"
    (found,) = [m for m in _one(rule_text, command).matches if isinstance(m, HopLimitMatch)]
    assert found == HopLimitMatch(family, expected)  # type: ignore[arg-type]
    negated = _one("-m hl ! --hl-eq 255 -j DROP").matches
    assert negated == (HopLimitMatch("ipv6", ((255, 255),), negate=True),)
    for odd in ("-m hl --hl-eq x -j DROP", "-m ttl --hl-eq 1 -j DROP", "-m hl --hl-eq 256 -j DROP"):
        assert isinstance(_one(odd).matches[0], Unknown), odd


def test_extension_headers_never_hold_in_drops_and_stay_unknown_elsewhere() -> None:
    drop = _one("-m rt --rt-type 0 -j DROP")
    (never,) = drop.matches
    assert isinstance(never, AnyOf) and never.alternatives == ()
    assert never.text.startswith("-m rt --rt-type 0: never holds: only packets with this IPv6")
    reject = _one("-p udp -m frag --fragmore -j REJECT")
    assert isinstance(reject.matches[-1], AnyOf)
    assert isinstance(_one("-f -j DROP", "iptables-save").matches[0], AnyOf)
    # Accepting (or jumping) on an extension header decides packets the engine does not judge.
    for kept in ("-m rt --rt-type 0 -j ACCEPT", "-m hbh -j USER", "-m dst -j ACCEPT"):
        (match,) = _one(kept).matches
        assert isinstance(match, Unknown) and "extension header" in match.raw, kept
    assert _one("! -f -j DROP", "iptables-save").matches == (Unknown("! -f"),)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-A INPUT -j ACCEPT\n", "outside a table"),
        ("*filter\n-A NOPE -j ACCEPT\nCOMMIT\n", "undeclared chain"),
        ('*filter\n:INPUT ACCEPT\n-A INPUT -m comment --comment "x\nCOMMIT\n', "unbalanced quotes"),
        ("*filter\n:INPUT ACCEPT\n-A INPUT -p\nCOMMIT\n", "line 3: an option without its value"),
        # in a chain no question reads (its rules are built lazily): still an error at once
        ("*nat\n:KUBE-X - [0:0]\n-A KUBE-X -p tcp -j\nCOMMIT\n", "line 3: an option without"),
        ("*nat\n:KUBE-X - [0:0]\n-A KUBE-X -p tcp !\nCOMMIT\n", "line 3: an option without"),
        ("*filter\n:\nCOMMIT\n", "a chain without a name"),
    ],
)
def test_bad_dumps_raise_one_line_errors(text: str, message: str) -> None:
    with pytest.raises(RulesetError, match=message) as info:
        read_save(text, "iptables-save")
    assert "\n" not in str(info.value)


def test_truncated_dump_is_noted() -> None:
    ruleset = read_save("*filter\n:INPUT DROP [0:0]\n", "iptables-save")
    assert ruleset.tables[0].chain("INPUT") is not None
    assert any("no COMMIT" in n for n in ruleset.notes)


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("-A INPUT -j ACCEPT", ["-A", "INPUT", "-j", "ACCEPT"]),
        (
            '-A INPUT -m comment --comment "a b" -j X',
            ["-A", "INPUT", "-m", "comment", "--comment", "a b", "-j", "X"],
        ),
        (r'--comment "say \"hi\" \\ now"', ["--comment", 'say "hi" \\ now']),
        ('--comment ""', ["--comment", ""]),
    ],
)
def test_split_line_reads_save_quoting(line: str, words: list[str]) -> None:
    assert split_line(line) == words


def test_split_line_is_linear_on_hostile_quotes() -> None:
    with pytest.raises(ValueError):
        split_line("a" * 100_000 + '"')


LAZY_DUMP = """*nat
:PREROUTING ACCEPT [0:0]
:KUBE-SEP-A - [0:0]
-A PREROUTING -j KUBE-SEP-A
-A KUBE-SEP-A -p tcp -m comment --comment "ns/svc" -m tcp -j DNAT --to-destination 10.1.2.3:80
-A KUBE-SEP-A -m comment --comment "a b" -j ACCEPT
COMMIT
*filter
:INPUT DROP [0:0]
-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
COMMIT
"""


def test_rules_are_built_when_first_read_and_parity_never_reads_nat() -> None:
    ruleset = read_save(LAZY_DUMP, "iptables-save")
    nat, filter_ = ruleset.tables
    sep = nat.chain("KUBE-SEP-A")
    assert sep is not None and isinstance(sep.rules, Rules)
    assert len(sep.rules) == 2 and not sep.rules.is_built  # counted without building
    assert ruleset.rule_count == 4
    parity(ruleset)
    inp = filter_.chain("INPUT")
    assert inp is not None and isinstance(inp.rules, Rules) and inp.rules.is_built
    assert not sep.rules.is_built  # nat chains decide no filter verdict
    # Built on demand, they are what reading them at once gives, line numbers included.
    first, second = sep.rules
    assert first.verdict.kind == "other" and "DNAT" in first.verdict.detail
    assert first.origin.ref.startswith("line 5: -A KUBE-SEP-A")
    assert second.comment == "a b" and second.verdict.kind == "accept"
    assert sep.rules == (first, second) and sep.rules[1:] == (second,)
    assert hash(sep.rules) == hash((first, second))


def test_iprange_and_addrtype_are_understood() -> None:
    v4 = "iptables-save"
    (src,) = _one("-m iprange --src-range 10.0.0.1-10.0.0.9 -j ACCEPT", v4).matches
    assert src == AddrMatch("saddr", "ipv4", ((0x0A000001, 0x0A000009),), "10.0.0.1-10.0.0.9")
    (dst,) = _one("-m iprange ! --dst-range 2001:db8::1-2001:db8::ff -j DROP").matches
    assert isinstance(dst, AddrMatch) and dst.field == "daddr" and dst.negate
    assert dst.ranges == (((0x20010DB8 << 96) + 1, (0x20010DB8 << 96) + 0xFF),)
    local, proto = _one("-m addrtype --dst-type LOCAL -p tcp -j ACCEPT", v4).matches
    assert local == AddrTypeMatch("daddr", frozenset({"local"})) and isinstance(proto, ProtoMatch)
    (types,) = _one("-m addrtype ! --src-type LOCAL,MULTICAST -j DROP", v4).matches
    assert types == AddrTypeMatch("saddr", frozenset({"local", "multicast"}), negate=True)
    # ip6tables: MULTICAST (and UNICAST, UNSPEC) is a class of the address that must hold too.
    (types,) = _one("-m addrtype ! --src-type LOCAL,MULTICAST -j DROP").matches
    assert types == AddrTypeMatch(
        "saddr", frozenset({"local"}), negate=True, required=frozenset({"multicast"})
    )
    # What is not modelled stays unknown: a reversed range, an unknown type, an interface limit.
    for rule in (
        "-m iprange --src-range 10.0.0.9-10.0.0.1 -j ACCEPT",
        "-m addrtype --dst-type SOMEWHERE -j ACCEPT",
        "-m addrtype --dst-type LOCAL --limit-iface-in -j ACCEPT",
    ):
        assert isinstance(_one(rule, v4).matches[-1], Unknown), rule
    assert isinstance(_one("-m addrtype --dst-type BROADCAST -j DROP").matches[0], Unknown)


def test_ip6tables_address_type_lists_hold_as_the_kernel_reads_them() -> None:
    # What the differential lab test saw: LOCAL,MULTICAST needs a multicast address in IPv6,
    # and UNICAST takes the host's own addresses; in IPv4 either listed type is enough.
    head = "*filter\n:INPUT DROP [0:0]\n"
    rules = (
        "-A INPUT -p udp -m addrtype --dst-type LOCAL,MULTICAST -m udp --dport 53 -j ACCEPT\n"
        "-A INPUT -p tcp -m addrtype --dst-type UNICAST -m tcp --dport 443 -j ACCEPT\n"
    )
    v6 = read_save(head + rules + "COMMIT\n", "ip6tables-save")
    assert explain(v6, "ipv6", 17, 53, daddr="2001:db8::1").verdict == "drop"
    assert explain(v6, "ipv6", 17, 53, daddr="ff02::fb").verdict == "drop"  # not local: no route
    assert explain(v6, "ipv6", 6, 443).verdict == "accept"
    v4 = read_save(head + rules.replace("UNICAST", "LOCAL") + "COMMIT\n", "iptables-save")
    assert explain(v4, "ipv4", 17, 53, daddr="192.0.2.1").verdict == "accept"
    assert explain(v4, "ipv4", 17, 53, daddr="224.0.0.251").verdict == "accept"


def test_destination_rewrites_are_noted_without_building_the_rules() -> None:
    text = (
        "*nat\n:PREROUTING ACCEPT [0:0]\n:DOCKER - [0:0]\n"
        '-A PREROUTING -m comment --comment "no DNAT here" -j DOCKER\n'
        "-A DOCKER -p tcp -m tcp --dport 8080 -j DNAT --to-destination 192.0.2.2:80\n"
        "-A DOCKER -p tcp -m tcp --dport 80 -j REDIRECT --to-ports 8080\n"
        "COMMIT\n"
    )
    ruleset = read_save(text, "iptables-save")
    (note,) = ruleset.notes
    assert note.startswith("iptables-save: *nat rewrites destinations in 2 rules (first: line 5)")
    assert not any(c.rules.is_built for c in ruleset.tables[0].chains if isinstance(c.rules, Rules))


def test_the_unspecified_source_is_no_unicast_address() -> None:
    v6 = read_save(
        "*filter\n:INPUT DROP [0:0]\n-A INPUT -m addrtype --src-type UNICAST -j ACCEPT\nCOMMIT\n",
        "ip6tables-save",
    )
    assert explain(v6, "ipv6", 58, icmp_type=135, saddr="::").verdict == "drop"  # DAD
    assert explain(v6, "ipv6", 58, icmp_type=135).verdict == "conditional"
    assert explain(v6, "ipv6", 6, 22).verdict == "accept"  # no TCP connection comes from ::
