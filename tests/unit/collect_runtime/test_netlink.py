"""netlink.py on rtnetlink messages recorded (``msg.dump()``) in the lab namespace."""

from __future__ import annotations

from typing import Any, Dict, List

import pytest

from v6gap.collect.host import Host
from v6gap.collect.netlink import (
    address_flags,
    collect_netlink,
    neighbour_state,
    parse_address,
    parse_link,
    parse_neighbour,
    parse_netlink_dump,
    parse_route,
)

from .treehost import RECORDED, recorded_json

LAB = recorded_json("netns", "lab.json")


@pytest.fixture(scope="module")
def dump() -> Dict[str, List[Dict[str, Any]]]:
    messages = recorded_json("netns", "netlink.json")
    return parse_netlink_dump(
        messages["links"], messages["addrs"], messages["routes"], messages["neighbours"]
    )


def _by_name(dump: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
    return {i["name"]: i for i in dump["interfaces"]}


def test_interfaces_with_kind_state_and_addresses(dump: Dict[str, Any]) -> None:
    interfaces = _by_name(dump)
    assert list(interfaces) == ["lo", "v6g.100", "v6gx2", "v6gx1"]  # kernel index order
    assert interfaces["lo"]["kind"] is None
    assert interfaces["v6g.100"]["kind"] == "veth" and interfaces["v6g.100"]["up"] is True
    assert interfaces["v6g.100"]["addresses"][:2] == [
        {"family": "ipv4", "address": "192.0.2.1", "prefixlen": 24, "scope": "global",
         "flags": ["permanent"]},
        {"family": "ipv6", "address": "2001:db8:1::1", "prefixlen": 64, "scope": "global",
         "flags": ["nodad", "permanent"]},
    ]  # fmt: skip
    link_local = interfaces["v6g.100"]["addresses"][2]
    assert link_local["scope"] == "link" and link_local["address"].startswith("fe80::")
    assert "tentative" in link_local["flags"]
    assert interfaces["lo"]["addresses"][1] == {
        "family": "ipv6", "address": "::1", "prefixlen": 128, "scope": "host",
        "flags": ["permanent"],
    }  # fmt: skip


def test_address_flags_from_ifa_flags(dump: Dict[str, Any]) -> None:
    flags = {a["address"]: a["flags"] for a in _by_name(dump)["v6gx1"]["addresses"]}
    assert flags["2001:db8:3::1"] == ["nodad", "permanent", "mngtmpaddr"]  # beyond 8 bits
    assert flags["2001:db8:4::1"] == ["nodad", "dynamic"]  # finite lifetime


@pytest.mark.parametrize(
    ("family", "bits", "names"),
    [
        ("ipv6", 0x01, ["temporary", "dynamic"]),
        ("ipv4", 0x01, ["secondary", "dynamic"]),
        ("ipv6", 0x80, ["permanent"]),
        ("ipv6", 0x40 | 0x100, ["tentative", "dynamic", "mngtmpaddr"]),
        ("ipv6", 0x08 | 0x20 | 0x80 | 0x800, ["dadfailed", "deprecated", "permanent",
                                              "stable-privacy"]),
    ],
)  # fmt: skip
def test_address_flags(family: str, bits: int, names: List[str]) -> None:
    assert address_flags(family, bits) == names


def test_point_to_point_address_is_the_local_end() -> None:
    msg = {
        "family": 2, "prefixlen": 32, "flags": 128, "scope": 0, "index": 7,
        "attrs": [["IFA_ADDRESS", "198.51.100.9"], ["IFA_LOCAL", "198.51.100.1"]],
    }  # fmt: skip
    address = parse_address(msg)
    assert address is not None and address["address"] == "198.51.100.1"
    assert address["flags"] == ["permanent"]  # header flags used when IFA_FLAGS is absent
    assert parse_address({"family": 17, "index": 1, "attrs": []}) is None


def test_routes_skip_local_table_and_non_unicast(dump: Dict[str, Any]) -> None:
    routes = dump["routes"]
    assert {"family": "ipv6", "dst": "default", "dev": "v6g.100", "gateway": "2001:db8:1::2",
            "proto": "static"} in routes  # fmt: skip
    assert {"family": "ipv4", "dst": "default", "dev": "v6g.100", "gateway": "192.0.2.2",
            "proto": "boot"} in routes  # fmt: skip
    assert {"family": "ipv6", "dst": "2001:db8:99::/48", "dev": "v6g.100",
            "gateway": "2001:db8:1::2", "proto": "ra"} in routes  # fmt: skip
    assert {"family": "ipv6", "dst": "2001:db8:1::/64", "dev": "v6g.100",
            "proto": "kernel"} in routes  # fmt: skip
    dsts = [r["dst"] for r in routes]
    assert "2001:db8:97::/48" not in dsts  # blackhole
    assert not [d for d in dsts if d.startswith(("ff00::", "127.", "::1/"))]  # local table
    assert len(routes) == 13


def test_ecmp_route_gives_one_route_per_next_hop(dump: Dict[str, Any]) -> None:
    hops = [r for r in dump["routes"] if r["dst"] == "2001:db8:98::/48"]
    assert hops == [
        {"family": "ipv6", "dst": "2001:db8:98::/48", "proto": "static", "dev": "v6g.100",
         "gateway": "2001:db8:1::2"},
        {"family": "ipv6", "dst": "2001:db8:98::/48", "proto": "static", "dev": "v6gx1",
         "gateway": "2001:db8:2::2"},
    ]  # fmt: skip


def test_route_proto_numbers_without_a_name_stay_numbers() -> None:
    msg = {"family": 10, "dst_len": 0, "table": 254, "proto": 250, "type": 1,
           "attrs": [["RTA_OIF", 9]]}  # fmt: skip
    assert parse_route(msg, {}) == [
        {"family": "ipv6", "dst": "default", "proto": "250", "dev": "if9"}
    ]
    msg["attrs"] = [["RTA_TABLE", 255], ["RTA_OIF", 9]]  # RTA_TABLE wins over the header
    msg["table"] = 252
    assert parse_route(msg, {}) == []


def test_neighbours_with_router_flag_and_states(dump: Dict[str, Any]) -> None:
    assert dump["neighbours"] == [
        {"family": "ipv4", "address": "192.0.2.2", "dev": "v6g.100", "state": "reachable",
         "router": False, "lladdr": LAB["peer_mac"]},
        {"family": "ipv6", "address": "2001:db8:2::2", "dev": "v6gx1", "state": "stale",
         "router": False, "lladdr": "02:00:5e:10:00:02"},
        {"family": "ipv6", "address": "2001:db8:1::2", "dev": "v6g.100", "state": "permanent",
         "router": True, "lladdr": LAB["peer_mac"]},
    ]  # fmt: skip


def test_multicast_noarp_neighbours_are_left_out() -> None:
    messages = recorded_json("netns", "netlink.json")["neighbours"]
    noarp = [m for m in messages if m["state"] & 0x40]
    assert noarp, "the recording holds ff02:: NOARP entries"
    assert all(parse_neighbour(m, {}) is None for m in noarp)


@pytest.mark.parametrize(
    ("state", "name"),
    [(0, "none"), (0x01, "incomplete"), (0x02, "reachable"), (0x20, "failed"),
     (0x80, "permanent"), (0x0C, "stale|delay")],
)  # fmt: skip
def test_neighbour_state(state: int, name: str) -> None:
    assert neighbour_state(state) == name


def test_incomplete_neighbour_has_no_lladdr() -> None:
    msg = {"family": 10, "ifindex": 2, "state": 0x01, "flags": 0,
           "attrs": [["NDA_DST", "2001:db8:1::9"]]}  # fmt: skip
    assert parse_neighbour(msg, {2: "eth0"}) == {
        "family": "ipv6", "address": "2001:db8:1::9", "dev": "eth0", "state": "incomplete",
        "router": False,
    }  # fmt: skip


def test_link_without_name_or_linkinfo() -> None:
    assert parse_link({"index": 5, "flags": 0, "attrs": []}) == {
        "name": "if5", "index": 5, "kind": None, "up": False, "addresses": [],
    }  # fmt: skip


def test_live_messages_parse_like_their_dumps() -> None:
    """The collector passes pyroute2 messages; tests use dumps: both must read the same."""
    from pyroute2 import IPRoute

    with IPRoute() as ipr:  # rtnetlink dumps need no privilege
        links = list(ipr.get_links())
        addrs = list(ipr.get_addr())
        routes = list(ipr.get_routes(family=10)) + list(ipr.get_routes(family=2))
        neighbours = list(ipr.get_neighbours(family=10))
    live = parse_netlink_dump(links, addrs, routes, neighbours)
    dumped = parse_netlink_dump(
        [m.dump() for m in links],
        [m.dump() for m in addrs],
        [m.dump() for m in routes],
        [m.dump() for m in neighbours],
    )
    assert live == dumped
    assert "lo" in [i["name"] for i in live["interfaces"]]


def test_image_has_no_running_network() -> None:
    fields, missing = collect_netlink(Host(root=str(RECORDED / "debian12")))
    assert fields == {}
    assert missing == dict.fromkeys(
        ("interfaces", "routes", "neighbours"), "image: no running system"
    )


def test_netlink_failure_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse() -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr("pyroute2.IPRoute", refuse)
    fields, missing = collect_netlink(Host())
    assert fields == {}
    assert set(missing) == {"interfaces", "routes", "neighbours"}
    assert "Operation not permitted" in missing["routes"]
