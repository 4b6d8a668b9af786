"""Matches that only ever hold for packets the engine does not judge, in rules that drop.

The engine judges new connections from ordinary network sources: packets without IPv6 extension
headers (as the kernel sends TCP, UDP and ICMPv6 by default), not later fragments, from sources
routed back through the interface they arrive on. A rule that drops or rejects only packets
with a routing header (ufw's ``-m rt --rt-type 0 -j DROP``), only fragments, or only packets
failing a reverse-path check (firewalld's ``fib saddr . mark . iif oif missing drop``) never
decides a judged packet: its match never holds for them. In a rule that accepts or jumps, the
same match stays ``Unknown``: it lets in packets the engine does not judge, which must show.

Readers wrap such matches with ``mark`` and call ``settle`` once the rule's verdict is known.
"""

from __future__ import annotations

from collections.abc import Sequence

from v6gap.firewall.model import AnyOf, Match, Unknown, Verdict

# marker prefix -> why the judged packets never match
WHY = {
    "extension header: ": "only packets with this IPv6 extension header or later fragments; "
    "the judged packets have neither",
    "reverse-path check: ": "only packets from sources not routed back through their input "
    "interface (spoofed); the judged packets come from routed sources",
}


def mark(kind: str, raw: str) -> Unknown:
    """The match as ``Unknown`` until ``settle`` sees the verdict; ``kind`` is a ``WHY`` key."""
    assert kind in WHY
    return Unknown(f"{kind}{raw}")


def settle(matches: Sequence[Match], verdict: Verdict) -> list[Match]:
    """In a rule that drops or rejects, the marked matches never hold; elsewhere unknown."""
    if verdict.kind not in ("drop", "reject"):
        return list(matches)
    settled: list[Match] = []
    for match in matches:
        kind = next((k for k in WHY if isinstance(match, Unknown) and match.raw.startswith(k)), "")
        if kind:
            assert isinstance(match, Unknown)
            match = AnyOf((), f"{match.raw.removeprefix(kind)}: never holds: {WHY[kind]}")
        settled.append(match)
    return settled
