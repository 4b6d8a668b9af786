"""FW-06: the first seed's IPv4 echo limit is pre-empted; its IPv6 one is not."""

from __future__ import annotations

from tests.unit.analysis_fw.rulesets import recorded_firewall
from tests.unit.checks.helpers import judge
from v6gap.checks.fw import echo_limits_apply
from v6gap.model import Status

CHECK = echo_limits_apply.CHECK


def test_seed_ipv4_echo_limit_never_applies() -> None:
    result = judge(CHECK, firewall=recorded_firewall("seed-option2"))
    assert result.status is Status.FAIL
    assert [(s.family, s.name) for s in result.subjects] == [
        ("ipv4", "nft -j list ruleset: inet filter chain input handle 10")
    ]
    assert any("handle 9 → accept" in e for e in result.evidence)
    # the IPv6 echo limit is the deciding rule: listed, not failed
    assert any("handle 16" in e and "conditional" in e for e in result.evidence)


def test_no_limited_echo_rule_passes() -> None:
    assert judge(CHECK, firewall=recorded_firewall("inet-policy-drop")).status is Status.PASS


def test_unreadable_ruleset_is_unknown() -> None:
    result = judge(CHECK, unavailable={"nft": "nft: permission denied (run as root)"})
    assert result.status is Status.UNKNOWN
