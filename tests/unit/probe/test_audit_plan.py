"""What ``audit --probe-from-netns`` probes: the host's global addresses, its listeners' ports."""

from __future__ import annotations

import msgspec
import pytest

from tests.conftest import make_snapshot
from v6gap.errors import InputError
from v6gap.probe.audit import listener_ports, plan_for
from v6gap.probe.targets import Targets

SOCKETS = [
    {"proto": "tcp", "family": "ipv6", "address": "::", "port": 22, "v6only": False},
    {"proto": "tcp", "family": "ipv4", "address": "0.0.0.0", "port": 80},
    {"proto": "tcp", "family": "ipv6", "address": "::1", "port": 631},  # loopback only
    {"proto": "tcp", "family": "ipv4", "address": "127.0.0.53", "port": 53},  # loopback only
    {"proto": "udp", "family": "ipv6", "address": "::", "port": 5353, "v6only": False},
]
INTERFACES = [
    {"name": "eth0", "index": 2, "addresses": [
        {"family": "ipv4", "address": "192.0.2.10", "prefixlen": 26},
        {"family": "ipv6", "address": "2001:db8:1::10", "prefixlen": 64},
        {"family": "ipv6", "address": "fe80::1", "prefixlen": 64, "scope": "link"},
    ]},
]  # fmt: skip


def test_listener_ports_leave_loopback_out() -> None:
    snap = make_snapshot(sockets=SOCKETS)
    assert listener_ports(snap) == ((22, 80), (5353,))


def test_plan_adds_the_listeners_to_the_given_or_common_ports() -> None:
    snap = make_snapshot(sockets=SOCKETS, interfaces=INTERFACES)
    plan = plan_for(snap, "443,80")
    assert plan.targets == Targets(("192.0.2.10",), ("2001:db8:1::10",))
    assert (plan.tcp, plan.udp) == ((22, 80, 443), (5353,))
    assert plan.note == (
        "ports: the host's 2 TCP listener port(s) and --probe-ports 443,80; "
        "UDP: the listener port(s) 5353"
    )
    common = plan_for(snap, None, services=None)
    assert len(common.tcp) == 100 and {22, 80} <= set(common.tcp)  # both among the common
    assert "the 100 most common TCP ports, from the built-in list" in common.note


def test_a_host_without_global_addresses_is_refused() -> None:
    with pytest.raises(InputError, match="has no global address to probe"):
        plan_for(make_snapshot(sockets=SOCKETS), None)
    assert msgspec.json.encode(make_snapshot())  # the snapshot helper itself is sound
