"""An audit reads the firewall dumps once: presence (FW-01, FW-02, FW-10, STATE-05) and the
engine's checks (FW-03..12, EXP-03, TUN-04, NDP-06) share one ruleset."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import make_snapshot
from tests.unit.analysis_fw.rulesets import recorded_firewall
from v6gap.analysis.firewall_presence import _read
from v6gap.checks.run import run_checks
from v6gap.model import Profile, Status


@pytest.mark.parametrize("case", ["legacy-and-nft", "docker-published-port-iptables"])
def test_every_check_judges_one_read_of_the_dumps(
    monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    reads: list[int] = []
    real = _read.read_firewall

    def counted(*args: Any) -> Any:
        reads.append(1)
        return real(*args)

    monkeypatch.setattr(_read, "read_firewall", counted)
    snapshot = make_snapshot(
        firewall=recorded_firewall(case), sysctl={"net.ipv6.conf.all.forwarding": "1"}
    )
    report = run_checks(snapshot, Profile("router"))
    judged = {f.id: f.status for f in report.findings}
    assert reads == [1]
    # The read served both kinds of check: neither is unknown for want of a ruleset.
    decided = (Status.PASS, Status.FAIL)
    assert all(judged[i] in decided for i in ("V6G-FW-01", "V6G-FW-02", "V6G-FW-03", "V6G-FW-12"))
