"""Port specifications and targets: what the user named, and nothing else."""

from __future__ import annotations

import socket
from typing import List, Sequence, Tuple

import pytest

from v6gap.errors import InputError
from v6gap.probe.ports import ALL_PORTS, merge_ports, parse_port_spec, top_ports
from v6gap.probe.targets import Targets, resolve_targets


def test_port_spec_lists_and_ranges() -> None:
    assert parse_port_spec("22,80,1000-1003") == (22, 80, 1000, 1001, 1002, 1003)
    assert parse_port_spec(" 443 , 80,80 ") == (80, 443)
    assert parse_port_spec("65535") == (65535,)


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("", "empty"),
        ("22,,80", "empty"),
        ("http", "not a port"),
        ("0", "outside"),
        ("1-70000", "outside"),
        ("2000-1000", "backwards"),
        ("1-2-3", "not a port"),
    ],
)
def test_bad_port_specs_say_what_is_wrong(spec: str, words: str) -> None:
    with pytest.raises(InputError, match=words):
        parse_port_spec(spec)


def test_top_and_all() -> None:
    assert top_ports(3) == (80, 443, 22)
    assert len(set(top_ports(100))) == 100
    assert len(ALL_PORTS) == 65535 and ALL_PORTS[0] == 1 and ALL_PORTS[-1] == 65535
    with pytest.raises(InputError, match="--top 0"):
        top_ports(0)
    with pytest.raises(InputError, match=r"choose 1\.\."):
        top_ports(100000)
    assert merge_ports((80, 22), (22, 443)) == (22, 80, 443)


def fake_resolver(name: str) -> Sequence[Tuple[int, str]]:
    table = {
        "dual.example": [
            (int(socket.AF_INET), "192.0.2.10"),
            (int(socket.AF_INET6), "2001:db8::10"),
            (int(socket.AF_INET), "192.0.2.10"),  # one per socket type: deduplicated
        ],
        "none.example": [],
    }
    return table[name]


def test_names_and_addresses_resolve_by_family() -> None:
    got = resolve_targets(["dual.example", "198.51.100.7", "2001:db8::10"], fake_resolver)
    assert got == Targets(("192.0.2.10", "198.51.100.7"), ("2001:db8::10",))
    assert got.addresses == ("192.0.2.10", "198.51.100.7", "2001:db8::10")
    assert got.family_of("2001:db8::10") == "ipv6"
    scoped = resolve_targets(["fe80::1%eth0"], fake_resolver)
    assert scoped.ipv6 == ("fe80::1%eth0",)


@pytest.mark.parametrize(
    "target",
    ["192.0.2.0/24", "2001:db8::/64", "192.0.2.1-20", "192.0.2.*", "2001:db8::1-2001:db8::9",
     "a.example,b.example"],
)  # fmt: skip
def test_ranges_and_prefixes_are_refused(target: str) -> None:
    with pytest.raises(InputError, match="never probed"):
        resolve_targets([target], fake_resolver)


@pytest.mark.parametrize("target", ["ff02::1", "::", "0.0.0.0", "224.0.0.1", "192.0.2.255"])
def test_multicast_broadcast_and_unspecified_are_refused(target: str) -> None:
    with pytest.raises(InputError, match=r"not probed|broadcast"):
        resolve_targets([target], fake_resolver)


def test_a_name_without_records_is_an_error() -> None:
    with pytest.raises(InputError, match="no A or AAAA"):
        resolve_targets(["none.example"], fake_resolver)
    calls: List[str] = []

    def failing(name: str) -> Sequence[Tuple[int, str]]:
        calls.append(name)
        raise InputError(f"target {name!r}: cannot resolve")

    with pytest.raises(InputError, match="cannot resolve"):
        resolve_targets(["gone.example"], failing)
    assert calls == ["gone.example"]
