"""firewall_presence on real rulesets (recorded in throw-away namespaces) and on hand-made data."""

from __future__ import annotations

from typing import Optional

import pytest

from tests.conftest import make_snapshot
from tests.unit.analysis_fw.rulesets import CASES, ruleset_snapshot
from v6gap.analysis.firewall_presence import FirewallPresence, firewall_presence

# case -> (v4 input filtered, v6 input filtered, v6 input default deny, v6 forward filtered)
EXPECTED: dict[str, tuple[bool, bool, bool, bool]] = {
    "empty": (False, False, False, False),
    "v4-ssh-only-v6-empty": (True, False, False, False),
    "inet-policy-drop": (True, True, True, True),
    "inet-accept-final-reject": (True, True, True, False),
    "ip-only-drop": (True, False, False, False),
    "seed-option2": (True, True, True, True),
    # Docker filters forwarded traffic only; its raw PREROUTING drop guards containers.
    "docker-published-port-iptables": (False, False, False, True),
    "docker-internal-iptables": (False, False, False, True),
    "docker-routed-iptables": (False, False, False, True),
    "docker-published-port-nft": (False, False, False, True),
    "docker-internal-nft": (False, False, False, True),
    "docker-routed-nft": (False, False, False, True),
    # The corpus leaves out kube-proxy's jumps from the built-in chains: nothing is reached.
    "kube-proxy-iptables": (False, False, False, False),
    "kube-proxy-nft-ip6": (False, False, False, True),
    "legacy-v4-ssh-only": (True, False, False, False),
    "legacy-and-nft": (True, True, True, True),
}


def _presence(case: str) -> FirewallPresence:
    return firewall_presence(ruleset_snapshot(case))


def test_every_recorded_case_has_an_expectation() -> None:
    assert set(CASES) == set(EXPECTED)


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_recorded_rulesets(case: str) -> None:
    fp = _presence(case)
    v4_in, v6_in, v6_deny, v6_fwd = EXPECTED[case]
    assert fp.path("ipv4", "input").filtered is v4_in
    assert fp.path("ipv6", "input").filtered is v6_in
    assert fp.path("ipv6", "input").default_deny is v6_deny
    assert fp.path("ipv6", "forward").filtered is v6_fwd
    assert fp.seen("nftables", "iptables-legacy IPv4", "iptables-legacy IPv6")


def test_headline_case_names_the_deciding_chain_and_the_empty_ipv6_side() -> None:
    fp = _presence("v4-ssh-only-v6-empty")
    v4, v6 = fp.path("ipv4", "input"), fp.path("ipv6", "input")
    assert v4.policy == "drop"
    assert any("nft ip filter chain INPUT" in e and "policy drop" in e for e in v4.evidence)
    assert v6.policy == "accept"
    assert any("no base chain seen" in e for e in v6.evidence)
    assert [t.authority for t in fp.tables] == ["iptables-nft"]


def test_policy_drop_is_not_a_final_rule_but_a_final_reject_is() -> None:
    drop = _presence("inet-policy-drop").path("ipv6", "input")
    assert (drop.policy, drop.final_deny, drop.default_deny) == ("drop", False, True)
    reject = _presence("inet-accept-final-reject").path("ipv6", "input")
    assert (reject.policy, reject.final_deny, reject.default_deny) == ("accept", True, True)


def test_ipv4_only_rules_in_an_inet_table_do_not_filter_ipv6() -> None:
    v6 = _presence("ip-only-drop").path("ipv6", "input")
    assert v6.filtered is False
    assert any("nft inet watch chain input" in e for e in v6.evidence)


def test_loopback_spoofing_rules_are_reported_per_family() -> None:
    v6 = _presence("inet-policy-drop").path("ipv6", "input")
    assert len(v6.loopback_drops) == 1 and "nft inet filter chain input" in v6.loopback_drops[0]
    legacy = _presence("legacy-and-nft").path("ipv6", "input")
    assert any("-s ::1/128 ! -i lo -j DROP" in d for d in legacy.loopback_drops)


def test_legacy_jump_to_a_chain_ending_in_drop_is_a_default_deny() -> None:
    v6 = _presence("legacy-and-nft").path("ipv6", "input")
    assert v6.final_deny is True
    assert any("-A INPUT -j V6GUARD" in e and "default deny" in e for e in v6.evidence)


def test_seed_ra_guard_chain_is_not_counted_as_reached() -> None:
    v6 = _presence("seed-option2").path("ipv6", "input")
    assert not any("ra_guard" in e for e in v6.evidence)


def test_authorities_are_told_apart() -> None:
    fp = _presence("legacy-and-nft")
    assert {(t.authority, t.family, t.name) for t in fp.tables} == {
        ("nftables", "inet", "filter"),
        ("iptables-legacy", "ip", "filter"),
        ("iptables-legacy", "ip6", "filter"),
    }
    docker = _presence("docker-routed-nft")
    assert {t.authority for t in docker.tables} == {"nftables"}
    assert {t.authority for t in _presence("docker-routed-iptables").tables} == {"iptables-nft"}


def test_docker_nft_verdict_maps_are_followed() -> None:
    fwd = _presence("docker-published-port-nft").path("ipv6", "forward")
    assert any("filter-forward-in__br-dummy" in e for e in fwd.evidence)


# --------------------------------------------------------------------------- missing data


def test_nothing_collected_is_unknown_never_unfiltered() -> None:
    fp = firewall_presence(make_snapshot())
    v6 = fp.path("ipv6", "input")
    assert (v6.filtered, v6.policy, v6.default_deny) == (None, None, None)
    assert "not in the snapshot" in v6.unknown_reason


def test_image_reason_is_carried() -> None:
    reason = "image: live ruleset does not exist"
    snap = make_snapshot(
        source="root",
        unavailable={k: reason for k in ("nft", "iptables-legacy-save", "ip6tables-legacy-save")},
    )
    v4 = firewall_presence(snap).path("ipv4", "input")
    assert v4.filtered is None and reason in v4.unknown_reason


def test_positive_evidence_counts_even_when_a_source_is_missing() -> None:
    snap = make_snapshot(
        firewall={"saves": {"iptables-save": "*filter\n:INPUT DROP [0:0]\nCOMMIT\n"}},
        unavailable={"nft": "nft not installed"},
    )
    fp = firewall_presence(snap)
    assert fp.path("ipv4", "input").filtered is True
    assert fp.path("ipv6", "input").filtered is None
    assert "nft not installed" in fp.path("ipv6", "input").unknown_reason


@pytest.mark.parametrize(
    ("loaded", "builtin", "seen"),
    [
        (("nf_tables",), (), True),  # ip6_tables neither loaded nor built in: no legacy tables
        (("nf_tables", "ip6_tables"), (), False),
        (("nf_tables",), None, False),  # modules.builtin unread: it may be built in
    ],
)
def test_legacy_absent_from_the_kernel_counts_as_seen(
    loaded: tuple[str, ...], builtin: Optional[tuple[str, ...]], seen: bool
) -> None:
    snap = make_snapshot(
        firewall={"nft_json": '{"nftables": []}', "saves": {}},
        unavailable={"ip6tables-legacy-save": "ip6tables-legacy-save not installed"},
        modules_loaded=loaded,
        modules_builtin=builtin,
    )
    fp = firewall_presence(snap)
    assert fp.seen("iptables-legacy IPv6") is seen
    assert fp.path("ipv6", "input").filtered is (False if seen else None)


def test_unreadable_nft_json_is_unknown_with_why() -> None:
    snap = make_snapshot(firewall={"nft_json": "{not json", "saves": {}})
    v6 = firewall_presence(snap).path("ipv6", "input")
    assert v6.filtered is None and "not JSON" in v6.unknown_reason


def test_nf_tables_saves_are_not_read_twice() -> None:
    fp = _presence("v4-ssh-only-v6-empty")
    assert all(t.source == "nft -j list ruleset" for t in fp.tables)
