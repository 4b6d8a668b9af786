"""STATE-05: a global IPv6 address with nothing filtering IPv6 input, on recorded rulesets."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.analysis_fw.rulesets import recorded_firewall
from tests.unit.checks.helpers import judge
from v6gap.checks.run import to_finding
from v6gap.checks.state import global_address_unfiltered
from v6gap.model import Status, Subject

CHECK = global_address_unfiltered.CHECK

LOOPBACK = {
    "name": "lo",
    "index": 1,
    "up": True,
    "addresses": [
        {"family": "ipv4", "address": "127.0.0.1", "prefixlen": 8, "scope": "host"},
        {"family": "ipv6", "address": "::1", "prefixlen": 128, "scope": "host"},
    ],
}
LINK_LOCAL = {
    "family": "ipv6",
    "address": "fe80::5054:ff:fe12:3456",
    "prefixlen": 64,
    "scope": "link",
}
GLOBAL = {"family": "ipv6", "address": "2001:db8::10", "prefixlen": 64, "flags": ["dynamic"]}
DUAL_STACK = [
    LOOPBACK,
    {
        "name": "eth0",
        "index": 2,
        "up": True,
        "addresses": [
            {"family": "ipv4", "address": "192.0.2.10", "prefixlen": 24},
            GLOBAL,
            LINK_LOCAL,
        ],
    },
]
LINK_LOCAL_ONLY = [LOOPBACK, {"name": "eth0", "index": 2, "up": True, "addresses": [LINK_LOCAL]}]
EMPTY_NFT = recorded_firewall("empty")["nft_json"]
# An empty nft ruleset and an empty ip6tables-legacy-save: every authority read, nothing there.
NOTHING = {
    "nft_json": EMPTY_NFT,
    "saves": {"ip6tables-legacy-save": "", "iptables-legacy-save": ""},
}
ADDRESS_SUBJECT = Subject(kind="address", name="eth0", family="ipv6", address="2001:db8::10")


def test_global_address_and_an_empty_ruleset_fails() -> None:
    result = judge(CHECK, interfaces=DUAL_STACK, firewall=NOTHING)
    assert result.status is Status.FAIL
    assert result.reason == "1 global IPv6 address(es) and nothing filters IPv6 input"
    assert result.subjects == (ADDRESS_SUBJECT,)
    assert result.evidence[0] == "eth0: 2001:db8::10/64"
    assert (
        "IPv6 input: rules nftables read from nft -j list ruleset; iptables-legacy IPv6 read "
        "from ip6tables-legacy-save"
    ) in result.evidence
    assert "IPv6 input: no base chain seen on hooks input, prerouting, ingress" in result.evidence
    assert "table ip6 v6gap_filter" in (result.remediation or "")
    assert not any("fe80::" in e or "::1/" in e for e in result.evidence)


def test_ipv4_filtered_ipv6_empty_fixes_with_ip6tables() -> None:
    """The seed's headline case: the fix speaks the tool that filters IPv4."""
    result = judge(CHECK, interfaces=DUAL_STACK, firewall=recorded_firewall("v4-ssh-only-v6-empty"))
    assert result.status is Status.FAIL
    assert result.subjects == (ADDRESS_SUBJECT,)
    assert "sudo ip6tables" in to_finding(CHECK, result).remediation


@pytest.mark.parametrize("case", ["inet-policy-drop", "seed-option2", "legacy-and-nft"])
def test_ruleset_filtering_ipv6_input_passes(case: str) -> None:
    result = judge(CHECK, interfaces=DUAL_STACK, firewall=recorded_firewall(case))
    assert result.status is Status.PASS, result.reason
    assert result.reason == "1 global IPv6 address(es), and IPv6 input is filtered"
    assert result.evidence[0] == "eth0: 2001:db8::10/64"
    assert any(e.startswith("IPv6 input filtered by ") for e in result.evidence), result.evidence


def test_inet_policy_drop_names_the_deciding_chain() -> None:
    result = judge(CHECK, interfaces=DUAL_STACK, firewall=recorded_firewall("inet-policy-drop"))
    assert "IPv6 input filtered by nft inet filter chain input: policy drop" in result.evidence


def test_link_local_only_passes_whatever_the_firewall() -> None:
    result = judge(CHECK, interfaces=LINK_LOCAL_ONLY, firewall=NOTHING)
    assert result.status is Status.PASS
    assert result.reason == "no global IPv6 address is configured"
    assert result.subjects == ()


def test_loopback_recorded_as_global_is_not_counted() -> None:
    odd = [
        {
            "name": "lo",
            "index": 1,
            "addresses": [{"family": "ipv6", "address": "::1", "prefixlen": 128}],
        }
    ]
    assert judge(CHECK, interfaces=odd, firewall=NOTHING).status is Status.PASS


def test_every_global_address_is_a_subject() -> None:
    second = {
        "name": "eth1",
        "index": 3,
        "addresses": [{"family": "ipv6", "address": "fd00:db8::1", "prefixlen": 64}],
    }
    result = judge(CHECK, interfaces=[*DUAL_STACK, second], firewall=NOTHING)
    assert result.status is Status.FAIL
    assert [(s.name, s.address) for s in result.subjects] == [
        ("eth0", "2001:db8::10"),
        ("eth1", "fd00:db8::1"),
    ]


def test_nft_not_collected_is_unknown() -> None:
    firewall = {"saves": {"ip6tables-legacy-save": "", "iptables-legacy-save": ""}}
    result = judge(
        CHECK,
        interfaces=DUAL_STACK,
        firewall=firewall,
        unavailable={"nft": "nft: permission denied (run as root)"},
    )
    assert result.status is Status.UNKNOWN
    assert "nft: permission denied (run as root)" in result.reason
    assert "eth0: 2001:db8::10/64" in result.evidence


def test_legacy_ip6tables_not_collected_is_unknown() -> None:
    result = judge(CHECK, interfaces=DUAL_STACK, firewall={"nft_json": EMPTY_NFT})
    assert result.status is Status.UNKNOWN
    assert "ip6tables-legacy-save not read" in result.reason


def test_legacy_module_absent_counts_as_read() -> None:
    result = judge(
        CHECK,
        interfaces=DUAL_STACK,
        firewall={"nft_json": EMPTY_NFT},
        modules_loaded=["nf_tables"],
        modules_builtin=[],
    )
    assert result.status is Status.FAIL
    assert any("ip6_tables is neither loaded nor built in" in e for e in result.evidence)


def test_addresses_not_read_is_unknown() -> None:
    result = judge(CHECK, firewall=NOTHING, unavailable={"interfaces": "netlink: denied"})
    assert result.status is Status.UNKNOWN
    assert "interfaces: netlink: denied" in result.reason


def test_image_is_unknown() -> None:
    result = judge(CHECK, source="root")
    assert result.status is Status.UNKNOWN
    assert "image" in result.reason


@pytest.mark.parametrize("profile", ["server", "disabled", "slaac-host", "router", "k8s-node"])
def test_applies_to_every_profile(profile: str) -> None:
    result: Any = judge(CHECK, profile, interfaces=DUAL_STACK, firewall=NOTHING)
    assert result.status is Status.FAIL
