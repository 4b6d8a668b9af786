"""One match judged for a whole class of packets: true, false, maybe or unknown.

A ``PacketClass`` is every new connection (conntrack state ``new``) arriving from the network
(not on ``lo``) for one family and layer-4 protocol, a destination-port or ICMP-type interval
and a source-address interval; on the forward hook also a destination-address interval and an
output interface. ``maybe`` means true for some packets of the class (an interface name, a
destination address, a rate limit); ``unknown`` a match this engine does not understand.
``v6gap.firewall.evaluate`` walks chains with these answers.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from typing import Optional

from v6gap.firewall import _names
from v6gap.firewall.model import (
    ADDRESS_BITS,
    AddrMatch,
    AddrTypeMatch,
    AnyOf,
    CtStateMatch,
    FamilyMatch,
    HopLimitMatch,
    IcmpTypeMatch,
    IfaceMatch,
    Interval,
    Match,
    PortMatch,
    ProtoMatch,
    Rule,
    Unknown,
)


class Tri(enum.Enum):
    TRUE = "true"
    FALSE = "false"
    MAYBE = "maybe"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class PacketClass:
    family: str
    protocol: int
    dport: Interval = (0, 65535)
    icmp_type: Interval = (0, 255)
    saddr: Optional[Interval] = None  # None: any source (then source matches are ``maybe``)
    iif: Optional[str] = None  # None: some interface other than lo, name not given
    # Conntrack's view: "new" for connections; "related" for ICMP errors about the host's own
    # flows; "untracked" for neighbour discovery and MLD, which conntrack never tracks.
    ct_state: str = "new"
    # The hop limit (TTL) packets arrive with; None: any. Neighbour discovery is sent with 255.
    hop_limit: Optional[int] = None
    hook: str = "input"  # or "forward": packets routed through the host
    oif: Optional[str] = None  # forward hook only; None: some interface, name not given
    # None: any destination (on the input hook one of the host's own addresses, not known here)
    daddr: Optional[Interval] = None
    # Input path, daddr None: the destinations the host takes (Ruleset.local), when known.
    local: Optional[tuple[Interval, ...]] = None
    # Routed through the host (its destination is not the host's), kept on every hook of the
    # path: ``hook`` says where the packet is being judged now (prerouting, then forward).
    routed: bool = False
    # Delivered to the host: the route types its destination has (``evaluate.judge`` splits a
    # class by them when an address-type match tells them apart); None: every delivered type.
    daddr_types: Optional[frozenset[str]] = None


def _within(span: Interval, ranges: tuple[Interval, ...]) -> Tri:
    low, high = span
    for a, b in ranges:
        if a <= low and high <= b:
            return Tri.TRUE
    if all(b < low or a > high for a, b in ranges):
        return Tri.FALSE
    return Tri.MAYBE


def _negated(value: Tri, negate: bool) -> Tri:
    if not negate:
        return value
    return {Tri.TRUE: Tri.FALSE, Tri.FALSE: Tri.TRUE}.get(value, value)


# The route types of the destinations a packet delivered to the host can have (TCP: local).
DELIVERED_TYPES = {
    "ipv4": frozenset({"local", "multicast", "broadcast"}),
    "ipv6": frozenset({"local", "multicast"}),
}
_MULTICAST = {"ipv4": (0xE000_0000, 0xEFFF_FFFF), "ipv6": (0xFF << 120, (1 << 128) - 1)}
_LOOPBACK = {f: _names.address_range(_names.LOOPBACK[f], f) for f in ("ipv4", "ipv6")}
_BROADCAST = (0xFFFF_FFFF, 0xFFFF_FFFF)
_UNSPECIFIED_TYPES = {
    "ipv4": frozenset({"broadcast"}),
    "ipv6": frozenset({"unicast", "unreachable"}),  # a default route's, or none
}


def destined(c: PacketClass, kind: str) -> PacketClass:
    """The part of a class delivered to the host whose destination has route type ``kind``
    (multicast and broadcast ones with their addresses, so destination matches see them)."""
    span = {"multicast": _MULTICAST[c.family], "broadcast": _BROADCAST}.get(kind, c.daddr)
    return dataclasses.replace(c, daddr_types=frozenset({kind}), daddr=span)


def _inside(span: Optional[Interval], outer: Optional[Interval]) -> Tri:
    if span is None or outer is None:
        return Tri.MAYBE if outer is not None else Tri.FALSE
    return _within(span, (outer,))


def address_types(c: PacketClass, field: str) -> Optional[frozenset[str]]:
    """The route types the class's source or destination can have; None: some of several."""
    span = c.saddr if field == "saddr" else c.daddr
    multicast = _inside(span, _MULTICAST[c.family])
    if multicast is Tri.TRUE:
        return frozenset({"multicast"})
    if field == "daddr" and c.daddr_types is not None:
        return c.daddr_types
    if field == "saddr":
        loopback = _inside(span, _LOOPBACK[c.family])
        if loopback is Tri.TRUE:
            return frozenset({"local"})  # 127/8 and ::1 are the host's own
        if span is not None and Tri.MAYBE in (multicast, loopback):
            return None
        # The unspecified source (0.0.0.0 of DHCP, :: of duplicate address detection; never a
        # TCP connection's): IPv4 types 0.0.0.0/8 broadcast, IPv6 looks :: up as a route.
        unspecified = _unspecified(span, field, c.protocol)
        zero = _UNSPECIFIED_TYPES[c.family]
        if unspecified is Tri.TRUE:
            return zero
        # From the network. A source that is one of the host's own addresses is taken as
        # unicast too: IPv4 drops it as a martian (unless accept_local), and it is spoofed.
        return frozenset({"unicast"}) | (zero if unspecified is Tri.MAYBE else frozenset())
    if span is not None and multicast is Tri.MAYBE:
        return None
    if c.routed:
        return frozenset({"unicast"})  # routes to blackhole/unreachable are not modelled
    if span is not None and span[0] != span[1]:
        return None  # some of a range may be (subnet) broadcast addresses
    if span is not None:  # delivered to the host at the address given: one of its own (its
        # subnets' broadcast addresses are typed by evaluate.judge, which knows them)
        return frozenset({"broadcast" if c.family == "ipv4" and span == _BROADCAST else "local"})
    if c.protocol == 6:  # a TCP connection is made to one of the host's unicast addresses
        return frozenset({"local"})
    return DELIVERED_TYPES[c.family]


# ip6tables' unicast class of an address (ipv6_addr_type) as the route types that have it: the
# host's own addresses and routed ones are unicast addresses.
_UNICAST = frozenset({"local", "unicast", "anycast"})


def _one_of(types: Optional[frozenset[str]], wanted: frozenset[str]) -> Tri:
    if types is None:
        return Tri.MAYBE
    if types.isdisjoint(wanted):
        return Tri.FALSE
    return Tri.TRUE if types <= wanted else Tri.MAYBE


def _unspecified(span: Optional[Interval], field: str, protocol: int) -> Tri:
    """Whether the address is 0.0.0.0 or :: (only a source is, and not of TCP)."""
    if span == (0, 0):
        return Tri.TRUE
    if field != "saddr" or protocol == 6 or (span is not None and span[0] != 0):
        return Tri.FALSE
    return Tri.MAYBE


def _addr_type(match: AddrTypeMatch, c: PacketClass) -> Tri:
    types = address_types(c, match.field)
    found = [_one_of(types, match.types)] if match.types else []
    span = c.saddr if match.field == "saddr" else c.daddr
    unspecified = _unspecified(span, match.field, c.protocol)
    for kind in match.required:
        if kind == "unspec":
            found.append(unspecified)
        elif kind == "multicast":
            found.append(_one_of(types, frozenset({"multicast"})))
        elif unspecified is Tri.TRUE:  # unicast: :: is not one
            found.append(Tri.FALSE)
        else:
            unicast = _one_of(types, _UNICAST)
            found.append(Tri.MAYBE if unspecified is Tri.MAYBE and unicast is Tri.TRUE else unicast)
    result = Tri.FALSE if Tri.FALSE in found else Tri.MAYBE if Tri.MAYBE in found else Tri.TRUE
    return _negated(result, match.negate)


def _iface(match: IfaceMatch, c: PacketClass) -> Tri:
    def hit(name: str, pattern: str) -> bool:
        return name.startswith(pattern[:-1]) if pattern.endswith("*") else name == pattern

    if match.field == "oif" and c.hook != "forward":
        # No output interface before the routing decision (prerouting) or for local delivery
        # (input): the kernel compares index 0 / an empty name, so ``oif eth1`` never matches
        # and ``oif != eth1`` always does (seen on 6.18 in a lab namespace; iptables refuses
        # -o there). The forward differential lab test found the prerouting case.
        return _negated(Tri.FALSE, match.negate)
    iif = c.oif if match.field == "oif" else c.iif
    if iif is not None:
        return _negated(
            Tri.TRUE if any(hit(iif, p) for p in match.names) else Tri.FALSE, match.negate
        )
    if all(p == "lo" for p in match.names):
        return _negated(Tri.FALSE, match.negate)
    if "*" in match.names:
        return _negated(Tri.TRUE, match.negate)
    return Tri.MAYBE


def _local(local: tuple[Interval, ...], ranges: tuple[Interval, ...]) -> Tri:
    """A destination match for a packet to the host: true if every destination the host takes
    is inside, false if none is (Docker's drops of its containers' addresses), else maybe."""
    each = {_within(span, ranges) for span in local}
    if each == {Tri.TRUE}:
        return Tri.TRUE
    if each <= {Tri.FALSE}:
        return Tri.FALSE
    return Tri.MAYBE


def match_class(match: Match, c: PacketClass) -> Tri:
    """How ``match`` judges every packet of ``c``."""
    if isinstance(match, FamilyMatch):
        return Tri.TRUE if c.family in match.families else Tri.FALSE
    if isinstance(match, ProtoMatch):
        return _negated(Tri.TRUE if c.protocol in match.protocols else Tri.FALSE, match.negate)
    if isinstance(match, PortMatch):
        if c.protocol not in match.protocols:
            return Tri.FALSE  # the header is not there: even a negated port match fails
        span = c.dport if match.field == "dport" else (0, 65535)
        return _negated(_within(span, match.ranges), match.negate)
    if isinstance(match, IcmpTypeMatch):
        if c.family != match.family or c.protocol != (1 if match.family == "ipv4" else 58):
            return Tri.FALSE
        return _negated(_within(c.icmp_type, match.ranges), match.negate)
    if isinstance(match, AddrMatch):
        if c.family != match.family:
            return Tri.FALSE
        if match.field == "daddr" and c.daddr is None and c.local is not None:
            return _negated(_local(c.local, match.ranges), match.negate)
        whole = (0, (1 << ADDRESS_BITS[c.family]) - 1)
        given = c.saddr if match.field == "saddr" else c.daddr
        found = _within(given if given is not None else whole, match.ranges)
        if match.field == "daddr" and given is None and found is Tri.FALSE:
            found = Tri.MAYBE  # the host's own addresses are not known here
        return _negated(found, match.negate)
    if isinstance(match, IfaceMatch):
        return _iface(match, c)
    if isinstance(match, AddrTypeMatch):
        return _addr_type(match, c)
    if isinstance(match, CtStateMatch):
        return _negated(Tri.TRUE if c.ct_state in match.states else Tri.FALSE, match.negate)
    if isinstance(match, HopLimitMatch):
        if c.family != match.family:
            return Tri.FALSE
        if c.hop_limit is None:
            return Tri.MAYBE
        return _negated(_within((c.hop_limit, c.hop_limit), match.ranges), match.negate)
    if isinstance(match, AnyOf):
        each = [all_of(alt, c) for alt in match.alternatives]
        if Tri.TRUE in each:
            return Tri.TRUE
        if all(f is Tri.FALSE for f in each):
            return Tri.FALSE
        return Tri.UNKNOWN if Tri.UNKNOWN in each else Tri.MAYBE
    assert isinstance(match, Unknown)
    return Tri.UNKNOWN


def all_of(matches: tuple[Match, ...], c: PacketClass) -> Tri:
    """A conjunction: false wins, then unknown, then maybe."""
    result = Tri.TRUE
    for match in matches:
        found = match_class(match, c)
        if found is Tri.FALSE:
            return Tri.FALSE
        if found is Tri.UNKNOWN or (found is Tri.MAYBE and result is Tri.TRUE):
            result = found
    return result


def rule_matches(rule: Rule, c: PacketClass) -> Tri:
    found = all_of(rule.matches, c)
    if found is Tri.TRUE and rule.limit is not None:
        return Tri.MAYBE  # only the packets under the rate
    return found
