"""FW-08 on recorded rulesets: the first seed's RA-guard chain is never entered."""

from __future__ import annotations

import pytest

from tests.unit.analysis_fw.rulesets import recorded_firewall
from tests.unit.checks.helpers import judge
from v6gap.checks.fw import chains_reachable
from v6gap.model import Status

CHECK = chains_reachable.CHECK


def test_seed_ra_guard_chain_is_unreachable() -> None:
    result = judge(CHECK, firewall=recorded_firewall("seed-option2"))
    assert result.status is Status.FAIL
    assert [s.name for s in result.subjects] == ["inet filter chain ra_guard"]
    assert "3 rules never consulted" in result.evidence[0]


@pytest.mark.parametrize(
    "case", ["docker-published-port-iptables", "docker-routed-nft", "inet-policy-drop"]
)
def test_real_rulesets_with_their_jumps_pass(case: str) -> None:
    assert judge(CHECK, firewall=recorded_firewall(case)).status is Status.PASS


def test_empty_unused_chain_is_not_a_finding() -> None:
    result = judge(CHECK, firewall=recorded_firewall("docker-internal-iptables"))
    assert result.status is Status.PASS
    assert "chain DOCKER" in result.evidence[0]


def test_unresolved_verdict_map_is_unknown() -> None:
    result = judge(CHECK, firewall=recorded_firewall("kube-proxy-nft-ip6"))
    assert result.status is Status.UNKNOWN
