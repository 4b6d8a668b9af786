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


def test_real_ufw_logs_its_default_drops_in_a_jumped_chain() -> None:
    # ufw's INPUT ends with unconditional jumps; ufw6-after-logging-input logs with a limit
    # every packet that then falls to the policy drop.
    result = judge(CHECK, firewall=recorded_firewall("real-tools/ufw-default"))
    assert result.status is Status.PASS
    assert any(
        "chain INPUT: jump ufw6-after-logging-input: " in e and "[limit 3/min burst 10]" in e
        for e in result.evidence
    )


def _jumped(log_chain: str) -> dict[str, object]:
    save = (
        "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
        ":logdrop - [0:0]\n:inner - [0:0]\n"
        "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\n-A INPUT -j logdrop\n"
        f"{log_chain}COMMIT\n"
    )
    return {"saves": {"ip6tables-save": save}}


LOG = '-j LOG --log-prefix "drop: "'


def test_jumped_log_chains_pass_or_fail_by_what_every_packet_meets() -> None:
    limited = f"-A logdrop -m limit --limit 5/min {LOG}\n"
    assert judge(CHECK, firewall=_jumped(limited)).status is Status.PASS
    # One level deeper, after a targeted accept (it decides its own packets): still met.
    deeper = (
        f"-A logdrop -p udp -j ACCEPT\n-A logdrop -j inner\n-A inner -m limit --limit 5/min {LOG}\n"
    )
    assert judge(CHECK, firewall=_jumped(deeper)).status is Status.PASS
    unlimited = judge(CHECK, firewall=_jumped(f"-A logdrop {LOG}\n"))
    assert [s.value for s in unlimited.subjects] == ["log without rate limit"]
    assert "jump logdrop: ip6tables-save: line " in unlimited.evidence[0]
    # A return before the log lets tcp 23 leave unlogged; a conditional log logs only some.
    skipped = f"-A logdrop -p tcp --dport 23 -j RETURN\n-A logdrop -m limit --limit 5/min {LOG}\n"
    conditional = f"-A logdrop -p tcp -m limit --limit 5/min {LOG}\n"
    for chain in (skipped, conditional):
        result = judge(CHECK, firewall=_jumped(chain))
        assert [s.value for s in result.subjects] == ["drops not logged"]


def test_a_prerouting_default_drop_is_judged_too() -> None:
    # Packets to the host cross prerouting first: its policy drop drops input packets too.
    pre = "*raw\n:PREROUTING DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n-A PREROUTING -p tcp -j ACCEPT\n"
    silent = judge(CHECK, firewall={"saves": {"ip6tables-save": pre + "COMMIT\n"}})
    assert silent.status is Status.FAIL
    assert silent.subjects[0].name == "ip6tables-save: ip6 raw chain PREROUTING"
    logged = pre + f"-A PREROUTING -m limit --limit 5/min {LOG}\nCOMMIT\n"
    assert judge(CHECK, firewall={"saves": {"ip6tables-save": logged}}).status is Status.PASS
