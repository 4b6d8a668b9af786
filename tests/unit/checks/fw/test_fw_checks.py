"""FW-01, 02, 10, 12 and the checks awaiting the engine, on recorded rulesets and snapshot data."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.unit.analysis_fw.rulesets import recorded_firewall
from tests.unit.checks.helpers import judge
from v6gap.checks.fw import (
    ipv6_forward_default_deny,
    ipv6_input_default_deny,
    ipv6_input_filtered,
    single_firewall_authority,
)
from v6gap.model import Status

# --------------------------------------------------------------------------- FW-01


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("v4-ssh-only-v6-empty", Status.FAIL),  # the seed's headline case (iptables-nft)
        ("legacy-v4-ssh-only", Status.FAIL),  # the same through iptables-legacy
        ("ip-only-drop", Status.FAIL),  # nft: an ip table drops, the inet one only for IPv4
        ("inet-policy-drop", Status.PASS),
        ("seed-option2", Status.PASS),
        ("empty", Status.PASS),  # no gap: neither family is filtered
        ("docker-published-port-iptables", Status.PASS),
    ],
)
def test_fw01_on_recorded_rulesets(case: str, status: Status) -> None:
    result = judge(ipv6_input_filtered.CHECK, firewall=recorded_firewall(case))
    assert result.status is status, result.reason


def test_fw01_fail_names_what_decided_and_fixes_with_the_tool_in_use() -> None:
    result = judge(ipv6_input_filtered.CHECK, firewall=recorded_firewall("v4-ssh-only-v6-empty"))
    assert any("nft ip filter chain INPUT" in e and "policy drop" in e for e in result.evidence)
    assert any("IPv6 input: no base chain seen" in e for e in result.evidence)
    assert "sudo ip6tables -P INPUT DROP" in (result.remediation or "")
    nft = judge(ipv6_input_filtered.CHECK, firewall=recorded_firewall("ip-only-drop"))
    assert "table ip6 v6gap_filter" in (nft.remediation or "")


def test_fw01_missing_ipv6_rules_is_unknown() -> None:
    firewall = {"saves": {"iptables-save": "*filter\n:INPUT DROP [0:0]\nCOMMIT\n"}}
    result = judge(
        ipv6_input_filtered.CHECK,
        firewall=firewall,
        unavailable={"nft": "nft: permission denied (run as root)"},
    )
    assert result.status is Status.UNKNOWN and "permission denied" in result.reason


# --------------------------------------------------------------------------- FW-02


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("inet-policy-drop", Status.PASS),
        ("inet-accept-final-reject", Status.PASS),
        ("legacy-and-nft", Status.PASS),
        ("v4-ssh-only-v6-empty", Status.FAIL),
        ("docker-routed-nft", Status.FAIL),
        ("kube-proxy-nft-ip6", Status.FAIL),
    ],
)
def test_fw02_on_recorded_rulesets(case: str, status: Status) -> None:
    result = judge(ipv6_input_default_deny.CHECK, firewall=recorded_firewall(case))
    assert result.status is status, result.reason


def test_fw02_reports_loopback_spoofing_as_evidence_only() -> None:
    guarded = judge(ipv6_input_default_deny.CHECK, firewall=recorded_firewall("inet-policy-drop"))
    assert any(
        e.startswith("loopback spoofing: ::1 as source is dropped") for e in guarded.evidence
    )
    seed = judge(ipv6_input_default_deny.CHECK, firewall=recorded_firewall("seed-option2"))
    assert seed.status is Status.PASS
    assert any("no rule drops ::1" in e for e in seed.evidence)


def test_fw02_decides_loopback_spoofing_with_the_engine() -> None:
    guarded = judge(ipv6_input_default_deny.CHECK, firewall=recorded_firewall("inet-policy-drop"))
    assert (
        "loopback spoofing: ::1/128 as source on an interface other than lo is dropped for "
        "every protocol and port"
    ) in guarded.evidence
    assert any(e.startswith("loopback spoofing: 127.0.0.0/8") for e in guarded.evidence)
    seed = judge(ipv6_input_default_deny.CHECK, firewall=recorded_firewall("seed-option2"))
    assert seed.status is Status.PASS  # evidence only: the kernel discards ::1 from other links
    accepted = next(e for e in seed.evidence if e.startswith("loopback spoofing: ::1/128"))
    assert "is accepted by the ruleset for tcp 22" in accepted


def test_fw02_image_is_unknown() -> None:
    reason = "image: live ruleset does not exist"
    result = judge(
        ipv6_input_default_deny.CHECK,
        source="root",
        unavailable={"nft": reason, "ip6tables-legacy-save": reason},
    )
    assert result.status is Status.UNKNOWN and "image" in result.reason


# --------------------------------------------------------------------------- FW-10


def _ufw(enabled: str, ipv6: str) -> dict[str, Any]:
    return {
        "/etc/ufw/ufw.conf": {"text": f"# ufw\nENABLED={enabled}\nLOGLEVEL=low\n"},
        "/etc/default/ufw": {"text": f'IPV6={ipv6}\nDEFAULT_INPUT_POLICY="DROP"\n'},
    }


def test_fw10_passes_with_one_authority() -> None:
    result = judge(
        single_firewall_authority.CHECK,
        firewall=recorded_firewall("inet-policy-drop"),
        files=_ufw("no", "no"),
        processes=["sshd"],
    )
    assert result.status is Status.PASS, result.reason


def test_fw10_fails_on_legacy_beside_nftables() -> None:
    result = judge(
        single_firewall_authority.CHECK,
        firewall=recorded_firewall("legacy-and-nft"),
        processes=["sshd"],
    )
    assert result.status is Status.FAIL
    assert "iptables-legacy and nftables both hold rules" in result.reason


@pytest.mark.parametrize("enabled", ["yes", "YES"])
def test_fw10_fails_on_ufw_without_ipv6(enabled: str) -> None:
    result = judge(
        single_firewall_authority.CHECK,
        firewall=recorded_firewall("empty"),
        files=_ufw(enabled, "no"),
        processes=["sshd"],
    )
    assert result.status is Status.FAIL
    assert "/etc/default/ufw:1 IPV6=no" in result.evidence


def test_fw10_fails_on_firewalld_beside_a_foreign_table() -> None:
    result = judge(
        single_firewall_authority.CHECK,
        firewall=recorded_firewall("inet-policy-drop"),
        processes=["firewalld", "sshd"],
    )
    assert result.status is Status.FAIL
    assert [s.name for s in result.subjects] == ["inet filter"]


@pytest.mark.parametrize(
    ("config", "processes", "case", "status"),
    [
        ({"ipv6": True, "ip6tables": False}, ["dockerd"], "empty", Status.FAIL),
        ({"ipv6": True, "ip6tables": True}, ["dockerd"], "empty", Status.PASS),
        ({"ipv6": True}, ["dockerd"], "docker-routed-iptables", Status.PASS),  # chains exist
        ({"ipv6": True}, ["dockerd"], "empty", Status.FAIL),  # an older Docker's default
        ({"ipv6": True}, ["sshd"], "empty", Status.PASS),  # dockerd not running
        ({"ipv6": False}, ["dockerd"], "empty", Status.PASS),
    ],
)
def test_fw10_docker(config: Any, processes: list[str], case: str, status: Status) -> None:
    files = {"/etc/docker/daemon.json": {"text": json.dumps(config)}}
    result = judge(
        single_firewall_authority.CHECK,
        firewall=recorded_firewall(case),
        files=files,
        processes=processes,
    )
    assert result.status is status, result.reason


def test_fw10_unreadable_inputs_are_unknown() -> None:
    files = {"/etc/docker/daemon.json": {"text": "{broken"}}
    result = judge(
        single_firewall_authority.CHECK,
        firewall=recorded_firewall("empty"),
        files=files,
        processes=["sshd"],
    )
    assert result.status is Status.UNKNOWN and "not valid JSON" in result.reason


# --------------------------------------------------------------------------- FW-12

FORWARDING = "net.ipv6.conf.all.forwarding"


def test_fw12_passes_when_forwarding_is_off_or_denied_by_default() -> None:
    off = judge(ipv6_forward_default_deny.CHECK, sysctl={FORWARDING: "0"})
    assert off.status is Status.PASS
    on = judge(
        ipv6_forward_default_deny.CHECK,
        sysctl={FORWARDING: "1"},
        profile="router",
        firewall=recorded_firewall("inet-policy-drop"),
    )
    assert on.status is Status.PASS


def test_fw12_fails_when_forwarding_accepts_by_default() -> None:
    result = judge(
        ipv6_forward_default_deny.CHECK,
        sysctl={FORWARDING: "1"},
        profile="k8s-node",
        firewall=recorded_firewall("docker-routed-iptables"),
    )
    assert result.status is Status.FAIL
    assert "net.ipv6.conf.all.forwarding = 1 (running)" in result.evidence


def test_fw12_unread_forwarding_is_unknown() -> None:
    assert judge(ipv6_forward_default_deny.CHECK).status is Status.UNKNOWN


def _docker_with_forward_policy(policy: str) -> dict[str, Any]:
    firewall = recorded_firewall("docker-published-port-iptables")
    saves = dict(firewall["saves"])
    saves["ip6tables-save"] = saves["ip6tables-save"].replace(
        ":FORWARD ACCEPT", f":FORWARD {policy}"
    )
    return {**firewall, "saves": saves}


def _fw12_forwarding(firewall: dict[str, Any]) -> Any:
    return judge(
        ipv6_forward_default_deny.CHECK,
        sysctl={FORWARDING: "1"},
        profile="router",
        firewall=firewall,
    )


def test_fw12_docker_forward_chains_through_the_engine() -> None:
    denied = _fw12_forwarding(_docker_with_forward_policy("DROP"))
    assert denied.status is Status.PASS, denied.reason
    assert any("*filter FORWARD: policy drop" in e for e in denied.evidence)
    accepted = _fw12_forwarding(_docker_with_forward_policy("ACCEPT"))
    assert accepted.status is Status.FAIL
    assert "tcp 0-65535" in accepted.reason
    assert any("tcp 0-65535: accept:" in e and "policy accept" in e for e in accepted.evidence)


def test_fw12_unreadable_ruleset_is_unknown() -> None:
    result = _fw12_forwarding({"nft_json": "{not json", "saves": {}})
    assert result.status is Status.UNKNOWN and "not JSON" in result.reason


# --------------------------------------------------------------------------- awaiting the engine
