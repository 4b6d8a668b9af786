"""EXP-01..05 on snapshot data: a passing and a failing example for each, side by side."""

from __future__ import annotations

from typing import Any

from tests.unit.analysis_fw.rulesets import recorded_firewall
from tests.unit.checks.helpers import judge
from v6gap.checks.exp import (
    dual_stack_sockets,
    ipv6_bypass_listeners,
    ipv6_only_listeners,
    listener_inventory,
    scanner_targets,
)
from v6gap.model import Status


def sock(family: str, address: str, port: int, v6only: Any = None, **extra: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "proto": extra.pop("proto", "tcp"),
        "family": family,
        "address": address,
        "port": port,
        "process": extra.pop("process", "svc"),
    }
    if v6only is not None:
        entry["v6only"] = v6only
    entry.update(extra)
    return entry


SSHD_DUAL = sock("ipv6", "::", 22, False, process="sshd", pid=640)
NGINX_V4 = sock("ipv4", "0.0.0.0", 80, process="nginx")
NGINX_V6 = sock("ipv6", "::", 80, True, process="nginx")
REDIS_V6 = sock("ipv6", "::", 6379, True, process="redis-server")
PG_LOOPBACK = [
    sock("ipv4", "127.0.0.1", 5432, process="postgres"),
    sock("ipv6", "::1", 5432, True, process="postgres"),
]


# --------------------------------------------------------------------------- EXP-01


def test_exp01_lists_every_listener_with_its_scope() -> None:
    sockets = [SSHD_DUAL, NGINX_V4, NGINX_V6, *PG_LOOPBACK, sock("ipv6", "::", 9000)]
    result = judge(listener_inventory.CHECK, sockets=sockets)
    assert result.status is Status.INFO
    scopes = {(s.port, s.family): s.value for s in result.subjects}
    assert scopes[(22, "ipv6")] == "dual-stack"
    assert scopes[(80, "ipv4")] == "IPv4 only"
    assert scopes[(80, "ipv6")] == "IPv6 only"
    assert scopes[(5432, "ipv6")] == "loopback"
    assert scopes[(9000, "ipv6")] == "IPv6 (dual-stack unknown)"
    assert "tcp [::]:22 (sshd, pid 640): dual-stack" in result.evidence


def test_exp01_without_sockets_is_unknown() -> None:
    result = judge(listener_inventory.CHECK, unavailable={"sockets": "/proc/net: missing"})
    assert result.status is Status.UNKNOWN
    assert judge(listener_inventory.CHECK, source="root").status is Status.UNKNOWN


# --------------------------------------------------------------------------- EXP-02


def test_exp02_passes_when_dual_stack_and_paired_listeners_cover_ipv4() -> None:
    result = judge(ipv6_only_listeners.CHECK, sockets=[SSHD_DUAL, NGINX_V4, NGINX_V6, *PG_LOOPBACK])
    assert result.status is Status.PASS


def test_exp02_fails_on_an_ipv6_only_service() -> None:
    loopback_v4 = sock("ipv4", "127.0.0.1", 6379, process="redis-server")
    result = judge(ipv6_only_listeners.CHECK, sockets=[SSHD_DUAL, REDIS_V6, loopback_v4])
    assert result.status is Status.FAIL
    assert [(s.port, s.process) for s in result.subjects] == [(6379, "redis-server")]


def test_exp02_specific_ipv6_address_is_ipv6_only_whatever_v6only_says() -> None:
    bound = sock("ipv6", "2001:db8::10", 8443, False)
    assert judge(ipv6_only_listeners.CHECK, sockets=[bound]).status is Status.FAIL


def test_exp02_unknown_dual_stack_bit_is_unknown_unless_ipv4_settles_it() -> None:
    unsure = sock("ipv6", "::", 9000)
    assert judge(ipv6_only_listeners.CHECK, sockets=[unsure]).status is Status.UNKNOWN
    paired = [unsure, sock("ipv4", "0.0.0.0", 9000)]
    assert judge(ipv6_only_listeners.CHECK, sockets=paired).status is Status.PASS


# --------------------------------------------------------------------------- EXP-03


def test_exp03_fails_on_the_seed_headline_case_naming_only_the_bypassed_port() -> None:
    """IPv4 accepts 22 and refuses 6379; IPv6 accepts both: only redis is a bypass."""
    result = judge(
        ipv6_bypass_listeners.CHECK,
        sockets=[SSHD_DUAL, REDIS_V6],
        firewall=recorded_firewall("v4-ssh-only-v6-empty"),
    )
    assert result.status is Status.FAIL
    assert [(s.port, s.process) for s in result.subjects] == [(6379, "redis-server")]
    assert any(e.startswith("tcp [::]:22 (sshd") and "IPv4 accept" in e for e in result.evidence)
    assert any("IPv4 decided by:" in e and "policy drop" in e for e in result.evidence)
    assert "ip6tables" in (result.remediation or "")  # IPv4 is filtered through iptables


def test_exp03_passes_when_ipv6_refuses_what_ipv4_refuses() -> None:
    result = judge(
        ipv6_bypass_listeners.CHECK,
        sockets=[SSHD_DUAL, REDIS_V6],
        firewall=recorded_firewall("inet-policy-drop"),
    )
    assert result.status is Status.PASS, result


def test_exp03_says_when_nat_rewrites_destinations() -> None:
    # docker-proxy listens on 8080 for both families; Docker's nat DNATs the port to its
    # container, which the engine does not follow: the evidence says so beside the verdicts.
    proxy = sock("ipv6", "::", 8080, False, process="docker-proxy")
    result = judge(
        ipv6_bypass_listeners.CHECK,
        sockets=[proxy],
        firewall=recorded_firewall("docker-published-port-iptables"),
    )
    notes = [e for e in result.evidence if e.startswith("note: ")]
    assert [n.split(" (")[0] for n in notes] == [
        "note: ip6tables-save: *nat rewrites destinations in 1 rule",
        "note: iptables-save: *nat rewrites destinations in 1 rule",
    ]


def test_exp03_unknown_when_a_ruleset_source_was_not_read() -> None:
    result = judge(
        ipv6_bypass_listeners.CHECK,
        sockets=[REDIS_V6],
        firewall=recorded_firewall("v4-ssh-only-v6-empty"),
        unavailable={"ip6tables-legacy-save": "permission denied"},
    )
    assert result.status is Status.UNKNOWN
    assert "not read" in result.reason


def test_exp03_passes_when_ipv6_has_no_network_listener() -> None:
    result = judge(
        ipv6_bypass_listeners.CHECK,
        sockets=[NGINX_V4, *PG_LOOPBACK],
        firewall=recorded_firewall("v4-ssh-only-v6-empty"),
    )
    assert result.status is Status.PASS


def test_exp03_no_filter_on_either_family_is_no_gap() -> None:
    result = judge(
        ipv6_bypass_listeners.CHECK, sockets=[REDIS_V6], firewall=recorded_firewall("empty")
    )
    assert result.status is Status.PASS


def test_exp03_unknown_firewall_is_unknown() -> None:
    result = judge(
        ipv6_bypass_listeners.CHECK,
        sockets=[REDIS_V6],
        unavailable={"nft": "nft: permission denied (run as root)"},
    )
    assert result.status is Status.UNKNOWN and "permission denied" in result.reason


# --------------------------------------------------------------------------- EXP-04


def test_exp04_lists_global_and_ula_addresses_only() -> None:
    eth0 = {
        "name": "eth0",
        "index": 2,
        "addresses": [
            {"family": "ipv6", "address": "2001:db8::10", "prefixlen": 64},
            {"family": "ipv6", "address": "fd12:3456::10", "prefixlen": 64},
            {"family": "ipv6", "address": "fe80::1", "prefixlen": 64, "scope": "link"},
            {"family": "ipv4", "address": "192.0.2.10", "prefixlen": 24},
        ],
    }
    lo = {
        "name": "lo",
        "index": 1,
        "addresses": [{"family": "ipv6", "address": "::1", "prefixlen": 128, "scope": "host"}],
    }
    result = judge(scanner_targets.CHECK, interfaces=[lo, eth0])
    assert result.status is Status.INFO
    assert [(s.address, s.value) for s in result.subjects] == [
        ("2001:db8::10", "global"),
        ("fd12:3456::10", "ULA: reachable only inside the site"),
    ]


def test_exp04_none_and_missing() -> None:
    assert judge(scanner_targets.CHECK, interfaces=[]).reason == "no global IPv6 address"
    missing = judge(scanner_targets.CHECK, unavailable={"interfaces": "netlink: denied"})
    assert missing.status is Status.UNKNOWN


# --------------------------------------------------------------------------- EXP-05


def test_exp05_passes_without_dual_stack_sockets() -> None:
    result = judge(
        dual_stack_sockets.CHECK, sockets=[NGINX_V4, NGINX_V6], sysctl={"net.ipv6.bindv6only": "0"}
    )
    assert result.status is Status.PASS
    assert any("net.ipv6.bindv6only = 0" in e for e in result.evidence)


def test_exp05_fails_on_a_dual_stack_socket() -> None:
    result = judge(dual_stack_sockets.CHECK, sockets=[SSHD_DUAL, NGINX_V4])
    assert result.status is Status.FAIL
    assert [(s.port, s.value) for s in result.subjects] == [(22, "dual-stack")]


def test_exp05_unknown_bit_is_unknown() -> None:
    result = judge(
        dual_stack_sockets.CHECK,
        sockets=[sock("ipv6", "::", 9000)],
        unavailable={"sockets.v6only": "sock_diag unavailable"},
    )
    assert result.status is Status.UNKNOWN
    assert any("sock_diag unavailable" in e for e in result.evidence)
