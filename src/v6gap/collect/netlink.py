"""Interfaces, addresses, routes and neighbours from rtnetlink (``rtnl``, standard library).

The ``parse_*`` functions take one netlink message as a mapping: header fields plus ``attrs`` as
``[name, value]`` pairs, as ``rtnl.decode_*`` give it (the shape of pyroute2's ``msg.dump()``),
so the same code is tested on recorded kernel replies and hand-written messages.
"""

from __future__ import annotations

import socket
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

from v6gap.collect import Partial, rtnl
from v6gap.collect.host import Host

FAMILIES: Dict[int, str] = {int(socket.AF_INET): "ipv4", int(socket.AF_INET6): "ipv6"}

SCOPES = {0: "global", 200: "site", 253: "link", 254: "host", 255: "nowhere"}

# <linux/if_addr.h> IFA_F_*, in the order and spelling ``ip address`` prints them.
_IFA_FLAGS = (
    (0x01, "secondary"),  # "temporary" for IPv6
    (0x02, "nodad"),
    (0x04, "optimistic"),
    (0x08, "dadfailed"),
    (0x10, "homeaddress"),
    (0x20, "deprecated"),
    (0x40, "tentative"),
    (0x80, "permanent"),
    (0x100, "mngtmpaddr"),
    (0x200, "noprefixroute"),
    (0x400, "autojoin"),
    (0x800, "stable-privacy"),
)
IFA_F_SECONDARY = 0x01
IFA_F_PERMANENT = 0x80

# /etc/iproute2/rt_protos and rt_protos.d as shipped by iproute2.
ROUTE_PROTOS = {
    0: "unspec",
    1: "redirect",
    2: "kernel",
    3: "boot",
    4: "static",
    8: "gated",
    9: "ra",
    10: "mrt",
    11: "zebra",
    12: "bird",
    13: "dnrouted",
    14: "xorp",
    15: "ntk",
    16: "dhcp",
    17: "mrouted",
    18: "keepalived",
    42: "babel",
    99: "openr",
    186: "bgp",
    187: "isis",
    188: "ospf",
    189: "rip",
    192: "eigrp",
}
RT_TABLE_LOCAL = 255
RTN_UNICAST = 1

NUD_STATES = (
    (0x01, "incomplete"),
    (0x02, "reachable"),
    (0x04, "stale"),
    (0x08, "delay"),
    (0x10, "probe"),
    (0x20, "failed"),
    (0x40, "noarp"),
    (0x80, "permanent"),
)
NUD_NOARP = 0x40
NTF_ROUTER = 0x80
IFF_UP = 0x1

IMAGE_REASON = "image: no running system"

Messages = List[Dict[str, Any]]


# --------------------------------------------------------------------------- pure parsers


def attr(msg: Mapping[str, Any], name: str) -> Any:
    """The first netlink attribute ``name`` of a decoded message, or None."""
    for item in msg.get("attrs") or ():
        if item[0] == name:
            return item[1]
    return None


def parse_link(msg: Mapping[str, Any]) -> Dict[str, Any]:
    """An ``Interface`` dict (without addresses) from an RTM_NEWLINK message."""
    kind: Optional[str] = None
    linkinfo = attr(msg, "IFLA_LINKINFO")
    if isinstance(linkinfo, Mapping):
        found = attr(linkinfo, "IFLA_INFO_KIND")
        kind = str(found) if found else None
    return {
        "name": str(attr(msg, "IFLA_IFNAME") or f"if{msg['index']}"),
        "index": int(msg["index"]),
        "kind": kind,
        "up": bool(int(msg.get("flags") or 0) & IFF_UP),
        "addresses": [],
    }


def address_flags(family: str, flags: int) -> List[str]:
    """``ip address`` flag names: ``dynamic`` when not permanent, ``temporary`` for IPv6."""
    names: List[str] = []
    for bit, name in _IFA_FLAGS:
        if bit == IFA_F_PERMANENT:
            names.append("permanent" if flags & bit else "dynamic")
        elif flags & bit:
            names.append("temporary" if bit == IFA_F_SECONDARY and family == "ipv6" else name)
    return names


def parse_address(msg: Mapping[str, Any]) -> Optional[Dict[str, Any]]:
    """An ``Address`` dict plus its ``index`` from an RTM_NEWADDR message (None: not IP)."""
    family = FAMILIES.get(int(msg.get("family") or 0))
    if family is None:
        return None
    # IFA_LOCAL is the local end; IFA_ADDRESS is the peer on point-to-point links.
    address = attr(msg, "IFA_LOCAL") or attr(msg, "IFA_ADDRESS")
    if not address:
        return None
    flags = attr(msg, "IFA_FLAGS")  # 32 bits; the header field keeps only the low 8
    if flags is None:
        flags = msg.get("flags") or 0
    scope = int(msg.get("scope") or 0)
    return {
        "index": int(msg["index"]),
        "family": family,
        "address": str(address),
        "prefixlen": int(msg.get("prefixlen") or 0),
        "scope": SCOPES.get(scope, str(scope)),
        "flags": address_flags(family, int(flags)),
    }


def parse_route(msg: Mapping[str, Any], ifnames: Mapping[int, str]) -> List[Dict[str, Any]]:
    """``Route`` dicts from an RTM_NEWROUTE message: one per next hop; none for local-table
    and non-unicast routes (local, broadcast, multicast, blackhole, unreachable, …)."""
    family = FAMILIES.get(int(msg.get("family") or 0))
    table = attr(msg, "RTA_TABLE")
    if table is None:
        table = msg.get("table")
    if family is None or table == RT_TABLE_LOCAL or msg.get("type") != RTN_UNICAST:
        return []
    dst_len = int(msg.get("dst_len") or 0)
    dst_addr = attr(msg, "RTA_DST")
    if dst_addr is None and dst_len == 0:
        dst = "default"
    else:
        dst = f"{dst_addr or ('::' if family == 'ipv6' else '0.0.0.0')}/{dst_len}"
    proto_num = int(msg.get("proto") or 0)
    proto = ROUTE_PROTOS.get(proto_num, str(proto_num))
    hops: List[Dict[str, Any]] = []
    # ECMP routes carry their next hops in RTA_MULTIPATH instead of RTA_OIF/RTA_GATEWAY.
    multipath = attr(msg, "RTA_MULTIPATH")
    for hop in multipath or [{"oif": attr(msg, "RTA_OIF"), "attrs": msg.get("attrs")}]:
        hops.append(_route(family, dst, ifnames, hop.get("oif"), attr(hop, "RTA_GATEWAY"), proto))
    return hops


def _route(
    family: str, dst: str, ifnames: Mapping[int, str], oif: Any, gateway: Any, proto: str
) -> Dict[str, Any]:
    route: Dict[str, Any] = {"family": family, "dst": dst, "proto": proto}
    if oif is not None:
        route["dev"] = ifnames.get(int(oif), f"if{oif}")
    if gateway:
        route["gateway"] = str(gateway)
    return route


def neighbour_state(state: int) -> str:
    """NUD state bits as lower-case names (``reachable``, ``stale|probe`` …; ``none`` for 0)."""
    names = [name for bit, name in NUD_STATES if state & bit]
    return "|".join(names) if names else "none"


def parse_neighbour(msg: Mapping[str, Any], ifnames: Mapping[int, str]) -> Optional[Dict[str, Any]]:
    """A ``Neighbour`` dict from an RTM_NEWNEIGH message; None for non-IP and NOARP entries
    (multicast mappings, which ``ip neigh`` hides too)."""
    family = FAMILIES.get(int(msg.get("family") or 0))
    address = attr(msg, "NDA_DST")
    state = int(msg.get("state") or 0)
    if family is None or not address or state & NUD_NOARP:
        return None
    index = int(msg.get("ifindex") or 0)
    neighbour: Dict[str, Any] = {
        "family": family,
        "address": str(address),
        "dev": ifnames.get(index, f"if{index}"),
        "state": neighbour_state(state),
        "router": bool(int(msg.get("flags") or 0) & NTF_ROUTER),
    }
    lladdr = attr(msg, "NDA_LLADDR")
    if lladdr:
        neighbour["lladdr"] = str(lladdr)
    return neighbour


def parse_netlink_dump(
    links: Iterable[Mapping[str, Any]],
    addrs: Iterable[Mapping[str, Any]],
    routes: Iterable[Mapping[str, Any]],
    neighbours: Iterable[Mapping[str, Any]],
) -> Dict[str, List[Dict[str, Any]]]:
    """``interfaces`` (with their addresses), ``routes`` and ``neighbours`` from four dumps."""
    interfaces = sorted((parse_link(m) for m in links), key=lambda i: int(i["index"]))
    by_index = {i["index"]: i for i in interfaces}
    for msg in addrs:
        address = parse_address(msg)
        if address is None:
            continue
        owner = by_index.get(address.pop("index"))
        if owner is not None:
            owner["addresses"].append(address)
    ifnames = {i["index"]: str(i["name"]) for i in interfaces}
    route_list = [r for m in routes for r in parse_route(m, ifnames)]
    neigh_list = [n for n in (parse_neighbour(m, ifnames) for m in neighbours) if n is not None]
    return {"interfaces": interfaces, "routes": route_list, "neighbours": neigh_list}


# --------------------------------------------------------------------------- collector

_SECTIONS = ("interfaces", "routes", "neighbours")


def read_netlink() -> Tuple[Messages, Messages, Messages, Messages]:
    """Decoded links, addresses, routes and neighbours (both families, every table) of the
    current network namespace; raises ``OSError`` or ``ValueError`` (``rtnl.ParseError``)."""
    with rtnl.NetlinkSocket(rtnl.NETLINK_ROUTE) as nl:
        links = rtnl.decode_all(
            nl.dump(rtnl.RTM_GETLINK, rtnl.ifinfomsg()), rtnl.RTM_NEWLINK, rtnl.decode_link
        )
        addrs = rtnl.decode_all(
            nl.dump(rtnl.RTM_GETADDR, rtnl.ifaddrmsg()), rtnl.RTM_NEWADDR, rtnl.decode_addr
        )
        routes: Messages = []
        neighbours: Messages = []
        for family in FAMILIES:
            replies = nl.dump(rtnl.RTM_GETROUTE, rtnl.rtmsg(family))
            routes.extend(rtnl.decode_all(replies, rtnl.RTM_NEWROUTE, rtnl.decode_route))
        for family in FAMILIES:
            replies = nl.dump(rtnl.RTM_GETNEIGH, rtnl.ndmsg(family))
            neighbours.extend(rtnl.decode_all(replies, rtnl.RTM_NEWNEIGH, rtnl.decode_neigh))
    return links, addrs, routes, neighbours


def collect_netlink(host: Host) -> Partial:
    """``interfaces``, ``routes`` and ``neighbours`` of the current network namespace."""
    if host.is_image:
        return {}, dict.fromkeys(_SECTIONS, IMAGE_REASON)
    try:
        links, addrs, routes, neighbours = read_netlink()
    except (OSError, ValueError) as exc:  # all that rtnl raises: report, never crash
        reason = f"rtnetlink: {exc or type(exc).__name__}"
        return {}, dict.fromkeys(_SECTIONS, reason)
    return dict(parse_netlink_dump(links, addrs, routes, neighbours)), {}
