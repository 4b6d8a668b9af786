"""Symbolic names both readers meet: protocols, ICMP types, services, ct states."""

from __future__ import annotations

import ipaddress
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


def address_range(text: str, family: str) -> Optional[Interval]:
    """The integer range of an address or prefix of ``family``, or None if it is not one."""
    try:
        network = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None
    if ADDRESS_BITS[family] != network.max_prefixlen:
        return None
    return int(network.network_address), int(network.broadcast_address)
