"""Whole-space questions: parity between families, and explain for one packet description.

Partitioning (``v6gap.firewall.partition``): the port space 0..65535 (per protocol), the ICMP
types 0..255 and each family's source addresses are cut only where some rule's range starts or
ends. Inside one interval every port, type or source match of the ruleset answers the same way,
so one evaluation per interval is exact, and the number of evaluations grows with the
boundaries the ruleset draws, not with 65,536 ports. Intervals suit this domain better than a
BDD: every match here is already a range (ports, types, prefixes), and intervals turn straight
into the ``from_port``/``to_port`` rows users read. Loopback sources are left out: the class
is "from the network".
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable, Optional

from v6gap.errors import InputError
from v6gap.firewall import _names
from v6gap.firewall._index import RuleIndex
from v6gap.firewall.evaluate import ClassVerdict, Judgement, PacketClass, judge
from v6gap.firewall.model import ICMP, ICMPV6, PORT_PROTOCOLS, TCP, UDP, Interval, Ruleset
from v6gap.firewall.partition import (
    cut,
    judged_matches,
    named_protocols,
    other_protocols,
    port_spans,
    prefixes,
    signatures,
    source_cuts,
)

# ICMPv6 type -> the ICMPv4 type with the same meaning; the others (NDP, MLD) have no IPv4
# counterpart to be at parity with and are judged by the lint (FW-04, FW-05).
ICMP_COUNTERPARTS = {128: 8, 129: 0, 1: 3, 2: 3, 3: 11, 4: 12}
_RANK = {"accept": 3, "conditional": 2, "unknown": 1, "drop": 0}  # unknown might accept
MAX_SOURCES_SHOWN = 4


@dataclass(frozen=True)
class Decision:
    """A verdict over every source and input interface: when it is conditional, ``sources``
    and ``interfaces`` list those accepted where the ruleset tells them apart."""

    verdict: ClassVerdict
    trace: tuple[str, ...]
    other_trace: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    interfaces: tuple[str, ...] = ()

    def to_data(self) -> dict[str, Any]:
        """Each side of a parity difference's ``why``, and ``explain``'s JSON (plus its notes)."""
        data: dict[str, Any] = {"verdict": self.verdict, "trace": list(self.trace)}
        if self.verdict in ("conditional", "unknown"):
            data["other_trace"] = list(self.other_trace)
        if self.sources:
            data["accepted_sources"] = list(self.sources)
        if self.interfaces:
            data["accepted_interfaces"] = list(self.interfaces)
        return data


@dataclass(frozen=True)
class Route:
    """Where the packets go: to one of the host's own addresses on the input hook (which one is
    not known here), or through the host on the forward hook."""

    hook: str = "input"
    oif: Optional[str] = None  # forward hook: the output interface
    daddr: Optional[Interval] = None


TO_HOST = Route()


@dataclass(frozen=True)
class ParityDifference:
    proto: str  # tcp, udp, icmpv6, a protocol name or number, "other"
    from_port: Optional[int]  # the ICMPv6 type for icmpv6; None for portless protocols
    to_port: Optional[int]
    ipv4: ClassVerdict
    ipv6: ClassVerdict
    wider: str  # "ipv6" or "ipv4": the family that lets more in
    why: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        span = ("from_type", "to_type") if self.proto == "icmpv6" else ("from_port", "to_port")
        found: dict[str, Any] = {"proto": self.proto}
        if self.from_port is not None:
            found[span[0]], found[span[1]] = self.from_port, self.to_port
        found.update(ipv4=self.ipv4, ipv6=self.ipv6, wider=self.wider, why=self.why)
        return found


# --------------------------------------------------------------------------- questions


def decide(
    ruleset: Ruleset,
    family: str,
    protocol: int,
    dport: Interval = (0, 65535),
    icmp_type: Interval = (0, 255),
    saddr: Optional[Interval] = None,
    iif: Optional[str] = None,
    index: Optional[RuleIndex] = None,
    ct_state: str = "new",
    connection: bool = True,
    hop_limit: Optional[int] = None,
    route: Route = TO_HOST,
) -> Decision:
    """The verdict for new connections of one kind from every (or one) network source.

    A TCP connection needs more than its SYN: the handshake's last ACK and everything after it
    arrive as conntrack state "established", so a new TCP connection counts as accepted only as
    far as those packets are accepted too (the differential lab test found rulesets that take
    the SYN and drop the rest). ``connection=False`` judges the first packet alone (whether a
    closed port answers with a reset, say).
    """
    index = index or RuleIndex()  # one filing of the rules for both questions
    ask = (ruleset, family, protocol, dport, icmp_type, saddr, iif, index)
    opening = _decide(*ask, ct_state, hop_limit, route)
    if not connection or protocol != TCP or ct_state != "new" or opening.verdict == "drop":
        return opening
    rest = _decide(*ask, "established", hop_limit, route)
    if _RANK[rest.verdict] >= _RANK[opening.verdict]:
        return opening
    trace = tuple(f"established packets: {step}" for step in rest.trace)
    return Decision(rest.verdict, trace, opening.trace, rest.sources, rest.interfaces)


def _decide(
    ruleset: Ruleset,
    family: str,
    protocol: int,
    dport: Interval = (0, 65535),
    icmp_type: Interval = (0, 255),
    saddr: Optional[Interval] = None,
    iif: Optional[str] = None,
    index: Optional[RuleIndex] = None,
    ct_state: str = "new",
    hop_limit: Optional[int] = None,
    route: Route = TO_HOST,
) -> Decision:
    """The verdict for packets of one conntrack state from every (or one) network source."""
    index = index or RuleIndex()
    seen: list[Interval] = []
    names: set[str] = set()

    def packets(source: Optional[Interval], on: Optional[str] = iif) -> PacketClass:
        where = (route.hook, route.oif, route.daddr)
        return PacketClass(
            family, protocol, dport, icmp_type, source, on, ct_state, hop_limit, *where
        )

    first = judge(ruleset, packets(saddr), index, seen, names)
    found = _by_source(ruleset, family, first, seen, saddr, packets, index)
    if found.verdict != "conditional" or iif is not None or not names:
        return found
    on = _interfaces(ruleset, names, lambda name: packets(saddr, name), index)
    return dataclasses.replace(found, interfaces=on)


# Stands for every input interface that none of a ruleset's names or patterns matches.
_OTHER_INTERFACE = "\x00"


def _interfaces(
    ruleset: Ruleset, names: set[str], on: Callable[[str], PacketClass], index: RuleIndex
) -> tuple[str, ...]:
    """The input interfaces (names, ``name*`` patterns, "other interfaces") that accept some of
    a conditional class; () when every interface accepts some of it (the interface is not what
    decides)."""
    shown = {n: n[:-1] + _OTHER_INTERFACE if n.endswith("*") else n for n in sorted(names)}
    shown["other interfaces"] = _OTHER_INTERFACE
    accepted = [
        label for label, name in shown.items() if judge(ruleset, on(name), index).verdict != "drop"
    ]
    return tuple(accepted) if len(accepted) < len(shown) else ()


def _by_source(
    ruleset: Ruleset,
    family: str,
    first: Judgement,
    seen: list[Interval],
    saddr: Optional[Interval],
    packets: Callable[[Optional[Interval]], PacketClass],
    index: RuleIndex,
) -> Decision:
    """The verdict over the sources the ruleset tells apart (``seen``), within ``saddr``."""
    atoms = source_cuts(family, seen)
    if saddr is not None:
        atoms = [(max(a, saddr[0]), min(b, saddr[1])) for a, b in atoms]
        atoms = [(a, b) for a, b in atoms if a <= b]
    if not seen and saddr is None:
        return Decision(first.verdict, first.trace, first.other_trace)  # no source cuts it
    judged = [(span, judge(ruleset, packets(span), index)) for span in atoms]
    if not judged:
        return Decision("unknown", ("no network source in the given range (loopback only)",))
    verdicts = {j.verdict for _, j in judged}
    first = judged[0][1]
    if len(verdicts) == 1:
        return Decision(first.verdict, first.trace, first.other_trace)
    accepted: list[Interval] = []
    for span, j in judged:
        if j.verdict not in ("accept", "conditional"):
            continue
        if accepted and accepted[-1][1] + 1 == span[0]:
            accepted[-1] = (accepted[-1][0], span[1])  # atoms only the ruleset told apart
        else:
            accepted.append(span)
    shown = tuple(prefixes(s, family) for s in accepted[:MAX_SOURCES_SHOWN])
    if len(accepted) > MAX_SOURCES_SHOWN:
        shown += (f"… and {len(accepted) - MAX_SOURCES_SHOWN} more source ranges",)
    open_one = next(j for _, j in judged if j.verdict != "drop")
    shut = next((j for _, j in judged if j.verdict == "drop"), first)
    verdict: ClassVerdict = "unknown" if "unknown" in verdicts else "conditional"
    return Decision(verdict, open_one.trace, shut.trace, shown)


def _difference(
    proto: str, span: Optional[Interval], v4: Decision, v6: Decision, **extra: Any
) -> ParityDifference:
    wider = "ipv6" if _RANK[v6.verdict] > _RANK[v4.verdict] else "ipv4"
    why = {"ipv4": v4.to_data(), "ipv6": v6.to_data(), **extra}
    low, high = span if span is not None else (None, None)
    return ParityDifference(proto, low, high, v4.verdict, v6.verdict, wider, why)


def parity(ruleset: Ruleset) -> list[ParityDifference]:
    """Every protocol/port (and ICMP type) range where IPv4 and IPv6 verdicts differ."""
    with _names.no_gc():
        return _parity(ruleset)


def _parity(ruleset: Ruleset) -> list[ParityDifference]:
    index = RuleIndex()
    judged = judged_matches(ruleset)
    named = named_protocols(judged)
    differences: list[ParityDifference] = []
    for protocol in sorted({TCP, UDP} | (named & PORT_PROTOCOLS)):
        name = _names.PROTOCOL_NAMES.get(protocol, str(protocol))
        pending: Optional[tuple[Interval, Decision, Decision]] = None
        spans = port_spans(judged, protocol)
        atoms = cut(iter(spans), 0, 65535)
        alike: dict[frozenset[Interval], tuple[Decision, Decision]] = {}
        for atom, signature in zip(atoms, signatures(atoms, spans)):
            known = alike.get(signature)
            if known is None:
                known = alike[signature] = (
                    decide(ruleset, "ipv4", protocol, atom, index=index),
                    decide(ruleset, "ipv6", protocol, atom, index=index),
                )
            v4, v6 = known
            same_as_pending = pending is not None and (
                (pending[1].verdict, pending[2].verdict) == (v4.verdict, v6.verdict)
            )
            if pending is not None and same_as_pending:
                pending = ((pending[0][0], atom[1]), pending[1], pending[2])
                continue
            if pending is not None and pending[1].verdict != pending[2].verdict:
                differences.append(_difference(name, *pending))
            pending = (atom, v4, v6)
        if pending is not None and pending[1].verdict != pending[2].verdict:
            differences.append(_difference(name, *pending))
    for v6_type, v4_type in ICMP_COUNTERPARTS.items():
        v4 = decide(ruleset, "ipv4", ICMP, icmp_type=(v4_type, v4_type), index=index)
        v6 = decide(ruleset, "ipv6", ICMPV6, icmp_type=(v6_type, v6_type), index=index)
        if v4.verdict != v6.verdict:
            differences.append(_difference("icmpv6", (v6_type, v6_type), v4, v6, icmp_type=v4_type))
    for protocol, label in other_protocols(named):
        v4 = decide(ruleset, "ipv4", protocol, index=index)
        v6 = decide(ruleset, "ipv6", protocol, index=index)
        if v4.verdict != v6.verdict:
            differences.append(_difference(label, None, v4, v6, protocol=protocol))
    return differences


def explain(
    ruleset: Ruleset,
    family: str,
    protocol: int,
    dport: Optional[int] = None,
    icmp_type: Optional[int] = None,
    saddr: Optional[str] = None,
    iif: Optional[str] = None,
    ct_state: str = "new",
    connection: bool = True,
    hop_limit: Optional[int] = None,
    daddr: Optional[str] = None,
    hook: str = "input",
    oif: Optional[str] = None,
) -> Decision:
    """The verdict and rule trace for one description of an incoming (or, on the forward hook,
    routed) packet: a new connection unless ``ct_state`` says otherwise; see ``decide`` for
    ``connection``. Without ``daddr`` the destination is one of the host's addresses, not known
    here (a ``daddr`` match is a maybe)."""
    span = _address(saddr, family)
    route = Route(hook, oif, _address(daddr, family))
    ports = (dport, dport) if dport is not None else (0, 65535)
    types = (icmp_type, icmp_type) if icmp_type is not None else (0, 255)
    return decide(
        ruleset,
        family,
        protocol,
        ports,
        types,
        span,
        iif,
        ct_state=ct_state,
        connection=connection,
        hop_limit=hop_limit,
        route=route,
    )


def _address(text: Optional[str], family: str) -> Optional[Interval]:
    if text is None:
        return None
    span = _names.address_range(text, family)
    if span is None:
        raise InputError(f"{text!r} is not an {family} address or prefix")
    return span
