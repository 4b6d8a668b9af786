"""Scenario validation: refused before anything is created, with one line saying why."""

from __future__ import annotations

import ipaddress
import os
from typing import Any

import pytest

from v6gap.errors import LabError
from v6gap.lab import Address, Firewall, Host, Interface, Lab, Link, Listener, Route, Scenario
from v6gap.lab.validate import is_lab_address, is_lab_network, validate


def two_hosts(**server: Any) -> Scenario:
    base: dict[str, Any] = {
        "addresses": (Address("eth0", "2001:db8:1::2/64"), Address("eth0", "192.0.2.2/26"))
    }
    base.update(server)
    return Scenario(
        "t",
        hosts=(
            Host("client", addresses=(Address("eth0", "2001:db8:1::1/64"),)),
            Host("server", **base),
        ),
        links=(Link("client", "server"),),
    )


def refused(scenario: Scenario, match: str) -> None:
    with pytest.raises(LabError, match=match) as info:
        validate(scenario)
    assert "\n" not in str(info.value)


def test_valid_two_hosts_pass() -> None:
    validate(two_hosts())


@pytest.mark.parametrize(
    "cidr",
    [
        "10.0.0.1/24",
        "192.0.2.10/16",
        "2001:db8::1/31",
        "2001:470::1/64",
        "fd00::1/64",
        "2002:0a00:0001::1/48",
        "2002:c000:0201::1/32",
        "198.51.101.1/24",
        "8.8.8.8/32",
    ],
)
def test_non_documentation_addresses_are_refused(cidr: str) -> None:
    refused(two_hosts(addresses=(Address("eth0", cidr),)), "outside 2001:db8::/32")


@pytest.mark.parametrize(
    "cidr",
    [
        "2001:db8:1::2/64",
        "192.0.2.2/26",
        "198.51.100.7/24",
        "203.0.113.9/32",
        "2002:c000:0201::1/48",
        "2002:cb00:7101::1/64",
        "fe80::2/64",
        "2001:db8::5efe:c000:202/64",
    ],
)
def test_documentation_and_derived_addresses_pass(cidr: str) -> None:
    validate(two_hosts(addresses=(Address("eth0", cidr),)))


def test_teredo_needs_documentation_server_and_client() -> None:
    server = int(ipaddress.IPv4Address("192.0.2.1"))
    client_ok = ~int(ipaddress.IPv4Address("203.0.113.5")) & 0xFFFFFFFF
    client_bad = ~int(ipaddress.IPv4Address("10.1.2.3")) & 0xFFFFFFFF
    ok = ipaddress.IPv6Address((0x20010000 << 96) | (server << 64) | client_ok)
    bad = ipaddress.IPv6Address((0x20010000 << 96) | (server << 64) | client_bad)
    assert is_lab_address(ok)
    assert not is_lab_address(bad)
    assert is_lab_network(ipaddress.IPv6Network(f"{ok}/128"))
    assert not is_lab_network(ipaddress.IPv6Network("2001::/32"))


def test_duplicate_host() -> None:
    sc = Scenario("t", hosts=(Host("a"), Host("a")))
    refused(sc, "duplicate host 'a'")


def test_unknown_host_in_a_link() -> None:
    sc = Scenario("t", hosts=(Host("a"),), links=(Link("a", "ghost"),))
    refused(sc, "unknown host 'ghost'")


def test_link_to_itself() -> None:
    refused(Scenario("t", hosts=(Host("a"),), links=(Link("a", "a"),)), "two different hosts")


@pytest.mark.parametrize("name", ["Server", "1abc", "averyveryverylongname", "a-b", ""])
def test_bad_host_names(name: str) -> None:
    refused(Scenario("t", hosts=(Host(name),)), "host name")


def test_no_hosts() -> None:
    refused(Scenario("t", hosts=()), "no hosts")


def test_interface_names() -> None:
    refused(
        Scenario("t", hosts=(Host("a"), Host("b")), links=(Link("a", "b", a_if="eth.0"),)),
        "no dots",
    )
    refused(
        Scenario("t", hosts=(Host("a"), Host("b")), links=(Link("a", "b", a_if="x" * 16),)), "1-15"
    )
    refused(
        Scenario(
            "t",
            hosts=(Host("a"), Host("b")),
            links=(Link("a", "b", a_if="e1"), Link("a", "b", a_if="e1")),
        ),
        "defined twice",
    )


def test_default_interface_names_skip_explicit_ones() -> None:
    sc = Scenario(
        "t",
        hosts=(Host("a"), Host("b"), Host("c")),
        links=(Link("a", "b"), Link("a", "c", a_if="eth0", b_if="up0")),
    )
    ends = {(e.host, e.peer): e.ifname for e in sc.link_ends()}
    assert ends == {("a", "b"): "eth1", ("b", "a"): "eth0", ("a", "c"): "eth0", ("c", "a"): "up0"}
    validate(sc)


def test_address_on_unknown_interface_and_without_length() -> None:
    refused(two_hosts(addresses=(Address("eth9", "2001:db8:1::2/64"),)), "unknown interface")
    refused(two_hosts(addresses=(Address("eth0", "2001:db8:1::2"),)), "prefix length")
    refused(two_hosts(addresses=(Address("eth0", "not-an-ip/64"),)), "not an address")


def test_address_used_twice() -> None:
    refused(two_hosts(addresses=(Address("eth0", "2001:db8:1::1/64"),)), "used twice")


@pytest.mark.parametrize(
    "route,match",
    [
        (Route("::/0", "2001:db8:1::1"), "leaves the lab"),
        (Route("0.0.0.0/0", "192.0.2.1"), "leaves the lab"),
        (Route("10.0.0.0/8", "192.0.2.1"), "leaves the lab"),
        (Route("2001:db8:2::/64", "2001:470::1"), "gateway"),
        (Route("2001:db8:2::/64", "192.0.2.1"), "same family"),
        (Route("2001:db8:2::/64", "fe80::1"), "needs ifname"),
        (Route("2001:db8:2::1/64", "2001:db8:1::1"), "not a prefix"),
        (Route("2001:db8:2::/64", "2001:db8:1::1", "eth7"), "unknown interface"),
    ],
)
def test_routes_stay_in_the_lab(route: Route, match: str) -> None:
    refused(two_hosts(routes=(route,)), match)


def test_link_local_gateway_with_interface_passes() -> None:
    validate(two_hosts(routes=(Route("2001:db8:2::/64", "fe80::1", "eth0"),)))


@pytest.mark.parametrize(
    "sysctls,match",
    [
        ({"kernel.hostname": "x"}, "only net"),
        ({"vm.swappiness": "1"}, "only net"),
        ({"net.ipv6.conf.eth5.accept_ra": "0"}, "unknown interface 'eth5'"),
        ({"net.ipv6.conf.all.accept_ra": "0\n1"}, "bad value"),
        ({"net.ipv6.conf.all.accept_ra": ""}, "bad value"),
    ],
)
def test_sysctls(sysctls: dict[str, str], match: str) -> None:
    refused(two_hosts(sysctls=sysctls), match)


def test_good_sysctls_pass_and_forwarding_is_added() -> None:
    sc = two_hosts(
        sysctls={"net.ipv6.conf.eth0.accept_ra": 2, "net.ipv4.ip_forward": "0"}, forwarding=True
    )
    validate(sc)
    eff = sc.host("server").effective_sysctls()
    assert eff["net.ipv6.conf.all.forwarding"] == "1"
    assert eff["net.ipv4.ip_forward"] == "0"  # explicit keys win
    assert eff["net.ipv6.conf.eth0.accept_ra"] == "2"


@pytest.mark.parametrize("path", ["/etc/hosts", "../hosts", "a/../../x", "a//b", "./hosts", ""])
def test_file_paths_stay_under_etc(path: str) -> None:
    refused(two_hosts(files={path: "x"}), "relative to /etc")


def test_listeners() -> None:
    refused(two_hosts(listeners=(Listener("tcp", "192.0.2.99", 80),)), "listener address")
    refused(two_hosts(listeners=(Listener("tcp", "0.0.0.0", 80, v6only=True),)), "v6only")
    refused(two_hosts(listeners=(Listener("tcp", "::", 70000),)), "out of 0..65535")
    refused(two_hosts(listeners=(Listener("sctp", "::", 1),)), "tcp or udp")  # type: ignore[arg-type]
    refused(two_hosts(listeners=(Listener("tcp", "::", 22), Listener("tcp", "::", 22))), "twice")
    refused(two_hosts(listeners=(Listener("tcp", "::", 1, name="a name too long!"),)), "name")
    validate(
        two_hosts(
            listeners=(
                Listener("tcp", "::", 22),
                Listener("udp", "::", 22),
                Listener("tcp", "192.0.2.2", 80),
                Listener("tcp", "::", 0),
                Listener("tcp", "::", 0),
            )
        )
    )


def test_interfaces() -> None:
    refused(two_hosts(interfaces=(Interface("br0", "bridge", ports=("eth9",)),)), "is no link")
    refused(two_hosts(interfaces=(Interface("v0", "vxlan", ports=("eth0",)),)), "only a bridge")
    refused(
        two_hosts(interfaces=(Interface("t0", "ip6tnl", args=("remote", "2001:470::1")),)),
        "uses 2001:470::1",
    )
    refused(two_hosts(interfaces=(Interface("t0", "Bad Kind"),)), "bad interface kind")
    validate(
        two_hosts(
            interfaces=(
                Interface("t0", "ip6tnl", args=("mode", "ip6ip6", "remote", "2001:db8::9")),
            )
        )
    )


def test_firewall_backend() -> None:
    refused(
        two_hosts(firewall=Firewall(iptables="x", iptables_backend="xt")),  # type: ignore[arg-type]
        "backend",
    )


def test_lab_refuses_before_creating_anything(tmp_path: Any) -> None:
    bad = two_hosts(addresses=(Address("eth0", "10.1.1.1/24"),))
    with pytest.raises(LabError, match="outside"):
        Lab(bad, state_dir=str(tmp_path))
    assert os.listdir(tmp_path) == []
    with pytest.raises(LabError, match="suffix"):
        Lab(two_hosts(), suffix="Has Space", state_dir=str(tmp_path))


def test_scenario_is_frozen_and_lists_become_tuples() -> None:
    host = Host("a", addresses=[Address("lo", "2001:db8::1/128")])  # type: ignore[arg-type]
    assert isinstance(host.addresses, tuple)
    with pytest.raises(AttributeError):
        host.name = "b"  # type: ignore[misc]
    with pytest.raises(TypeError):
        host.sysctls["x"] = "y"  # type: ignore[index]
