"""Symbolic names both readers meet: protocols, ICMP types, services, ct states."""

from __future__ import annotations

import contextlib
import functools
import gc
import ipaddress
import socket
from collections.abc import Iterator
from typing import Optional

from v6gap.firewall.model import ADDRESS_BITS, Interval

PROTOCOLS = {
    "icmp": 1,
    "igmp": 2,
    "ipip": 4,
    "tcp": 6,
    "egp": 8,
    "udp": 17,
    "ipv6": 41,
    "gre": 47,
    "esp": 50,
    "ah": 51,
    "ipv6-icmp": 58,
    "icmpv6": 58,
    "icmp6": 58,
    "sctp": 132,
    "dccp": 33,
    "udplite": 136,
    "hbh": 0,
    "rt": 43,
    "frag": 44,
    "dst": 60,
    "mh": 135,
}
PROTOCOL_NAMES = {6: "tcp", 17: "udp", 1: "icmp", 58: "icmpv6", 132: "sctp", 33: "dccp"}

ICMP_TYPES = {
    "echo-reply": 0,
    "pong": 0,
    "destination-unreachable": 3,
    "network-unreachable": 3,
    "host-unreachable": 3,
    "protocol-unreachable": 3,
    "port-unreachable": 3,
    "fragmentation-needed": 3,
    "source-quench": 4,
    "redirect": 5,
    "echo-request": 8,
    "ping": 8,
    "router-advertisement": 9,
    "router-solicitation": 10,
    "time-exceeded": 11,
    "ttl-exceeded": 11,
    "ttl-zero-during-transit": 11,
    "parameter-problem": 12,
    "timestamp-request": 13,
    "timestamp-reply": 14,
    "info-request": 15,
    "info-reply": 16,
    "address-mask-request": 17,
    "address-mask-reply": 18,
}
ICMPV6_TYPES = {
    "destination-unreachable": 1,
    "no-route": 1,
    "address-unreachable": 1,
    "port-unreachable": 1,
    "packet-too-big": 2,
    "time-exceeded": 3,
    "ttl-exceeded": 3,
    "ttl-zero-during-transit": 3,
    "parameter-problem": 4,
    "echo-request": 128,
    "ping": 128,
    "echo-reply": 129,
    "pong": 129,
    "mld-listener-query": 130,
    "mld-listener-report": 131,
    "mld-listener-done": 132,
    "mld-listener-reduction": 132,
    "nd-router-solicit": 133,
    "router-solicitation": 133,
    "nd-router-advert": 134,
    "router-advertisement": 134,
    "nd-neighbor-solicit": 135,
    "neighbour-solicitation": 135,
    "neighbor-solicitation": 135,
    "nd-neighbor-advert": 136,
    "neighbour-advertisement": 136,
    "neighbor-advertisement": 136,
    "nd-redirect": 137,
    "redirect": 137,
    "router-renumbering": 138,
    "ind-neighbor-solicit": 141,
    "ind-neighbor-advert": 142,
    "mld2-listener-report": 143,
}
SERVICES = {
    "ftp": 21,
    "ssh": 22,
    "telnet": 23,
    "smtp": 25,
    "domain": 53,
    "bootps": 67,
    "bootpc": 68,
    "http": 80,
    "ntp": 123,
    "https": 443,
    "dhcpv6-client": 546,
    "dhcpv6-server": 547,
}
CT_STATES = frozenset({"new", "established", "related", "invalid", "untracked"})
LOOPBACK = {"ipv4": "127.0.0.0/8", "ipv6": "::1/128"}


def number(value: object, names: dict[str, int], limit: int) -> Optional[int]:
    """A number in ``0..limit`` from an int, a decimal string or a known name."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= limit else None
    if isinstance(value, str):
        text = value.strip().lower()
        if text.isdigit():
            found = int(text)
            return found if found <= limit else None
        return names.get(text)
    return None


def _ipv4_range(text: str) -> Optional[Interval]:
    """``a.b.c.d`` or ``a.b.c.d/n`` in the form ``ipaddress`` accepts (ASCII digits, no leading
    zeros), or None for anything else: the caller then asks ``ipaddress``."""
    address, slash, length = text.partition("/")
    octets = address.split(".")
    if len(octets) != 4 or (slash and not (length.isascii() and length.isdigit())):
        return None
    value = 0
    for octet in octets:
        if not (octet.isascii() and octet.isdigit()) or len(octet) > 3:
            return None
        if len(octet) > 1 and octet[0] == "0":
            return None
        number = int(octet)
        if number > 255:
            return None
        value = value << 8 | number
    bits = int(length) if slash else 32
    if bits > 32 or (slash and len(length) > 1 and length[0] == "0"):
        return None
    host = (1 << (32 - bits)) - 1
    return value & ~host, value | host


_IPV6_CHARS = frozenset("0123456789abcdefABCDEF:.")


def _ipv6_range(text: str) -> Optional[Interval]:
    """Hex, colons and dots, optionally ``/n``: parsed by ``inet_pton`` (C), or None for
    anything else or anything it refuses: the caller then asks ``ipaddress``."""
    address, slash, length = text.partition("/")
    if not _IPV6_CHARS.issuperset(address) or ":" not in address:
        return None
    if slash and not (length.isascii() and length.isdigit() and len(length) <= 3):
        return None
    bits = int(length) if slash else 128
    if bits > 128:
        return None
    try:
        packed = socket.inet_pton(socket.AF_INET6, address)
    except OSError:
        return None
    value = int.from_bytes(packed, "big")
    host = (1 << (128 - bits)) - 1
    return value & ~host, value | host


@functools.lru_cache(maxsize=1 << 16)
def address_range(text: str, family: str) -> Optional[Interval]:
    """The integer range of an address or prefix of ``family``, or None if it is not one.

    Plain forms take a fast path; whatever it does not take is left to ``ipaddress``, whose
    answers both fast paths agree with (a property test checks it)."""
    fast = _ipv4_range if family == "ipv4" else _ipv6_range
    found = fast(text.strip())
    if found is not None:
        return found
    try:
        network = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None
    if ADDRESS_BITS[family] != network.max_prefixlen:
        return None
    return int(network.network_address), int(network.broadcast_address)


@contextlib.contextmanager
def no_gc() -> Iterator[None]:
    """The cyclic collector off while the readers and parity build many small objects (its
    passes find nothing to free there and cost about half the reading time), back on afterwards.

    What was built is long-lived and acyclic (refcounting frees it), so on the way out the
    objects tracked so far are moved to the permanent generation (``gc.freeze``): otherwise the
    first collection after ``gc.enable`` walks them all (about 0.25 s per 50,000 rules) to free
    nothing. Cyclic garbage that already exists then waits for ``gc.unfreeze``."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()
            gc.enable()
