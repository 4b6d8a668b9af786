"""Neighbour discovery from the outside: does the target answer a neighbour solicitation?

An NS is sent, as the kernel sends one (RFC 4861 7.2.2), to the target's solicited-node
multicast address with hop limit 255 and our link-layer address; a neighbour advertisement for
the target's address answers it. Only an on-link target can be asked: behind a router, NDP is
between the target and that router. A raw ICMPv6 socket needs CAP_NET_RAW; without it the
answer is ``unknown``, never a guess.
"""

from __future__ import annotations

import fcntl
import ipaddress
import select
import socket
import struct
import time
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from v6gap.probe.diagnose import route_for
from v6gap.probe.model import IcmpTest

ND_NEIGHBOR_SOLICIT = 135
ND_NEIGHBOR_ADVERT = 136
_ICMP6_FILTER = 1  # linux/icmpv6.h, level IPPROTO_ICMPV6
_SIOCGIFHWADDR = 0x8927
ATTEMPTS = 3  # MAX_MULTICAST_SOLICIT
WAIT = 0.5  # per attempt; RetransTimer is 1 s, an answer on a lab link takes microseconds
_NA_FLAGS = ((0x80, "router"), (0x40, "solicited"), (0x20, "override"))


def solicited_node(address: str) -> str:
    """``ff02::1:ffXX:XXXX``: the multicast group of ``address``'s last 24 bits."""
    packed = ipaddress.IPv6Address(address.split("%", 1)[0]).packed
    return str(ipaddress.IPv6Address(bytes.fromhex("ff0200000000000000000001ff") + packed[13:]))


def build_ns(target: str, lladdr: bytes) -> bytes:
    """The ICMPv6 message (the kernel fills the checksum on raw ICMPv6 sockets)."""
    packed = ipaddress.IPv6Address(target.split("%", 1)[0]).packed
    option = struct.pack("!BB", 1, 1) + lladdr  # source link-layer address, 8 bytes
    return struct.pack("!BBHI", ND_NEIGHBOR_SOLICIT, 0, 0, 0) + packed + option


def parse_na(data: bytes) -> Optional[Tuple[str, str]]:
    """(target address, flags) of a neighbour advertisement, else None."""
    if len(data) < 24 or data[0] != ND_NEIGHBOR_ADVERT or data[1] != 0:
        return None
    flags = ", ".join(name for bit, name in _NA_FLAGS if data[4] & bit) or "no flags"
    return str(ipaddress.IPv6Address(data[8:24])), flags


def interface_of(address: str, routes: Sequence[Mapping[str, Any]]) -> Optional[str]:
    """The interface ``address`` is on-link through, or None when a router is in between."""
    if "%" in address:
        return address.split("%", 1)[1]
    route = route_for(address, routes)
    if route is None or route.get("gateway") or not route.get("dev"):
        return None
    return str(route["dev"])


def _lladdr(sock: socket.socket, ifname: str) -> bytes:
    request = struct.pack("256s", ifname.encode()[:15])
    return fcntl.ioctl(sock.fileno(), _SIOCGIFHWADDR, request)[18:24]


def _open_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    words = [0xFFFFFFFF] * 8  # a set bit blocks that type: let only advertisements through
    words[ND_NEIGHBOR_ADVERT >> 5] &= ~(1 << (ND_NEIGHBOR_ADVERT & 31)) & 0xFFFFFFFF
    sock.setsockopt(socket.IPPROTO_ICMPV6, _ICMP6_FILTER, struct.pack("8I", *words))
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 255)
    sock.setblocking(False)
    return sock


def solicit_all(
    addresses: Sequence[str], routes: Sequence[Mapping[str, Any]]
) -> Dict[str, IcmpTest]:
    """Per IPv6 address: ``answered`` (an NA came back), ``no-answer``, ``off-link`` (a router
    is in between: not testable from here) or ``unknown`` (no raw socket)."""
    results: Dict[str, IcmpTest] = {}
    on_link: Dict[str, str] = {}
    for address in addresses:
        ifname = interface_of(address, routes)
        if ifname is None:
            results[address] = IcmpTest(
                "off-link", "behind a router: neighbour discovery is not testable from here"
            )
        else:
            on_link[address] = ifname
    if not on_link:
        return results
    try:
        sock = _open_socket()
    except OSError as exc:
        why = f"no raw ICMPv6 socket ({exc.strerror}): needs root or CAP_NET_RAW"
        return {**results, **{a: IcmpTest("unknown", why) for a in on_link}}
    with sock:
        results.update(_exchange(sock, on_link))
    return results


def _exchange(sock: socket.socket, on_link: Mapping[str, str]) -> Dict[str, IcmpTest]:
    bare = {a: str(ipaddress.IPv6Address(a.split("%", 1)[0])) for a in on_link}
    answered: Dict[str, IcmpTest] = {}
    for _ in range(ATTEMPTS):
        pending: List[str] = [a for a in on_link if a not in answered]
        if not pending:
            break
        for address in pending:
            ifname = on_link[address]
            try:
                index = socket.if_nametoindex(ifname)
                packet = build_ns(address, _lladdr(sock, ifname))
                sock.sendto(packet, (solicited_node(address), 0, 0, index))
            except OSError as exc:
                answered[address] = IcmpTest("unknown", f"cannot send on {ifname}: {exc}")
        deadline = time.monotonic() + WAIT
        while len(answered) < len(on_link) and (left := deadline - time.monotonic()) > 0:
            if not select.select([sock], [], [], left)[0]:
                break
            data, _ = sock.recvfrom(1500)
            parsed = parse_na(data)
            if parsed is None:
                continue
            for address in on_link:
                if bare[address] == parsed[0] and address not in answered:
                    answered[address] = IcmpTest(
                        "answered", f"neighbour advertisement ({parsed[1]})"
                    )
    silent = "no neighbour advertisement to 3 solicitations"
    return {a: answered.get(a, IcmpTest("no-answer", silent)) for a in on_link}
