"""Rule expressions of ``nft -j`` (libnftables-json(5)) as model matches and verdicts.

One ``TableReader`` per table resolves the table's named sets and maps. Expressions outside
what is modelled become ``Unknown`` matches (or ``other`` verdicts) with their raw JSON; nesting,
statement counts and set sizes are capped so hostile input cannot make a rule expensive.
"""

from __future__ import annotations

import json
from typing import Any, Optional

from v6gap.firewall import _names
from v6gap.firewall._drop_only import mark, settle
from v6gap.firewall.model import (
    ADDRESS_TYPES,
    BOTH,
    CONTINUE,
    PORT_PROTOCOLS,
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
    Origin,
    PortMatch,
    ProtoMatch,
    Rule,
    Unknown,
    Verdict,
)

MAX_STATEMENTS = 256  # per rule
MAX_ELEMENTS = 1_000_000  # per set match; more becomes an Unknown match
RAW_CHARS = 200  # of an Unknown match's raw text
# firewalld accepts `ct status dnat` first: whether it holds depends on the whole ruleset's NAT.
CT_STATUS_DNAT = "ct status dnat"
# `ip frag-off & 0x1fff != 0`: an IPv4 fragment after the first
_LATER_FRAGMENT = [{"payload": {"protocol": "ip", "field": "frag-off"}}, 0x1FFF]

_PORT_PROTOCOLS = {
    "tcp": frozenset({6}),
    "udp": frozenset({17}),
    "sctp": frozenset({132}),
    "dccp": frozenset({33}),
    "udplite": frozenset({136}),
    "th": PORT_PROTOCOLS,
}
_FAMILY_WORDS = {"ip": "ipv4", "ipv4": "ipv4", "ip6": "ipv6", "ipv6": "ipv6"}
_PAYLOAD_FAMILY = {"ip": "ipv4", "ip6": "ipv6"}
_SIDE_EFFECTS = frozenset({"mangle", "notrack", "dup", "flow", "ct helper", "ct timeout", "xt"})
_OTHER_VERDICTS = frozenset(
    {"queue", "dnat", "snat", "masquerade", "redirect", "tproxy", "fwd", "synproxy"}
)


class _NotUnderstood(Exception):
    """An expression outside what this reader models; its rule gets an Unknown match."""


def _dumps(value: Any) -> str:
    try:
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    except RecursionError:  # json.loads lets ~1000 levels through; dumps may stop earlier
        return '"expression nested too deeply"'


def raw_text(value: Any) -> str:
    text = _dumps(value)
    return text if len(text) <= RAW_CHARS else text[: RAW_CHARS - 1] + "…"


def _drop_only_kind(kind: str, spec: Any, right: Any, op: str) -> str:
    """The ``_drop_only`` kind of a match the judged packets never meet, or ""."""
    if kind == "exthdr" and right is not False and op in ("==", "!=", "in"):
        return "extension header: "  # a header field, or `exists`: the header is there
    flags = spec.get("flags") if isinstance(spec, dict) else None
    rpf = isinstance(flags, list) and "saddr" in flags and "iif" in flags
    if kind == "fib" and spec.get("result") == "oif" and rpf and right is False and op == "==":
        return "reverse-path check: "
    return ""


class TableReader:
    """Turns one table's rule expressions into matches, resolving its named sets and maps."""

    def __init__(self, family: str, name: str, sets: dict[str, dict[str, Any]]) -> None:
        self.family = family
        self.name = name
        self.sets = sets
        self.xt = False

    # ---------------------------------------------------------------- values

    def _flatten(self, value: Any, into: list[Any], depth: int = 0) -> None:
        if depth > 4:
            raise _NotUnderstood("values nested too deeply")
        if isinstance(value, str) and value.startswith("@"):
            found = self.sets.get(value[1:])
            flags = found.get("flags", []) if found else []
            if (
                found is None
                or "dynamic" in flags
                or (isinstance(flags, list) and "timeout" in flags)
            ):
                raise _NotUnderstood(f"set {value} (missing or filled at run time)")
            self._flatten(found.get("elem", []), into, depth + 1)
        elif isinstance(value, list):
            for item in value:
                self._flatten(item, into, depth + 1)
        elif isinstance(value, dict) and len(value) == 1 and "set" in value:
            self._flatten(value["set"], into, depth + 1)
        elif isinstance(value, dict) and len(value) == 1 and isinstance(value.get("elem"), dict):
            self._flatten(value["elem"].get("val"), into, depth + 1)
        else:
            into.append(value)
        if len(into) > MAX_ELEMENTS:
            raise _NotUnderstood(f"a set of more than {MAX_ELEMENTS} elements")

    def _ranges(self, right: Any, op: str, names: dict[str, int], limit: int) -> list[Interval]:
        items: list[Any] = []
        self._flatten(right, items)
        found: list[Interval] = []
        for item in items:
            if isinstance(item, dict) and isinstance(item.get("range"), list):
                bounds = item["range"]
                low = _names.number(bounds[0], names, limit) if len(bounds) == 2 else None
                high = _names.number(bounds[1], names, limit) if len(bounds) == 2 else None
                if low is None or high is None or low > high:
                    raise _NotUnderstood(raw_text(item))
                found.append((low, high))
                continue
            value = _names.number(item, names, limit)
            if value is None:
                raise _NotUnderstood(raw_text(item))
            found.append((value, value))
        if op in ("<", "<=", ">", ">="):
            if len(found) != 1 or found[0][0] != found[0][1]:
                raise _NotUnderstood(f"{op} with {raw_text(right)}")
            value = found[0][0]
            bound = {
                "<": (0, value - 1),
                "<=": (0, value),
                ">": (value + 1, limit),
                ">=": (value, limit),
            }[op]
            return [bound] if bound[0] <= bound[1] else []
        return found

    def _addresses(self, right: Any, family: str) -> tuple[list[Interval], str]:
        items: list[Any] = []
        self._flatten(right, items)
        found: list[Interval] = []
        words: list[str] = []
        for item in items:
            span: Optional[Interval] = None
            if isinstance(item, str):
                span, word = _names.address_range(item, family), item
            elif isinstance(item, dict) and isinstance(item.get("prefix"), dict):
                word = f"{item['prefix'].get('addr')}/{item['prefix'].get('len')}"
                span = _names.address_range(word, family)
            elif isinstance(item, dict) and isinstance(item.get("range"), list):
                bounds = [_names.address_range(str(b), family) for b in item["range"]]
                if len(bounds) == 2 and bounds[0] and bounds[1]:
                    span = (bounds[0][0], bounds[1][1])
                word = "-".join(str(b) for b in item["range"])
            if span is None:
                raise _NotUnderstood(raw_text(item))
            found.append(span)
            words.append(word)
        text = ", ".join(words[:4]) + (f" … ({len(words)} in all)" if len(words) > 4 else "")
        return found, text

    def _words(self, right: Any) -> list[str]:
        items: list[Any] = []
        self._flatten(right, items)
        if not all(isinstance(i, str) for i in items):
            raise _NotUnderstood(raw_text(right))
        return [str(i) for i in items]

    # ---------------------------------------------------------------- matches

    def matches(self, left: Any, right: Any, op: str) -> list[Match]:
        """The model matches for ``left op right``; raises _NotUnderstood."""
        if op not in ("==", "!=", "in", "<", "<=", ">", ">="):
            raise _NotUnderstood(f"operator {op}")
        negate = op == "!="
        if not isinstance(left, dict) or len(left) != 1:
            raise _NotUnderstood(raw_text(left))
        kind, spec = next(iter(left.items()))
        if kind == "&" and op == "!=" and right == 0 and spec == _LATER_FRAGMENT:
            return [mark("extension header: ", "ip frag-off & 0x1fff != 0")]
        if kind == "concat" and isinstance(spec, list) and not negate and op in ("==", "in"):
            return [self._concat(spec, right)]
        if not isinstance(spec, dict):
            raise _NotUnderstood(raw_text(left))
        ordered = op in ("<", "<=", ">", ">=")
        if kind == "meta":
            return self._meta(str(spec.get("key")), right, negate, ordered, op)
        if kind == "ct" and spec.get("key") == "state" and not ordered and "dir" not in spec:
            states = frozenset(w.lower() for w in self._words(right))
            if not states <= _names.CT_STATES:
                raise _NotUnderstood(f"ct state {sorted(states)}")
            return [CtStateMatch(states, negate)]
        if kind == "payload":
            return self._payload(str(spec.get("protocol")), str(spec.get("field")), right, op)
        flags = spec.get("flags")
        if kind == "fib" and spec.get("result") == "type" and flags in (["daddr"], ["saddr"]):
            # `fib daddr type local` (the route type of the address alone; with iif or oif
            # among the flags the lookup depends on the interface, which is not modelled)
            types = frozenset(w.lower() for w in self._words(right))
            if not ordered and types and types <= ADDRESS_TYPES:
                return [AddrTypeMatch(str(flags[0]), types, negate)]
        status = kind == "ct" and spec.get("key") == "status" and "dir" not in spec
        if status and op in ("==", "in") and self._words(right) == ["dnat"]:
            return [Unknown(CT_STATUS_DNAT)]  # sources.settle_dnat decides it
        marked = _drop_only_kind(kind, spec, right, op)
        if marked:
            return [mark(marked, raw_text({"left": left, "op": op, "right": right}))]
        raise _NotUnderstood(raw_text(left))

    def _meta(self, key: str, right: Any, negate: bool, ordered: bool, op: str) -> list[Match]:
        if key in ("nfproto", "protocol") and not ordered:
            words = self._words(right)
            families = frozenset(_FAMILY_WORDS.get(w, "?") for w in words)
            if "?" in families:
                raise _NotUnderstood(f"meta {key} {words}")
            return [FamilyMatch(BOTH - families if negate else families)]
        if key == "l4proto":
            protocols = self._protocols(right, op)
            return [ProtoMatch(protocols, negate, "meta l4proto")]
        if key in ("iif", "iifname", "oif", "oifname") and not ordered:
            field = "iif" if key.startswith("iif") else "oif"
            return [IfaceMatch(field, tuple(self._words(right)), negate)]
        raise _NotUnderstood(f"meta {key}")

    def _protocols(self, right: Any, op: str) -> frozenset[int]:
        found: set[int] = set()
        for low, high in self._ranges(right, op, _names.PROTOCOLS, 255):
            found.update(range(low, high + 1))
        return frozenset(found)

    def _payload(self, protocol: str, field: str, right: Any, op: str) -> list[Match]:
        negate = op == "!="
        family = _PAYLOAD_FAMILY.get(protocol)
        if family and field in ("protocol", "nexthdr"):
            via = "ip protocol" if family == "ipv4" else "ip6 nexthdr"
            return [
                FamilyMatch(frozenset({family})),
                ProtoMatch(self._protocols(right, op), negate, via),
            ]
        if family and field in ("saddr", "daddr") and op in ("==", "!=", "in"):
            spans, text = self._addresses(right, family)
            addr = AddrMatch(
                "saddr" if field == "saddr" else "daddr", family, tuple(spans), text, negate
            )
            return [FamilyMatch(frozenset({family})), addr]
        if protocol in _PORT_PROTOCOLS and field in ("dport", "sport"):
            spans_p = self._ranges(right, op, _names.SERVICES, 65535)
            port_field = "dport" if field == "dport" else "sport"
            return [PortMatch(port_field, _PORT_PROTOCOLS[protocol], tuple(spans_p), negate)]
        if family and field in ("hoplimit", "ttl"):
            spans_h = self._ranges(right, op, {}, 255)
            return [FamilyMatch(frozenset({family})), HopLimitMatch(family, tuple(spans_h), negate)]
        if protocol in ("icmp", "icmpv6") and field == "type":
            icmp_family = "ipv4" if protocol == "icmp" else "ipv6"
            names = _names.ICMP_TYPES if protocol == "icmp" else _names.ICMPV6_TYPES
            spans_t = self._ranges(right, op, names, 255)
            return [IcmpTypeMatch(icmp_family, tuple(spans_t), negate)]
        raise _NotUnderstood(f"{protocol} {field}")

    def _concat(self, parts: list[Any], right: Any) -> AnyOf:
        if any(isinstance(p, dict) and "concat" in p for p in parts):
            raise _NotUnderstood("nested concatenation")  # nft makes none; bounds the recursion
        items: list[Any] = []
        self._flatten(right, items)
        alternatives: list[tuple[Match, ...]] = []
        for item in items:
            values = item.get("concat") if isinstance(item, dict) else None
            if not isinstance(values, list) or len(values) != len(parts):
                raise _NotUnderstood(raw_text(item))
            alternative: list[Match] = []
            for part, value in zip(parts, values):
                alternative.extend(self.matches(part, value, "=="))
            alternatives.append(tuple(alternative))
        return AnyOf(tuple(alternatives), raw_text({"concat": parts}))

    # ---------------------------------------------------------------- verdicts

    def verdict(self, statement: Any) -> Verdict:
        if not isinstance(statement, dict) or len(statement) != 1:
            return Verdict("other", detail=raw_text(statement))
        name, body = next(iter(statement.items()))
        if name in ("accept", "drop", "return", "continue"):
            return Verdict(name)
        if name in ("jump", "goto"):
            target = body.get("target") if isinstance(body, dict) else None
            if isinstance(target, str):
                return Verdict(name, target)
        if name == "reject":
            return Verdict("reject", detail=raw_text(body) if body else "")
        return Verdict("other", detail=raw_text(statement))

    def vmap(self, body: dict[str, Any]) -> Verdict:
        key, data = body.get("key"), body.get("data")
        if isinstance(data, str) and data.startswith("@"):
            found = self.sets.get(data[1:])
            data = found.get("elem", []) if found else None
            if data is None:
                return Verdict("other", detail=f"vmap {body.get('data')}: map not found")
        if isinstance(data, dict) and len(data) == 1 and "set" in data:
            data = data["set"]
        items = data if isinstance(data, list) else [data]
        if len(items) > MAX_ELEMENTS:
            return Verdict("other", detail=f"vmap of more than {MAX_ELEMENTS} elements")
        entries: list[tuple[tuple[Match, ...], Verdict]] = []
        for item in items:
            if not isinstance(item, list) or len(item) != 2:
                return Verdict("other", detail=f"vmap element {raw_text(item)}")
            try:
                when: tuple[Match, ...] = tuple(self.matches(key, item[0], "=="))
            except _NotUnderstood:
                when = (Unknown(f"vmap key {raw_text(key)} = {raw_text(item[0])}"),)
            entries.append((when, self.verdict(item[1])))
        return Verdict("vmap", entries=tuple(entries), detail=raw_text(key))

    def rule(self, body: dict[str, Any], origin: Origin) -> Rule:
        """One rule; its nesting is bounded where the reading recurses (sets, concatenations),
        and anything deeper than Python's own limit makes the whole rule unknown."""
        expr = body.get("expr")
        if isinstance(expr, list) and len(expr) <= MAX_STATEMENTS:
            try:
                return self._rule(body, expr, origin)
            except RecursionError:
                pass
        return Rule((Unknown("rule expression too large or malformed"),), Verdict("other"), origin)

    def _rule(self, body: dict[str, Any], expr: list[Any], origin: Origin) -> Rule:
        matches: list[Match] = []
        verdict = CONTINUE
        log = counter = False
        limit: Optional[str] = None
        for statement in expr:
            if not isinstance(statement, dict) or len(statement) != 1:
                matches.append(Unknown(raw_text(statement)))
                continue
            name, spec = next(iter(statement.items()))
            if name == "match" and isinstance(spec, dict):
                try:
                    matches.extend(
                        self.matches(spec.get("left"), spec.get("right"), str(spec.get("op", "==")))
                    )
                except _NotUnderstood:
                    matches.append(Unknown(raw_text(spec)))
            elif name in ("accept", "drop", "return", "continue", "jump", "goto", "reject"):
                verdict = self.verdict(statement)
            elif name == "vmap" and isinstance(spec, dict):
                verdict = self.vmap(spec)
            elif name == "counter":
                counter = True
            elif name == "log":
                log = True
            elif name in ("limit", "quota") and isinstance(spec, dict):
                limit = _limit_text(name, spec)
            elif name == "set" and "limit" in _dumps(spec):
                limit = f"per-element limit in set statement {raw_text(spec)}"
            elif name == "xt" and isinstance(spec, dict):
                self.xt = True
                xt_name, xt_type = spec.get("name"), spec.get("type")
                if xt_type == "target" and xt_name == "REJECT":
                    verdict = Verdict("reject", detail="xt REJECT")
                elif xt_type == "target" and xt_name in ("LOG", "NFLOG"):
                    log = True
                elif xt_type == "target":
                    verdict = Verdict("other", detail=f"xt target {xt_name}")
                elif xt_name != "comment":
                    matches.append(Unknown(f"xt {xt_type} {xt_name}"))
            elif name in _OTHER_VERDICTS:
                verdict = Verdict("other", detail=name)
            elif name in _SIDE_EFFECTS or name == "set":
                continue  # changes packets or state, not which packets pass
            else:
                matches.append(Unknown(raw_text(statement)))
        comment = body.get("comment") if isinstance(body.get("comment"), str) else None
        return Rule(tuple(settle(matches, verdict)), verdict, origin, log, counter, limit, comment)


def _limit_text(name: str, spec: dict[str, Any]) -> str:
    if name == "quota":
        return f"quota {raw_text(spec)}"
    over = "over " if spec.get("inv") else ""
    unit = spec.get("rate_unit", "packets")
    return f"{over}{spec.get('rate')}/{spec.get('per')} burst {spec.get('burst', 5)} {unit}"
