"""FW-09 on recorded rulesets: the first seed's Option 2 uses ip6 nexthdr throughout."""

from __future__ import annotations

from tests.unit.analysis_fw.rulesets import recorded_firewall
from tests.unit.checks.helpers import judge
from v6gap.checks.fw import icmpv6_matched_by_l4proto
from v6gap.model import Status

CHECK = icmpv6_matched_by_l4proto.CHECK


def test_seed_option_two_fails_naming_its_rules() -> None:
    result = judge(CHECK, firewall=recorded_firewall("seed-option2"))
    assert result.status is Status.FAIL
    assert len(result.subjects) >= 4  # NS/NA, RA, RS, echo, errors, and the RA-guard chain
    assert all("inet filter" in (s.name or "") for s in result.subjects), result.subjects


def test_docker_routed_uses_l4proto_and_passes() -> None:
    result = judge(CHECK, firewall=recorded_firewall("docker-routed-nft"))
    assert result.status is Status.PASS


def test_iptables_p_ipv6_icmp_is_not_flagged() -> None:
    result = judge(CHECK, firewall=recorded_firewall("docker-routed-iptables"))
    assert result.status is Status.PASS


def test_unreadable_ruleset_is_unknown() -> None:
    result = judge(CHECK, unavailable={"nft": "nft: permission denied (run as root)"})
    assert result.status is Status.UNKNOWN
