"""Every protocol/port and ICMP-type class of a hook's path, judged once per distinct class.

The forward default (FW-12) and loopback spoofing (FW-02's evidence) ask the same shape of
question as parity, for one family: which classes of new connections, described by a fixed
source, destination and interfaces, a hook's path accepts. The port space is cut only where a
reachable rule's port range starts or ends (see ``v6gap.firewall.partition``); neighbouring classes
decided the same way (same verdict, same rules) are merged into one row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Optional

from v6gap.firewall import _names
from v6gap.firewall.evaluate import ClassVerdict
from v6gap.firewall.model import (
    ICMP,
    ICMPV6,
    PORT_PROTOCOLS,
    TCP,
    UDP,
    IcmpTypeMatch,
    Interval,
    Match,
    Ruleset,
)
from v6gap.firewall.partition import (
    cut,
    named_protocols,
    other_protocols,
    port_spans,
    signatures,
)

Answer = tuple[ClassVerdict, tuple[str, ...]]  # a verdict and its trace
# ask(protocol, destination ports, ICMP types) -> the verdict for that class
Ask = Callable[[int, Interval, Interval], Answer]
MAX_ROWS_SHOWN = 8


@dataclass(frozen=True)
class ClassRow:
    """Neighbouring classes of one protocol decided the same way."""

    proto: str
    span: Optional[Interval]  # ports, or ICMP types for icmp/icmpv6; None: portless protocol
    verdict: ClassVerdict
    trace: tuple[str, ...]

    def describe(self) -> str:
        if self.span is None:
            return self.proto
        low, high = self.span
        word = " type" if self.proto in ("icmp", "icmpv6") else ""
        return f"{self.proto}{word} {low}" + (f"-{high}" if high != low else "")


@dataclass(frozen=True)
class Swept:
    """The rows of one sweep."""

    rows: tuple[ClassRow, ...]

    @property
    def accepted(self) -> list[ClassRow]:
        """Rows some packets of which get through (conditional: some interfaces, rates)."""
        return [r for r in self.rows if r.verdict in ("accept", "conditional")]

    @property
    def undecided(self) -> list[ClassRow]:
        return [r for r in self.rows if r.verdict == "unknown"]


def shown(rows: Iterable[ClassRow]) -> list[str]:
    """One line per row, accepted and unknown first, capped."""
    order = {"accept": 0, "conditional": 1, "unknown": 2, "drop": 3}
    ordered = sorted(rows, key=lambda r: order[r.verdict])
    lines = [f"{r.describe()}: {r.verdict}: {' -> '.join(r.trace)}" for r in ordered]
    if len(lines) > MAX_ROWS_SHOWN:
        return [*lines[:MAX_ROWS_SHOWN], f"… and {len(lines) - MAX_ROWS_SHOWN} more classes"]
    return lines


def _merged(judged: Iterable[tuple[str, Optional[Interval], Answer]]) -> list[ClassRow]:
    rows: list[ClassRow] = []
    for proto, span, (verdict, trace) in judged:
        last = rows[-1] if rows else None
        if (
            last is not None
            and (last.proto, last.verdict, last.trace) == (proto, verdict, trace)
            and last.span is not None
            and span is not None
            and last.span[1] + 1 == span[0]
        ):
            rows[-1] = ClassRow(proto, (last.span[0], span[1]), verdict, last.trace)
        else:
            rows.append(ClassRow(proto, span, verdict, trace))
    return rows


def sweep(ruleset: Ruleset, family: str, matches: list[Match], ask: Ask) -> list[ClassRow]:
    """Every class ``matches`` (the rules reachable on the path) tell apart, asked once each."""
    judged: list[tuple[str, Optional[Interval], Answer]] = []
    named = named_protocols(matches)
    for protocol in sorted({TCP, UDP} | (named & PORT_PROTOCOLS)):
        name = _names.PROTOCOL_NAMES.get(protocol, str(protocol))
        spans = port_spans(matches, protocol)
        atoms = cut(iter(spans), 0, 65535)
        alike: dict[frozenset[Interval], Answer] = {}
        for atom, signature in zip(atoms, signatures(atoms, spans)):
            if signature not in alike:
                alike[signature] = ask(protocol, atom, (0, 255))
            judged.append((name, atom, alike[signature]))
    icmp = ICMP if family == "ipv4" else ICMPV6
    type_spans = [
        span
        for m in matches
        if isinstance(m, IcmpTypeMatch) and m.family == family
        for span in m.ranges
    ]
    for atom in cut(iter(type_spans), 0, 255):
        judged.append((_names.PROTOCOL_NAMES[icmp], atom, ask(icmp, (0, 65535), atom)))
    for protocol, label in other_protocols(named):
        judged.append((label, None, ask(protocol, (0, 65535), (0, 255))))
    return _merged(judged)
