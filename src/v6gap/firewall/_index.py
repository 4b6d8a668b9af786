"""Which rules can match a class at all, without scanning every rule for every class.

Per rule list (a chain's rules, a verdict map's entries) and per family and protocol, rules that
can never match (wrong family, wrong protocol) are left out once, and rules that require one of
a few exact destination ports (kube-proxy's thousands of service rules) are filed under those
ports. A class whose port interval is a single port then looks at the general rules plus the
rules filed under its port; a wider interval (which by construction contains none of those
ports) looks at the general rules only; any other interval adds the ports it covers. This
keeps whole-space parity about linear in rules.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from heapq import merge
from typing import Optional, TypeVar

from v6gap.firewall.model import (
    AddrMatch,
    AnyOf,
    FamilyMatch,
    IcmpTypeMatch,
    Interval,
    Match,
    PortMatch,
    ProtoMatch,
)

T = TypeVar("T")
MAX_POINTS = 64  # a port match with more single ports than this is filed as general


def _flat(matches: tuple[Match, ...]) -> tuple[Match, ...]:
    """A one-alternative concatenation is a plain conjunction: look inside it."""
    found: list[Match] = []
    for match in matches:
        if isinstance(match, AnyOf) and len(match.alternatives) == 1:
            found.extend(_flat(match.alternatives[0]))
        else:
            found.append(match)
    return tuple(found)


def _excluded(match: Match, family: str, protocol: int) -> bool:
    if isinstance(match, FamilyMatch):
        return family not in match.families
    if isinstance(match, ProtoMatch):
        return (protocol in match.protocols) == match.negate
    if isinstance(match, PortMatch):
        return protocol not in match.protocols
    if isinstance(match, IcmpTypeMatch):
        return family != match.family or protocol != (1 if family == "ipv4" else 58)
    if isinstance(match, AddrMatch):
        return family != match.family
    return False


def _points(matches: tuple[Match, ...]) -> Optional[list[int]]:
    for match in matches:
        if (
            isinstance(match, PortMatch)
            and match.field == "dport"
            and not match.negate
            and all(a == b for a, b in match.ranges)
            and len(match.ranges) <= MAX_POINTS
        ):
            return sorted({a for a, _ in match.ranges})
    return None


class _Filed:
    def __init__(self, items: Sequence[tuple[Match, ...]], family: str, protocol: int) -> None:
        self.general: list[int] = []
        self.points: dict[int, list[int]] = {}
        self.keys: Optional[list[int]] = None
        for i, raw in enumerate(items):
            matches = _flat(raw)
            if any(_excluded(m, family, protocol) for m in matches):
                continue
            points = _points(matches)
            if points is None:
                self.general.append(i)
            else:
                for port in points:
                    self.points.setdefault(port, []).append(i)

    def pick(self, dport: Interval) -> list[int]:
        if dport[0] == dport[1]:
            hits = self.points.get(dport[0])
            return list(merge(self.general, hits)) if hits else self.general
        if self.keys is None:
            self.keys = sorted(self.points)
        inside = self.keys[bisect_left(self.keys, dport[0]) : bisect_right(self.keys, dport[1])]
        if not inside:  # always so for the intervals parity asks about
            return self.general
        return sorted({*self.general, *(i for port in inside for i in self.points[port])})


class RuleIndex:
    """Filed rule lists, built on first use per list, family and protocol."""

    def __init__(self) -> None:
        self._filed: dict[tuple[int, str, int], _Filed] = {}
        self._keep: list[object] = []  # the lists indexed by id() must outlive the index
        self._found: dict[tuple[int, str], object] = {}

    def once(self, owner: object, key: str, compute: Callable[[], T]) -> T:
        """``compute()`` the first time for this owner and key, the same object after that."""
        slot = (id(owner), key)
        if slot not in self._found:
            self._found[slot] = compute()
            self._keep.append(owner)
        return self._found[slot]  # type: ignore[return-value]

    def pick(
        self,
        owner: object,
        items: Callable[[], Sequence[tuple[Match, ...]]],
        family: str,
        protocol: int,
        dport: Interval,
    ) -> list[int]:
        """Indices (in order) of the owner's ``items()`` that can match the class."""
        key = (id(owner), family, protocol)
        filed = self._filed.get(key)
        if filed is None:
            filed = self._filed[key] = _Filed(items(), family, protocol)
            self._keep.append(owner)
        return filed.pick(dport)
