"""Rendering: the files each profile gets, and none of the first seed's flaws."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import make_snapshot
from tests.unit.firewall.rulesets import Nft
from v6gap.harden.owner import (
    BOOT_WANTS_PATH,
    DROPIN_PATH,
    UNIT_PATH,
    WANTS_PATH,
    ruleset_owner,
)
from v6gap.harden.policy import parse_policy
from v6gap.harden.render import (
    MODPROBE_PATH,
    NFTABLES_PATH,
    SYSCTL_PATH,
    render,
    render_modprobe,
    render_nftables,
    render_sysctl,
    ruleset_artefact,
)

POLICY = """
services:
  - {port: 22}
  - {port: 443, sources: [2001:db8::/32, 192.0.2.0/24]}
routers: [fe80::1]
"""


def chain_rules(text: str, name: str = "input") -> list[str]:
    chain = text.split(f"chain {name} {{", 1)[1].split("}\n", 1)[0]
    lines = [line.strip() for line in chain.splitlines()]
    return [line for line in lines if line and not line.startswith("type filter hook")]


def input_rules(text: str) -> list[str]:
    return chain_rules(text, "input")


def test_files_in_a_stable_order() -> None:
    artefacts = render(parse_policy(POLICY))
    assert [a.path for a in artefacts] == [
        SYSCTL_PATH,
        MODPROBE_PATH,
        NFTABLES_PATH,
        BOOT_WANTS_PATH,
    ]
    # nftables.service is disabled on a stock Debian: the main file needs it pulled in at boot.
    assert artefacts[3].content.endswith("[Unit]\nWants=nftables.service\n")


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
    # Off, and closed should one interface be turned back on by hand; nothing else.
    assert "net.ipv6.conf.*.accept_ra = 0\n" in disabled
    assert "net.ipv6.conf.*.accept_redirects = 0\n" in disabled
    assert "forwarding" not in disabled and "gc_thresh" not in disabled


def test_server_closes_every_knob_ndp07_judges() -> None:
    from v6gap.checks.ndp.ra_defence_in_depth import WANTED

    text = render_sysctl(parse_policy(POLICY))
    for key, (want, _) in WANTED.items():
        assert f"net.ipv6.conf.*.{key} = {want}\n" in text


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


@pytest.mark.parametrize("profile", ["server", "slaac-host", "router", "k8s-node"])
def test_forward_chain_defaults_to_deny_for_every_profile(profile: str) -> None:
    text = render_nftables(parse_policy(f"profile: {profile}"))
    assert "hook forward priority filter; policy drop;" in text
    rules = chain_rules(text, "forward")
    assert not any(r == "accept" or r.startswith("meta l4proto ipv6-icmp accept") for r in rules)
    if profile in ("router", "k8s-node"):
        # Replies, and the ICMP errors about them (packet-too-big) as related; nothing else
        # unless the policy names it.
        assert rules[:2] == ["ct state invalid drop", "ct state established,related accept"]
        assert not any("icmp" in r for r in rules)
    else:
        assert rules == [r for r in rules if r.startswith("limit rate")]  # only the log


def test_forward_allowances_and_pod_prefixes() -> None:
    text = render_nftables(
        parse_policy(
            "profile: k8s-node\nforward:\n"
            "  pod_prefixes: [10.244.0.0/16, 'fd00:10:244::/56']\n"
            "  allow:\n"
            "    - {destinations: ['2001:db8:5::/48', 192.0.2.0/24], proto: tcp, port: 443}\n"
            "    - {sources: ['2001:db8:7::/48'], proto: udp, name: lan}\n"
            "    - {proto: tcp, port: 22}\n"
        )
    )
    rules = chain_rules(text, "forward")
    for rule in (
        'ip saddr 10.244.0.0/16 accept comment "pods"',
        'ip6 daddr fd00:10:244::/56 accept comment "pods"',
        "ip daddr 192.0.2.0/24 tcp dport 443 accept",
        "ip6 daddr 2001:db8:5::/48 tcp dport 443 accept",
        'ip6 saddr 2001:db8:7::/48 meta l4proto udp accept comment "lan"',
        "tcp dport 22 accept",
    ):
        assert rule in rules, rules
    assert not any(r.startswith("ip saddr") and "udp" in r for r in rules)  # IPv6-only entry
    assert rules[-1].startswith("limit rate")  # then the policy drop
    router = render_nftables(parse_policy("profile: router\nforward: {pod_prefixes: []}"))
    assert "pods" not in router


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
    rules = chain_rules(text, "output")
    # Only the ICMP a host must send (RFC 4890 4.4), never all of it.
    assert "meta l4proto ipv6-icmp accept" not in rules
    assert "meta l4proto icmp accept" not in rules
    assert "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept" in rules
    assert any("mld2-listener-report" in r for r in rules)
    assert any("packet-too-big" in r for r in rules)
    assert not any("redirect" in r for r in rules)
    slaac = chain_rules(
        render_nftables(parse_policy("profile: slaac-host\noutput: {policy: drop}")), "output"
    )
    assert any("nd-router-solicit" in r for r in slaac)
    router = chain_rules(
        render_nftables(parse_policy("profile: router\noutput: {policy: drop}")), "output"
    )
    assert any("nd-router-advert" in r for r in router)


# --------------------------------------------------------------------------- drop-in table

STOCK_NFT = "#!/usr/sbin/nft -f\nflush ruleset\ntable inet filter {\n}\n"
UFW_ON = {"/etc/ufw/ufw.conf": {"text": "# comment\nENABLED=yes\nLOGLEVEL=low\n"}}


@pytest.mark.parametrize(
    ("fields", "owner"),
    [
        ({"files": {NFTABLES_PATH: {"text": STOCK_NFT}}}, "/etc/nftables.conf was not written"),
        ({"files": UFW_ON}, "ufw is enabled (/etc/ufw/ufw.conf: ENABLED=yes)"),
        ({"files": {"/etc/ufw/ufw.conf": {"text": "ENABLED=YES\n"}}}, "ufw is enabled"),
        (
            {"firewall": {"nft_json": Nft().table("inet", "firewalld").text()}},
            "firewalld's table exists (inet firewalld)",
        ),
        ({"processes": ["firewalld"]}, "firewalld is running (no ruleset read)"),
        (
            {
                "firewall": {
                    "nft_json": Nft()
                    .table("ip", "filter")
                    .chain("ip", "filter", "DOCKER-USER")
                    .text()
                }
            },
            "container chains exist (nftables table ip filter: DOCKER-USER)",
        ),
    ],
)
def test_another_owner_gets_a_drop_in_table(fields: dict[str, Any], owner: str) -> None:
    policy = parse_policy(POLICY)
    snapshot = make_snapshot(**fields)
    found = ruleset_owner(snapshot)
    assert found is not None and found.startswith(owner), found
    artefacts = render(policy, snapshot)
    paths = [a.path for a in artefacts]
    assert NFTABLES_PATH not in paths  # the other tool's main file is left alone
    assert paths[2:] == [DROPIN_PATH, UNIT_PATH, WANTS_PATH]
    table = ruleset_artefact(artefacts)
    assert table is not None and table.path == DROPIN_PATH
    assert "a drop here is final" in table.content and owner in table.content
    assert input_rules(table.content) == input_rules(render_nftables(policy))
    unit = artefacts[3].content
    assert f"ExecStart=/usr/sbin/nft -f {DROPIN_PATH}\n" in unit
    assert "PartOf=nftables.service" in unit and "Before=network-pre.target" in unit
    assert artefacts[4].content.endswith("[Unit]\nWants=v6gap-nftables.service\n")


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"files": {NFTABLES_PATH: {"text": render_nftables(parse_policy(POLICY))}}},
        {"files": {NFTABLES_PATH: {"text": "# only comments\n\n"}}},
        {"files": {"/etc/ufw/ufw.conf": {"text": "ENABLED=no\n"}}},
        {"files": {"/etc/ufw/ufw.conf": {"text": "ENABLED=yes\nENABLED=no\n"}}},
        {"processes": ["sshd"]},
        # A firewalld elsewhere on the machine (processes are machine-wide) with this
        # namespace's ruleset read and no firewalld table in it.
        {"processes": ["firewalld"], "firewall": {"nft_json": Nft().table("ip", "x").text()}},
    ],
)
def test_v6gap_owns_the_main_file_otherwise(fields: dict[str, Any]) -> None:
    snapshot = make_snapshot(**fields)
    assert ruleset_owner(snapshot) is None
    artefacts = render(parse_policy(POLICY), snapshot)
    assert [a.path for a in artefacts] == [
        SYSCTL_PATH,
        MODPROBE_PATH,
        NFTABLES_PATH,
        BOOT_WANTS_PATH,
    ]
    assert ruleset_artefact(artefacts) == artefacts[2]
    assert "drop-in" not in artefacts[2].content
