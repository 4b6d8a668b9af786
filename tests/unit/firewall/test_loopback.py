"""Loopback spoofing (CIS loopback rows): the input path's verdicts for ::1 / 127.0.0.0/8 sources
arriving on an interface other than lo."""

from __future__ import annotations

from tests.unit.firewall.rulesets import (
    ACCEPT,
    DROP,
    fixture,
    inet_input,
    match,
    meta,
    payload,
    tcp_dport,
)
from v6gap.firewall.loopback import spoofed_loopback

LO_ONLY = [match(meta("iif"), "lo"), ACCEPT]
SPOOF_DROP = [match(meta("iif"), "lo", "!="), match(payload("ip6", "saddr"), "::1"), DROP]


def test_cis_rules_drop_every_class() -> None:
    found = spoofed_loopback(fixture("inet-policy-drop"))
    assert not found.accepted and not found.undecided
    assert found.evidence()[0].endswith("is dropped for every protocol and port")


def test_a_spoofing_drop_after_an_open_port_comes_too_late() -> None:
    found = spoofed_loopback(inet_input(LO_ONLY, [tcp_dport(22), ACCEPT], SPOOF_DROP))
    assert [r.describe() for r in found.accepted] == ["tcp 22"]
    early = spoofed_loopback(inet_input(LO_ONLY, SPOOF_DROP, [tcp_dport(22), ACCEPT]))
    assert not early.accepted


def test_an_accept_on_some_interfaces_counts_as_accepted() -> None:
    found = spoofed_loopback(inet_input(LO_ONLY, [match(meta("iifname"), "eth0"), ACCEPT]))
    assert {r.verdict for r in found.accepted} == {"conditional"}
    assert found.evidence()[0].startswith(
        "loopback spoofing: ::1/128 as source on an interface other than lo is accepted"
    )


def test_ipv4_loopback_range_is_asked_for_ipv4() -> None:
    ruleset = inet_input(
        LO_ONLY,
        [match(payload("ip", "saddr"), {"prefix": {"addr": "127.0.0.0", "len": 8}}), DROP],
        policy="accept",
    )
    assert not spoofed_loopback(ruleset, "ipv4").accepted
    assert spoofed_loopback(ruleset, "ipv6").accepted  # the IPv4 rule does not cover ::1
    assert spoofed_loopback(ruleset, "ipv4").source == "127.0.0.0/8"


def test_seed_ruleset_accepts_spoofed_loopback_on_its_open_ports() -> None:
    found = spoofed_loopback(fixture("seed-option2"))
    assert {"tcp 22", "tcp 80", "tcp 443"} <= {r.describe() for r in found.accepted}
