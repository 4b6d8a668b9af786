"""firewall_presence never raises: hostile or malformed input is unknown, with a reason."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import make_snapshot
from v6gap.analysis.firewall_presence import FirewallPresence, firewall_presence
from v6gap.firewall import _nft_rules, nft

JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(
            st.sampled_from(
                [
                    "nftables",
                    "table",
                    "chain",
                    "rule",
                    "map",
                    "expr",
                    "family",
                    "name",
                    "table",
                    "chain",
                    "hook",
                    "policy",
                    "match",
                    "left",
                    "right",
                    "op",
                    "payload",
                    "protocol",
                    "jump",
                    "goto",
                    "target",
                    "drop",
                    "accept",
                    "vmap",
                    "data",
                    "elem",
                    "xt",
                    "type",
                ]
            )
            | st.text(max_size=4),
            children,
            max_size=5,
        )
    ),
    max_leaves=40,
)
NFT_OBJECT = st.fixed_dictionaries(
    {},
    optional={
        "table": st.fixed_dictionaries(
            {"family": st.sampled_from(["ip", "ip6", "inet"]), "name": st.sampled_from(["f", "g"])}
        ),
    },
) | st.builds(
    lambda kind, family, chain, body: {
        kind: {"family": family, "table": "f", "chain": chain, "name": chain, **body}
    },
    st.sampled_from(["chain", "rule", "map"]),
    st.sampled_from(["ip", "ip6", "inet", "netdev", "bridge", 7]),
    st.sampled_from(["input", "a", "b"]),
    st.dictionaries(
        st.sampled_from(["hook", "policy", "expr", "elem", "map"]), JSONISH, max_size=4
    ),
)


def _run(nft_json: Any = None, saves: Any = None) -> FirewallPresence:
    firewall: dict[str, Any] = {"saves": saves or {}}
    if nft_json is not None:
        firewall["nft_json"] = nft_json
    return firewall_presence(make_snapshot(firewall=firewall))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(JSONISH)
def test_any_json_value_never_raises(value: Any) -> None:
    _run(json.dumps(value))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(NFT_OBJECT, max_size=12))
def test_nft_shaped_objects_never_raise(objects: list[Any]) -> None:
    fp = _run(json.dumps({"nftables": objects}))
    for path in fp.paths:
        assert path.filtered in (True, False, None)


@settings(max_examples=200)
@given(st.text(alphabet="*:-AjgCOMIT! \n\"'[]0123456789DROPACCEPTsi", max_size=300))
def test_any_save_text_never_raises(text: str) -> None:
    _run('{"nftables": []}', {"ip6tables-legacy-save": text, "iptables-save": text})


def test_deep_nesting_is_unknown_not_a_crash() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    v6 = _run(deep).path("ipv6", "input")
    assert v6.filtered is None and "nested" in v6.unknown_reason


def test_nesting_inside_a_rule_is_a_condition_not_a_crash() -> None:
    # The engine's reader bounds nesting where it recurses; an expression it cannot read is an
    # unknown condition, so the drop counts as filtering but never as a default deny.
    left: Any = {"payload": {"protocol": "ip6", "field": "saddr"}}
    for _ in range(900):
        left = {"x": left}
    dump = {
        "nftables": [
            {"chain": {"family": "inet", "table": "t", "name": "c", "hook": "input"}},
            {
                "rule": {
                    "family": "inet",
                    "table": "t",
                    "chain": "c",
                    "expr": [{"match": {"op": "==", "left": left, "right": 1}}, {"drop": None}],
                }
            },
        ]
    }
    v6 = _run(json.dumps(dump)).path("ipv6", "input")
    assert v6.filtered is True and v6.final_deny is not True


def test_huge_arrays_are_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nft, "MAX_OBJECTS", 1000)
    v4 = _run(json.dumps({"nftables": [{}] * 1001})).path("ipv4", "input")
    assert v4.filtered is None and "more than 1000 objects" in v4.unknown_reason


def test_oversized_text_is_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nft, "MAX_JSON_CHARS", 100)
    v4 = _run(json.dumps({"nftables": [{"x": "y" * 200}]})).path("ipv4", "input")
    assert v4.filtered is None and "larger than 100" in v4.unknown_reason


def test_long_rules_are_unknown() -> None:
    dump = {
        "nftables": [
            {"chain": {"family": "ip", "table": "t", "name": "c", "hook": "input"}},
            {
                "rule": {
                    "family": "ip",
                    "table": "t",
                    "chain": "c",
                    "expr": [{"counter": None}] * (_nft_rules.MAX_STATEMENTS + 1),
                }
            },
        ]
    }
    assert _run(json.dumps(dump)).path("ipv4", "input").filtered is None


# --------------------------------------------------------------------------- save edge cases

LEGACY_HEADER = "# Generated by ip6tables-save v1.8.9 on Mon Nov 23 21:54:19 2026\n"


def _v6_input(save: str) -> Any:
    return _run('{"nftables": []}', {"ip6tables-legacy-save": save}).path("ipv6", "input")


def test_an_early_unconditional_accept_beats_the_drop_policy() -> None:
    v6 = _v6_input("*filter\n:INPUT DROP [0:0]\n-A INPUT -j ACCEPT\nCOMMIT\n")
    assert (v6.filtered, v6.policy, v6.default_deny) == (True, "drop", False)


def test_goto_a_chain_that_falls_through_uses_the_policy() -> None:
    save = (
        "*filter\n:INPUT ACCEPT [0:0]\n:X - [0:0]\n-A INPUT -g X\n-A INPUT -j DROP\n"
        "-A X -p tcp -j RETURN\nCOMMIT\n"
    )
    v6 = _v6_input(save)
    assert v6.filtered is True and v6.default_deny is False


def test_jump_cycles_do_not_hang() -> None:
    save = (
        "*filter\n:INPUT ACCEPT [0:0]\n:A - [0:0]\n:B - [0:0]\n-A INPUT -j A\n-A A -j B\n"
        "-A B -j A\n-A B -p tcp -j REJECT\nCOMMIT\n"
    )
    v6 = _v6_input(save)
    assert v6.filtered is True and v6.default_deny is None


def test_counters_comments_and_quotes_are_read() -> None:
    # The escaped quotes are iptables-save's own; an unbalanced quote makes the dump unreadable
    # (the engine's reader refuses it rather than guessing where the comment ends).
    save = (
        '*filter\n:INPUT ACCEPT [0:0]\n[5:300] -A INPUT -m comment --comment "x y" -j DROP\n'
        '-A INPUT -m comment --comment "say \\"hi\\" -j ACCEPT" -j ACCEPT\nCOMMIT\n'
    )
    v6 = _v6_input(save)
    assert v6.final_deny is True
    broken = _v6_input(save.replace('"say \\"hi\\" -j ACCEPT" -j', '"unbalanced -j'))
    assert broken.filtered is None and "line 4: unbalanced quotes" in broken.unknown_reason


def test_backend_comes_from_the_header() -> None:
    text = LEGACY_HEADER + "*filter\n:INPUT DROP [0:0]\nCOMMIT\n"
    fp = _run('{"nftables": []}', {"ip6tables-save": text})
    assert fp.seen("iptables-legacy IPv6") and fp.tables[0].authority == "iptables-legacy"
    nft = text.replace("v1.8.9", "v1.8.9 (nf_tables)")
    assert _run('{"nftables": []}', {"ip6tables-save": nft}).tables == ()
