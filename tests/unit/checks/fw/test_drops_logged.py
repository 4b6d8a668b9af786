"""FW-11: the seed logs its default drops with a limit; a bare policy drop does not log."""

from __future__ import annotations

from tests.unit.analysis_fw.rulesets import recorded_firewall
from tests.unit.checks.helpers import judge
from tests.unit.firewall.rulesets import snapshot_firewall
from v6gap.checks.fw import drops_logged
from v6gap.model import Status

CHECK = drops_logged.CHECK


def test_seed_option_two_logs_with_a_limit() -> None:
    result = judge(CHECK, firewall=recorded_firewall("seed-option2"))
    assert result.status is Status.PASS
    assert "limit 5/minute burst 10 packets" in result.evidence[0]


def test_policy_drop_without_log_fails() -> None:
    result = judge(CHECK, firewall=recorded_firewall("inet-policy-drop"))
    assert result.status is Status.FAIL
    assert [s.value for s in result.subjects] == ["drops not logged"]


def test_final_reject_rule_counts_as_default_deny() -> None:
    result = judge(CHECK, firewall=recorded_firewall("inet-accept-final-reject"))
    assert result.status is Status.FAIL


def test_log_without_a_limit_fails() -> None:
    result = judge(CHECK, firewall=snapshot_firewall([{"log": {"prefix": "drop: "}}]))
    assert result.status is Status.FAIL
    assert [s.value for s in result.subjects] == ["log without rate limit"]


def test_nothing_dropped_by_default_passes() -> None:
    assert judge(CHECK, firewall=recorded_firewall("empty")).status is Status.PASS
