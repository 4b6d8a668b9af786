"""NDP-06: where RAs are taken, an RA guard (decidable here only when nothing filters IPv6)."""

from __future__ import annotations

import pytest

from tests.unit.analysis_fw.rulesets import recorded_firewall
from tests.unit.checks.helpers import judge
from tests.unit.firewall.rulesets import ACCEPT, match, payload, snapshot_firewall
from v6gap.checks.ndp import ra_guard
from v6gap.model import Status, Subject

CHECK = ra_guard.CHECK

EMPTY_NFT = recorded_firewall("empty")["nft_json"]
NOTHING = {
    "nft_json": EMPTY_NFT,
    "saves": {"ip6tables-legacy-save": "", "iptables-legacy-save": ""},
}
RA_ROUTE = [
    {"family": "ipv6", "dst": "default", "dev": "eth0", "gateway": "fe80::1", "proto": "ra"}
]
ROUTER_NEIGHBOUR = [
    {
        "family": "ipv6",
        "address": "fe80::1",
        "dev": "eth0",
        "lladdr": "52:54:00:00:00:01",
        "state": "REACHABLE",
        "router": True,
    },
    {"family": "ipv6", "address": "fe80::2", "dev": "eth0", "state": "STALE"},
]
UNGUARDED = Subject(kind="firewall", name="input", family="ipv6", value="unfiltered")


def test_slaac_host_without_ipv6_filtering_fails_and_names_the_router() -> None:
    result = judge(
        CHECK, "slaac-host", firewall=NOTHING, routes=RA_ROUTE, neighbours=ROUTER_NEIGHBOUR
    )
    assert result.status is Status.FAIL
    assert result.reason == (
        "no RA guard: nothing filters IPv6 input, so any host on the link can send RAs"
    )
    assert result.subjects == (UNGUARDED,)
    assert result.evidence[:2] == (
        "router in use: fe80::1 on eth0 (router flag)",
        "router in use: fe80::1 via eth0",
    )
    assert "IPv6 input: no base chain seen on hooks input, prerouting, ingress" in result.evidence
    assert not any("fe80::2" in e for e in result.evidence)
    assert "nd-router-advert" in CHECK.meta.remediation


def test_ipv4_only_firewall_is_no_guard() -> None:
    result = judge(CHECK, "slaac-host", firewall=recorded_firewall("v4-ssh-only-v6-empty"))
    assert result.status is Status.FAIL
    assert result.subjects == (UNGUARDED,)
    assert result.evidence[0] == "no IPv6 router in use now"


def test_k8s_node_is_judged_too() -> None:
    result = judge(CHECK, "k8s-node", firewall=NOTHING, routes=RA_ROUTE)
    assert result.status is Status.FAIL


@pytest.mark.parametrize("profile", ["server", "disabled", "router"])
def test_profiles_that_take_no_ras_skip(profile: str) -> None:
    result = judge(CHECK, profile, firewall=NOTHING, routes=RA_ROUTE)
    assert result.status is Status.SKIP
    assert "k8s-node, slaac-host" in result.reason


def test_seed_ra_guard_is_no_guard() -> None:
    """The seed's ra_guard chain is never entered and its input chain accepts RAs from all of
    fe80::/10: any host on the link can still send RAs."""
    result = judge(CHECK, "slaac-host", firewall=recorded_firewall("seed-option2"), routes=RA_ROUTE)
    assert result.status is Status.FAIL
    assert result.reason == "no RA guard: RAs are accepted from every link-local source"
    assert "router in use: fe80::1 via eth0" in result.evidence


def _guarded(router: str) -> dict[str, object]:
    ra = match(payload("icmpv6", "type"), "nd-router-advert")
    return snapshot_firewall([ra, match(payload("ip6", "saddr"), router), ACCEPT])


def test_guard_allowing_the_router_in_use_passes() -> None:
    result = judge(CHECK, "slaac-host", firewall=_guarded("fe80::1"), routes=RA_ROUTE)
    assert result.status is Status.PASS, result
    assert "accepted from: fe80::1/128" in result.evidence


def test_guard_that_drops_the_router_in_use_fails() -> None:
    result = judge(CHECK, "slaac-host", firewall=_guarded("fe80::2"), routes=RA_ROUTE)
    assert result.status is Status.FAIL
    assert result.reason == "the RA guard drops the router in use now: fe80::1"


def test_ruleset_not_read_is_unknown() -> None:
    result = judge(
        CHECK,
        "slaac-host",
        firewall={"saves": {"ip6tables-legacy-save": ""}},
        unavailable={"nft": "nft: permission denied (run as root)"},
    )
    assert result.status is Status.UNKNOWN
    assert "nft: permission denied (run as root)" in result.reason


def test_image_is_unknown() -> None:
    result = judge(CHECK, "slaac-host", source="root")
    assert result.status is Status.UNKNOWN
    assert "image" in result.reason


def test_kernel_without_ipv6_skips() -> None:
    result = judge(CHECK, "slaac-host", ipv6_proc=False, cmdline="ro ipv6.disable=1")
    assert result.status is Status.SKIP
    assert "ipv6.disable=1" in result.reason
