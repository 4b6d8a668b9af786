"""The match modules of an iptables-save rule (``-m tcp --dport 22``) as model matches.

Modules outside what is modelled become ``Unknown`` matches with their text. Two kinds are
read beyond the common set because ufw's default rules use them on every packet's path:

* ``-m hl`` / ``-m ttl``: the hop limit (TTL) a packet arrives with, as nft's ``ip6 hoplimit``.
* ``-m rt`` / ``frag`` / ``hbh`` / ``dst`` (and ``-f``): the packet carries an IPv6 extension
  header (is a later fragment): never the judged packets in a rule that drops (``_drop_only``),
  ``Unknown`` elsewhere.
"""

from __future__ import annotations

from typing import Optional

from v6gap.errors import RulesetError
from v6gap.firewall import _names
from v6gap.firewall._drop_only import mark
from v6gap.firewall.model import (
    ADDRESS_TYPES,
    CONTINUE,
    IP6_ADDRESS_CLASSES,
    IP6_ROUTE_TYPES,
    AddrMatch,
    AddrTypeMatch,
    CtStateMatch,
    HopLimitMatch,
    IcmpTypeMatch,
    Interval,
    Match,
    PortMatch,
    Unknown,
    Verdict,
)

_GENERIC = frozenset(
    {
        "-p",
        "--protocol",
        "-s",
        "--source",
        "--src",
        "-d",
        "--destination",
        "--dst",
        "-i",
        "--in-interface",
        "-o",
        "--out-interface",
        "-m",
        "--match",
        "-j",
        "--jump",
        "-g",
        "--goto",
        "-f",
        "--fragment",
    }
)

_COMMON_MODULES = frozenset(
    {
        "tcp",
        "udp",
        "multiport",
        "icmp",
        "icmp6",
        "conntrack",
        "state",
        "comment",
        "limit",
        "iprange",
        "addrtype",
    }
)


class Line:
    """One ``-A`` line being read: tokens and a cursor."""

    def __init__(self, tokens: list[str], family: str, memo: dict[object, object]) -> None:
        self.tokens = tokens
        self.memo = memo  # shared by the lines of one dump: the matches of repeated words
        self.i = 0
        self.family = family
        self.matches: list[Match] = []
        self.protocols: Optional[frozenset[int]] = None
        self.verdict: Verdict = CONTINUE
        self.log = False
        self.limit: Optional[str] = None
        self.comment: Optional[str] = None

    def take(self) -> str:
        # The one error reading a rule can raise: iptables.py checks each line's last word at
        # read time for it, since rules are built later (model.Rules).
        if self.i >= len(self.tokens):
            raise RulesetError("an option without its value")
        token = self.tokens[self.i]
        self.i += 1
        return token

    def module_args(self) -> list[str]:
        """The option words that follow, up to the next generic option."""
        tokens, start = self.tokens, self.i
        end, size = start, len(tokens)
        while end < size:
            token = tokens[end]
            if token in _GENERIC or (
                token == "!" and end + 1 < size and tokens[end + 1] in _GENERIC
            ):
                break
            end += 1
        self.i = end
        return tokens[start:end]


def _address_type(family: str, field: str, types: frozenset[str], negate: bool) -> AddrTypeMatch:
    """``-m addrtype``'s types; in IPv6 some are classes of the address, each required."""
    if family == "ipv4" and types and types <= ADDRESS_TYPES:
        return AddrTypeMatch(field, types, negate)
    if family == "ipv6" and types and types <= IP6_ADDRESS_CLASSES | IP6_ROUTE_TYPES:
        return AddrTypeMatch(field, types & IP6_ROUTE_TYPES, negate, types & IP6_ADDRESS_CLASSES)
    raise ValueError(",".join(sorted(types)))  # ip6tables refuses the others too


def address_span(text: str, family: str) -> Optional[Interval]:
    """``10.0.0.1-10.0.0.9`` (iprange) or one address, as an interval; None if malformed."""
    low_text, dash, high_text = text.partition("-")
    low = _names.address_range(low_text, family)
    high = _names.address_range(high_text, family) if dash else low
    if low is None or high is None or low[0] != low[1] or high[0] != high[1] or low > high:
        return None
    return (low[0], high[0])


def ports(text: str) -> tuple[Interval, ...]:
    found: list[Interval] = []
    for part in text.split(","):
        low_text, _, high_text = part.partition(":")
        low = _names.number(low_text or "0", _names.SERVICES, 65535)
        high = _names.number(high_text or "65535", _names.SERVICES, 65535) if _ else low
        if low is None or high is None or low > high:
            raise ValueError(part)
        found.append((low, high))
    return tuple(found)


_STATEFUL_OPTIONS = frozenset({"--comment", "--limit", "--limit-burst"})


def read_module(line: Line, module: str) -> None:
    args = line.module_args()
    if module == "comment" and len(args) == 2 and args[0] == "--comment":
        line.comment = args[1]  # what the general path below does, without its loop
        return
    if _STATEFUL_OPTIONS.isdisjoint(args):
        # Only matches are added, and they depend on the words and -p alone: read them once.
        key = (module, line.protocols, *args)
        known = line.memo.get(key)
        if known is None:
            before = len(line.matches)
            _module_words(line, module, args)
            line.memo[key] = tuple(line.matches[before:])
        else:
            line.matches.extend(known)  # type: ignore[arg-type]
        return
    _module_words(line, module, args)


def _module_words(line: Line, module: str, args: list[str]) -> None:
    raw = f"-m {module} {' '.join(args)}".strip()
    if module in ("hl", "ttl"):
        _hop_limit(line, module, args, raw)
        return
    if module in EXTENSION_HEADER_MODULES:
        line.matches.append(mark("extension header: ", raw))
        return
    if module not in _COMMON_MODULES:
        line.matches.append(Unknown(raw))
        return
    i = 0
    try:
        while i < len(args):
            negate = args[i] == "!"
            i += negate
            option = args[i]
            value = args[i + 1] if i + 1 < len(args) else ""
            i += 2
            if option in ("--dport", "--destination-port", "--sport", "--source-port"):
                field = "dport" if option.startswith(("--d", "--destination")) else "sport"
                protocols = frozenset({6} if module == "tcp" else {17})
                line.matches.append(PortMatch(field, protocols, ports(value), negate))
            elif option in ("--dports", "--destination-ports", "--sports", "--source-ports"):
                field = "dport" if option.startswith(("--d", "--destination")) else "sport"
                protocols = line.protocols or frozenset({6, 17})
                line.matches.append(PortMatch(field, protocols, ports(value), negate))
            elif option in ("--icmp-type", "--icmpv6-type"):
                family = "ipv6" if option == "--icmpv6-type" else "ipv4"
                names = _names.ICMPV6_TYPES if family == "ipv6" else _names.ICMP_TYPES
                type_text = value.split("/")[0]
                ranges: tuple[Interval, ...]
                if type_text == "any":
                    ranges = ((0, 255),)
                else:
                    number = _names.number(type_text, names, 255)
                    if number is None:
                        raise ValueError(value)
                    ranges = ((number, number),)
                line.matches.append(IcmpTypeMatch(family, ranges, negate))
            elif option in ("--ctstate", "--state"):
                states = frozenset(s.lower() for s in value.split(","))
                if not states <= _names.CT_STATES:
                    raise ValueError(value)
                line.matches.append(CtStateMatch(states, negate))
            elif option in ("--src-range", "--dst-range"):
                field = "saddr" if option == "--src-range" else "daddr"
                span = address_span(value, line.family)
                if span is None:
                    raise ValueError(value)
                line.matches.append(AddrMatch(field, line.family, (span,), value, negate))
            elif option in ("--src-type", "--dst-type"):
                # (--limit-iface-in/out take no value and are not modelled: the whole module
                # becomes unknown through the else below)
                types = frozenset(t.lower() for t in value.split(","))
                field = "saddr" if option == "--src-type" else "daddr"
                line.matches.append(_address_type(line.family, field, types, negate))
            elif option == "--comment":
                line.comment = value
            elif option == "--limit":
                line.limit = value if not line.limit else f"{value} {line.limit}"
            elif option == "--limit-burst":
                line.limit = f"{line.limit or ''} burst {value}".strip()
            else:
                raise ValueError(option)
    except (ValueError, IndexError):
        line.matches.append(Unknown(raw))


_HOP_OPTIONS = {"--hl-eq": "eq", "--hl-lt": "lt", "--hl-gt": "gt"}
_HOP_OPTIONS.update({"--ttl-eq": "eq", "--ttl-lt": "lt", "--ttl-gt": "gt"})
EXTENSION_HEADER_MODULES = frozenset({"rt", "frag", "hbh", "dst"})


def _hop_limit(line: Line, module: str, args: list[str], raw: str) -> None:
    """``-m hl --hl-eq 255``, ``-m ttl ! --ttl-lt 2``: one bound, as ip6 hoplimit / ip ttl."""
    negate = args[:1] == ["!"]
    rest = args[negate:]
    family = "ipv6" if module == "hl" else "ipv4"
    kind = _HOP_OPTIONS.get(rest[0]) if len(rest) == 2 and rest[1].isdigit() else None
    value = int(rest[1]) if kind else -1
    if kind is None or (family == "ipv6") != rest[0].startswith("--hl") or value > 255:
        line.matches.append(Unknown(raw))
        return
    span = {"eq": (value, value), "lt": (0, value - 1), "gt": (value + 1, 255)}[kind]
    ranges: tuple[Interval, ...] = (span,) if span[0] <= span[1] else ()
    line.matches.append(HopLimitMatch(family, ranges, negate))
