"""The policy file: the documented example is valid, every bad input is one line naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from v6gap.errors import PolicyError
from v6gap.harden.policy import dump_policy, load_policy, parse_policy
from v6gap.model import Profile

EXAMPLE = Path(__file__).resolve().parents[3] / "docs" / "v6gap.example.yaml"


def test_documented_example_is_valid() -> None:
    policy = load_policy(str(EXAMPLE))
    assert policy.profile is Profile.SERVER
    assert [(s.proto, s.port) for s in policy.services] == [("tcp", 22), ("tcp", 443), ("udp", 53)]
    assert policy.routers == ("fe80::1",)


def test_empty_policy_takes_the_defaults() -> None:
    policy = parse_policy("")
    assert policy.profile is Profile.SERVER and policy.routers is None
    assert not policy.tunnels_used and policy.logging.enabled


def test_dump_round_trips() -> None:
    policy = load_policy(str(EXAMPLE))
    assert parse_policy(dump_policy(policy)) == policy


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("colour: red", "p.yaml: colour: unknown key"),
        ("services: [{port: 22, colour: red}]", "p.yaml: services[0].colour: unknown key"),
        ("echo: {per_second: 3}", "p.yaml: echo.per_second: unknown key"),
        (
            "services: [{port: 22}, {port: 80}, {port: 70000}]",
            "p.yaml: services[2].port: 70000 is not a port (1-65535)",
        ),
        ("services: [{port: 0}]", "p.yaml: services[0].port: 0 is not a port (1-65535)"),
        (
            "services: [{port: 22, sources: [2001:db8::/129]}]",
            "p.yaml: services[0].sources[0]: '2001:db8::/129' is not an IPv4 or IPv6 prefix",
        ),
        (
            "services: [{port: 22, sources: [192.0.2.1/24]}]",
            "p.yaml: services[0].sources[0]: '192.0.2.1/24' is not an IPv4 or IPv6 prefix",
        ),
        ("services: [{port: 22, proto: sctp}]", "p.yaml: services[0].proto: "),
        ("services: [{port: ssh}]", "p.yaml: services[0].port: expected int, got str"),
        ("profile: desktop", "p.yaml: profile: 'desktop' is not a profile (server, disabled"),
        ("routers: [2001:db8::1]", "p.yaml: routers[0]: 2001:db8::1 is not link-local"),
        ("routers: [gateway]", "p.yaml: routers[0]: 'gateway' is not an IPv6 address"),
        ("ndp: {gc_thresh1: 5000}", "p.yaml: ndp: gc_thresh1 < gc_thresh2 < gc_thresh3"),
        ("echo: {burst: 0}", "p.yaml: echo.burst: 0 is out of range"),
        ("output: {policy: reject}", "p.yaml: output.policy: "),
        (
            "output: {policy: drop, allow: [{port: 99999}]}",
            "p.yaml: output.allow[0].port: 99999 is not a port",
        ),
        ('logging: {prefix: "a\\"b"}', "p.yaml: logging.prefix: quotes"),
        ("forward: {allow: [{port: 80, proto: tcp}]}", "p.yaml: forward: only for profiles"),
        (
            "profile: router\nforward: {pod_prefixes: [10.0.0.0/8]}",
            "p.yaml: forward.pod_prefixes: only for profile k8s-node",
        ),
        (
            "profile: k8s-node\nforward: {pod_prefixes: [10.0.0.1/8]}",
            "p.yaml: forward.pod_prefixes[0]: '10.0.0.1/8' is not",
        ),
        (
            "profile: router\nforward: {allow: [{port: 80}]}",
            "p.yaml: forward.allow[0].port: needs proto",
        ),
        (
            "profile: router\nforward: {allow: [{proto: tcp, port: 65536}]}",
            "p.yaml: forward.allow[0].port: 65536 is not a port",
        ),
        ("profile: router\nforward: {allow: [{name: x}]}", "p.yaml: forward.allow[0]: names no"),
        (
            "profile: router\nforward: {allow: [{sources: [10.0.0.0/8], destinations: ['::/0']}]}",
            "p.yaml: forward.allow[0]: sources and destinations share no IP version",
        ),
        (
            "profile: router\nforward: {allow: [{destinations: [bad]}]}",
            "p.yaml: forward.allow[0].destinations[0]: 'bad' is not",
        ),
        ("profile: router\nforward: {deny: []}", "p.yaml: forward.deny: unknown key"),
        ("- server", "p.yaml: the policy must be a mapping of keys, not a list"),
        ("services: [", "p.yaml: line 1: "),
    ],
)
def test_bad_policy_is_one_line_naming_the_key(text: str, message: str) -> None:
    with pytest.raises(PolicyError) as raised:
        parse_policy(text, "p.yaml")
    err = str(raised.value)
    assert "\n" not in err
    assert err.startswith(message), err


def test_forward_allowances_for_routers_and_nodes() -> None:
    policy = parse_policy(
        "profile: k8s-node\nforward:\n  pod_prefixes: [10.244.0.0/16, fd00:10:244::/56]\n"
        "  allow: [{destinations: [2001:db8:5::/48], proto: tcp, port: 443}]\n"
    )
    assert policy.forward.pod_prefixes == ("10.244.0.0/16", "fd00:10:244::/56")
    assert policy.forward.allow[0].port == 443


def test_unreadable_policy_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(str(tmp_path / "missing.yaml"))
