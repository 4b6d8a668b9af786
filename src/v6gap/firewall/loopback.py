"""Loopback spoofing: what the input path does with packets that claim a loopback source.

CIS (ip6tables and nftables loopback recommendations) asks that traffic from ``::1`` (for IPv4
``127.0.0.0/8``) arriving on an interface other than ``lo`` be dropped. Each protocol/port and
ICMP-type class is judged for new connections from the loopback range on some interface other
than ``lo``: an interface match other than ``lo`` answers ``maybe``, so a class accepted only on
some interfaces is ``conditional``, and counts as accepted.
"""

from __future__ import annotations

from dataclasses import dataclass

from v6gap.firewall import _names
from v6gap.firewall._index import RuleIndex
from v6gap.firewall._sweep import Answer, Swept, shown, sweep
from v6gap.firewall.evaluate import PacketClass, judge
from v6gap.firewall.model import Interval, Ruleset
from v6gap.firewall.partition import judged_matches


@dataclass(frozen=True)
class Spoofing(Swept):
    family: str
    source: str  # the loopback range as written: ::1/128, 127.0.0.0/8

    def evidence(self) -> list[str]:
        """One verdict line, then the classes that decided it."""
        claim = f"loopback spoofing: {self.source} as source on an interface other than lo"
        if self.accepted:
            named = ", ".join(r.describe() for r in self.accepted[:6])
            more = f" and {len(self.accepted) - 6} more" if len(self.accepted) > 6 else ""
            head = f"{claim} is accepted by the ruleset for {named}{more}"
        elif self.undecided:
            head = f"{claim}: the engine cannot decide every class"
        else:
            head = f"{claim} is dropped for every protocol and port"
        return [head, *(f"  {line}" for line in shown(self.rows))]


def spoofed_loopback(ruleset: Ruleset, family: str = "ipv6") -> Spoofing:
    """The input path's verdicts for new connections from the loopback range, not on lo."""
    text = _names.LOOPBACK[family]
    source = _names.address_range(text, family)
    assert source is not None
    with _names.no_gc():
        index = RuleIndex()

        def ask(protocol: int, dport: Interval, types: Interval) -> Answer:
            found = judge(ruleset, PacketClass(family, protocol, dport, types, source), index)
            return found.verdict, found.trace

        rows = sweep(ruleset, family, judged_matches(ruleset, "input"), ask)
    return Spoofing(tuple(rows), family, text)
