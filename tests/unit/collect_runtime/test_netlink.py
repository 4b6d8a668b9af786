"""netlink.py on the rtnetlink replies recorded (raw datagrams) in the lab namespace.

The collector itself runs on them: ``rtnl.NetlinkSocket`` is replaced by a ``Replay`` that
answers each request with the recorded datagrams.
"""

from __future__ import annotations

import socket
from typing import Any, Dict, List

import pytest

from v6gap.collect import rtnl
from v6gap.collect.host import Host
from v6gap.collect.netlink import (
    address_flags,
    collect_netlink,
    neighbour_state,
    parse_address,
    parse_link,
    parse_neighbour,
    parse_route,
    read_netlink,
)

from .treehost import RECORDED, Replay, recorded_json, recorded_messages, replay

LAB = recorded_json("netns", "lab.json")


@pytest.fixture(scope="module")
def dump() -> Dict[str, List[Dict[str, Any]]]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(rtnl, "NetlinkSocket", replay("rtnetlink.json"))
        fields, missing = collect_netlink(Host())
    assert missing == {}
    return fields


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


def _key(neighbour: Dict[str, Any]) -> str:
    return str(sorted(neighbour.items()))


def test_neighbours_with_router_flag_and_states(dump: Dict[str, Any]) -> None:
    # the kernel dumps its neighbour hash table: the order differs between recordings
    assert sorted(dump["neighbours"], key=_key) == sorted([
        {"family": "ipv4", "address": "192.0.2.2", "dev": "v6g.100", "state": "reachable",
         "router": False, "lladdr": LAB["peer_mac"]},
        {"family": "ipv6", "address": "2001:db8:2::2", "dev": "v6gx1", "state": "stale",
         "router": False, "lladdr": "02:00:5e:10:00:02"},
        {"family": "ipv6", "address": "2001:db8:1::2", "dev": "v6g.100", "state": "permanent",
         "router": True, "lladdr": LAB["peer_mac"]},
    ], key=_key)  # fmt: skip


def test_multicast_noarp_neighbours_are_left_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rtnl, "NetlinkSocket", replay("rtnetlink.json"))
    messages = read_netlink()[3]
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


def test_collector_asks_exactly_what_was_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    """One dump each of links and addresses, routes and neighbours per family, all tables;
    the socket is closed afterwards."""
    made: List[Replay] = []

    def factory(protocol: int) -> Replay:
        assert protocol == rtnl.NETLINK_ROUTE
        made.append(replay("rtnetlink.json")(protocol))
        return made[-1]

    monkeypatch.setattr(rtnl, "NetlinkSocket", factory)
    collect_netlink(Host())
    (conn,) = made
    assert conn.closed
    sent = [rtnl.parse_messages(r)[0] for r in conn.requests]
    assert [(m.type, m.flags, m.payload[0]) for m in sent] == [
        (rtnl.RTM_GETLINK, 0x301, 0),
        (rtnl.RTM_GETADDR, 0x301, 0),
        (rtnl.RTM_GETROUTE, 0x301, socket.AF_INET),
        (rtnl.RTM_GETROUTE, 0x301, socket.AF_INET6),
        (rtnl.RTM_GETNEIGH, 0x301, socket.AF_INET),
        (rtnl.RTM_GETNEIGH, 0x301, socket.AF_INET6),
    ]
    assert len({m.seq for m in sent}) == len(sent)


def test_recorded_link_dump_is_multi_part() -> None:
    links = recorded_messages("rtnetlink.json")[0]
    assert all(m.flags & rtnl.NLM_F_MULTI for m in links)
    assert [m.type for m in links].count(rtnl.RTM_NEWLINK) == 4
    assert links[-1].type == rtnl.NLMSG_DONE


def test_live_dump_of_this_namespace() -> None:
    """rtnetlink dumps need no privilege: the interfaces are the C library's."""
    fields, missing = collect_netlink(Host())
    assert missing == {}
    names = {i["index"]: i["name"] for i in fields["interfaces"]}
    assert names == dict(socket.if_nameindex())
    lo = next(i for i in fields["interfaces"] if i["name"] == "lo")
    assert lo["kind"] is None
    assert {"family": "ipv4", "address": "127.0.0.1", "prefixlen": 8, "scope": "host",
            "flags": ["permanent"]} in lo["addresses"]  # fmt: skip


def test_image_has_no_running_network() -> None:
    fields, missing = collect_netlink(Host(root=str(RECORDED / "debian12")))
    assert fields == {}
    assert missing == dict.fromkeys(
        ("interfaces", "routes", "neighbours"), "image: no running system"
    )


def test_netlink_failure_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(protocol: int) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(rtnl, "NetlinkSocket", refuse)
    fields, missing = collect_netlink(Host())
    assert fields == {}
    assert set(missing) == {"interfaces", "routes", "neighbours"}
    assert "Operation not permitted" in missing["routes"]


def test_malformed_reply_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    class Garbage(Replay):
        def recv_datagram(self, timeout: float) -> bytes:
            return b"\x10\x00\x00\x00"  # a header cut short

    monkeypatch.setattr(rtnl, "NetlinkSocket", lambda protocol: Garbage([]))
    monkeypatch.setattr(Garbage, "send_request", lambda self, data: None)
    fields, missing = collect_netlink(Host())
    assert fields == {}
    assert missing["interfaces"].startswith("rtnetlink: truncated nlmsghdr")


def test_kernel_error_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    class Refusing(Replay):
        def send_request(self, data: bytes) -> None:
            self.seq = rtnl.parse_messages(data)[0].seq

        def recv_datagram(self, timeout: float) -> bytes:
            error = (-95).to_bytes(4, "little", signed=True) + bytes(16)
            return rtnl.request(rtnl.NLMSG_ERROR, self.seq, error, flags=0)

    monkeypatch.setattr(rtnl, "NetlinkSocket", lambda protocol: Refusing([], port=0))
    fields, missing = collect_netlink(Host())
    assert fields == {}
    assert (
        missing["routes"]
        == "rtnetlink: [Errno 95] Operation not supported (netlink request refused)"
    )
