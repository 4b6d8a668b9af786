"""FW-03: parity over the whole port space, from recorded real rulesets."""

from __future__ import annotations

from tests.unit.analysis_fw.rulesets import recorded_firewall
from tests.unit.checks.helpers import judge
from v6gap.checks.fw import ipv6_parity
from v6gap.model import Status


def test_seed_headline_fails_with_the_ranges_ipv6_lets_in() -> None:
    result = judge(ipv6_parity.CHECK, firewall=recorded_firewall("v4-ssh-only-v6-empty"))
    assert result.status is Status.FAIL
    names = [s.name for s in result.subjects]
    assert "tcp 0-21" in names and "tcp 23-65535" in names and "udp 0-65535" in names
    assert "tcp 22" not in " ".join(names)  # accepted by both families
    assert "tcp 0-21: IPv4 drop, IPv6 accept" in result.evidence


def test_one_inet_table_for_both_families_passes() -> None:
    result = judge(ipv6_parity.CHECK, firewall=recorded_firewall("inet-policy-drop"))
    assert result.status is Status.PASS, result


def test_ipv4_only_filtering_with_nothing_open_fails_for_everything() -> None:
    result = judge(ipv6_parity.CHECK, firewall=recorded_firewall("ip-only-drop"))
    assert result.status is Status.FAIL


def test_a_source_not_read_is_unknown_not_pass() -> None:
    result = judge(
        ipv6_parity.CHECK,
        firewall=recorded_firewall("inet-policy-drop"),
        unavailable={"ip6tables-legacy-save": "permission denied"},
    )
    assert result.status is Status.UNKNOWN
    assert "permission denied" in result.reason


def test_image_is_unknown() -> None:
    result = judge(ipv6_parity.CHECK, source="root", root="/img")
    assert result.status is Status.UNKNOWN
