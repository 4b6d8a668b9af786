"""Rendering: the files each profile gets, and none of the first seed's flaws."""

from __future__ import annotations

import re

from tests.conftest import make_snapshot
from v6gap.harden.policy import parse_policy
from v6gap.harden.render import (
    MODPROBE_PATH,
    NFTABLES_PATH,
    SYSCTL_PATH,
    render,
    render_modprobe,
    render_nftables,
    render_sysctl,
)

POLICY = """
services:
  - {port: 22}
  - {port: 443, sources: [2001:db8::/32, 192.0.2.0/24]}
routers: [fe80::1]
"""


def input_rules(text: str) -> list[str]:
    chain = text.split("chain input {", 1)[1].split("}\n", 1)[0]
    return [line.strip() for line in chain.splitlines() if line.strip()]


def test_three_files_in_a_stable_order() -> None:
    paths = [a.path for a in render(parse_policy(POLICY))]
    assert paths == [SYSCTL_PATH, MODPROBE_PATH, NFTABLES_PATH]


def test_server_sysctls_reach_every_interface() -> None:
    text = render_sysctl(parse_policy(POLICY))
    for key in ("accept_ra", "accept_redirects", "accept_source_route"):
        for scope in ("all", "default", "*"):
            assert f"net.ipv6.conf.{scope}.{key} = 0\n" in text
    assert "net.ipv6.conf.all.forwarding = 0\n" in text
    assert "net.ipv6.neigh.default.gc_thresh3 = 1024\n" in text


def test_profiles_set_forwarding_and_ra() -> None:
    router = render_sysctl(parse_policy("profile: router"))
    assert "net.ipv6.conf.all.forwarding = 1\n" in router
    slaac = render_sysctl(parse_policy("profile: slaac-host"))
    assert "net.ipv6.conf.all.accept_ra = 1\n" in slaac
    disabled = render_sysctl(parse_policy("profile: disabled"))
    assert "net.ipv6.conf.all.disable_ipv6 = 1\n" in disabled
    assert "accept_ra" not in disabled


def test_tunnels_blocked_unless_used() -> None:
    assert "install sit /bin/false\n" in render_modprobe(parse_policy(""))
    assert "install" not in render_modprobe(parse_policy("tunnels_used: true"))


def test_ruleset_avoids_the_seed_flaws() -> None:
    text = render_nftables(parse_policy(POLICY))
    assert "nexthdr" not in text
    assert text.count("table inet v6gap {") == 1
    rules = input_rules(text)
    # RA guard in the input chain itself, before any generic ICMPv6 accept.
    guard = rules.index("icmpv6 type nd-router-advert ip6 saddr fe80::1 ip6 hoplimit 255 accept")
    assert rules[guard + 1] == "icmpv6 type nd-router-advert drop"
    generic = [i for i, r in enumerate(rules) if "icmpv6" in r and "nd-router-advert" not in r]
    assert guard < min(generic)
    assert not any(re.fullmatch(r"(meta l4proto ipv6-icmp )?accept", r) for r in rules)
    # The rate-limited echo accepts are the only echo accepts.
    echo = [r for r in rules if "echo-request" in r]
    assert len(echo) == 2 and all("limit rate" in r for r in echo)
    assert 'iif != "lo" ip6 saddr ::1 drop' in rules
    assert rules[-1].startswith("limit rate") and " log prefix " in rules[-1]
    assert "ip6 saddr 2001:db8::/32 tcp dport 443 accept" in rules
    assert "ip saddr 192.0.2.0/24 tcp dport 443 accept" in rules
    assert "tcp dport 22 accept" in rules


def test_forward_policy_follows_the_profile() -> None:
    assert "hook forward priority filter; policy drop;" in render_nftables(parse_policy(""))
    k8s = render_nftables(parse_policy("profile: k8s-node"))
    assert "hook forward priority filter; policy accept;" in k8s


def test_unset_routers_come_from_the_snapshot() -> None:
    snap = make_snapshot(
        routes=[{"family": "ipv6", "dst": "default", "gateway": "fe80::abcd", "dev": "eth0"}],
        neighbours=[{"family": "ipv6", "address": "fe80::2", "dev": "eth0", "router": True}],
    )
    text = render_nftables(parse_policy(""), snap)
    assert "ip6 saddr { fe80::abcd, fe80::2 } ip6 hoplimit 255 accept" in text
    assert "ip6 saddr fe80::/10 ip6 hoplimit 255 accept" in render_nftables(parse_policy(""))


def test_output_drop_keeps_essentials_and_allowed() -> None:
    text = render_nftables(
        parse_policy(
            "output: {policy: drop, allow: "
            "[{port: 53, proto: udp, destinations: [2001:db8::53/128]}]}"
        )
    )
    assert "hook output priority filter; policy drop;" in text
    assert "ip6 daddr 2001:db8::53/128 udp dport 53 accept" in text
    assert 'oif "lo" accept' in text
