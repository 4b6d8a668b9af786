"""The shortcuts taken for large rulesets give the answers of the plain paths they skip."""

from __future__ import annotations

import gc
import ipaddress
from typing import Optional

from hypothesis import given, settings
from hypothesis import strategies as st

from v6gap.firewall import _names
from v6gap.firewall.iptables import read_save
from v6gap.firewall.model import PortMatch, ProtoMatch
from v6gap.firewall.parity import parity


def _reference(text: str, family: str) -> Optional[tuple[int, int]]:
    try:
        network = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None
    if _names.ADDRESS_BITS[family] != network.max_prefixlen:
        return None
    return int(network.network_address), int(network.broadcast_address)


def _mutated(draw: st.DrawFn, text: str) -> str:
    if draw(st.booleans()):
        return text
    at = draw(st.integers(0, len(text)))
    piece = draw(st.text(alphabet="0123456789abcdefABCDEF:./% -x", max_size=3))
    cut = draw(st.integers(0, 2))
    return text[:at] + piece + text[at + cut :]


@st.composite
def _address_texts(draw: st.DrawFn) -> tuple[str, str]:
    family = draw(st.sampled_from(["ipv4", "ipv6"]))
    bits = _names.ADDRESS_BITS[family]
    value = draw(st.integers(0, (1 << bits) - 1) | st.integers(0, 0xFFFF))
    make = ipaddress.IPv4Address if family == "ipv4" else ipaddress.IPv6Address
    address = make(value)
    text = draw(
        st.sampled_from(
            [str(address), address.exploded, address.compressed]
            + ([f"::ffff:{ipaddress.IPv4Address(value & 0xFFFFFFFF)}"] if family == "ipv6" else [])
        )
    )
    if draw(st.booleans()):
        length = draw(st.integers(0, bits + 2))
        text += "/" + draw(st.sampled_from([str(length), f"0{length}", f"00{length}"]))
    if draw(st.booleans()):
        text = f" {text} "
    return _mutated(draw, text), draw(st.sampled_from([family, "ipv4", "ipv6"]))


@settings(max_examples=3000, deadline=None)
@given(_address_texts())
def test_address_fast_paths_agree_with_ipaddress(case: tuple[str, str]) -> None:
    text, family = case
    assert _names.address_range(text, family) == _reference(text, family)


def test_address_edge_forms() -> None:
    for text in ["1.2.3.4/012", "01.2.3.4", "1.2.3.4/33", "::1.2.3.4", "1::2:3:4:5:6:7", "::/064"]:
        for family in ("ipv4", "ipv6"):
            assert _names.address_range(text, family) == _reference(text, family), text


def test_repeated_module_words_keep_their_protocol() -> None:
    ruleset = read_save(
        "*filter\n:INPUT DROP [0:0]\n"
        "-A INPUT -p tcp -m multiport --dports 80,443 -j ACCEPT\n"
        "-A INPUT -p udp -m multiport --dports 80,443 -j ACCEPT\n"
        "-A INPUT -m multiport --dports 80,443 -j ACCEPT\n"
        "-A INPUT -p tcp -m comment --comment 'a b' -m multiport --dports 80,443 -j DROP\n"
        "COMMIT\n"
    )
    rules = ruleset.tables[0].chains[0].rules
    ports = [next(m for m in r.matches if isinstance(m, PortMatch)).protocols for r in rules]
    assert ports == [frozenset({6}), frozenset({17}), frozenset({6, 17}), frozenset({6})]
    assert [isinstance(r.matches[0], ProtoMatch) for r in rules] == [True, True, False, True]
    assert rules[3].comment == "'a"  # save quoting is double quotes only


def test_reading_leaves_the_collector_on() -> None:
    assert gc.isenabled()
    read_save("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j DROP\nCOMMIT\n")
    assert gc.isenabled()
    gc.disable()
    try:
        read_save("*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n")
        assert not gc.isenabled()
    finally:
        gc.enable()


_BASE = (
    "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
    ":SVC - [0:0]\n:UNUSED - [0:0]\n"
    "-A INPUT -j SVC\n"
    "-A INPUT -p tcp -m multiport --dports 30000:32767 -j ACCEPT\n"
    "{v4}"
    "-A SVC -p tcp --dport 31000 -j DROP\n"
    "{unused}"
    "COMMIT\n"
    "*nat\n:PREROUTING ACCEPT [0:0]\n:NODEPORTS - [0:0]\n"
    "{nat}"
    "COMMIT\n"
)


def _parity_of(unused: str, nat: str) -> list[tuple[object, ...]]:
    v4 = read_save(
        _BASE.format(v4="-A INPUT -p tcp --dport 22 -j ACCEPT\n", unused=unused, nat=nat)
    )
    v6 = read_save(_BASE.format(v4="", unused=unused, nat=nat), "ip6tables-save")
    return [
        (d.proto, d.from_port, d.to_port, d.ipv4, d.ipv6, d.why["ipv4"]["trace"])
        for d in parity(v4.merged(v6))
    ]


def test_ports_of_rules_never_judged_do_not_change_parity() -> None:
    plain = _parity_of("", "")
    busy = _parity_of(
        "".join(f"-A UNUSED -p tcp --dport {p} -j DROP\n" for p in (22, 31000, 31500, 40000)),
        "".join(
            f"-A NODEPORTS -p tcp --dport {p} -j DNAT --to 1.2.3.4\n" for p in range(30990, 31010)
        ),
    )
    assert busy == plain
    assert [row[:5] for row in plain] == [("tcp", 22, 22, "accept", "drop")]


def test_ranges_alike_around_a_port_share_their_verdicts() -> None:
    # 30000-30999 and 31001-32767 meet the same rules: judged once, both accepted; 31000 drops.
    v4 = read_save(_BASE.format(v4="", unused="", nat=""))
    v6_text = _BASE.format(v4="", unused="", nat="").replace(
        "--dport 31000 -j DROP", "--dport 31000 -j RETURN"
    )
    v6 = read_save(v6_text, "ip6tables-save")
    rows = [(d.from_port, d.to_port, d.ipv4, d.ipv6) for d in parity(v4.merged(v6))]
    assert rows == [(31000, 31000, "drop", "accept")]
