"""Read ``nft -j list ruleset`` (libnftables-json(5)) into chains, with bounds: the text comes
from other hosts and is untrusted, so size, object count, nesting and rule length are capped and
anything over a cap makes the whole dump unreadable (never half-read, never a crash)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from v6gap.analysis.firewall_presence._graph import BOTH, Chain, Rule, Verdict
from v6gap.errors import RulesetError
from v6gap.firewall.nft import load_objects

MAX_JSON_CHARS = 128 << 20  # nft -j on 200k rules is ~100 MB
MAX_OBJECTS = 2_000_000
MAX_DEPTH = 64  # libnftables expressions nest a handful of levels; more is not a real ruleset
MAX_STATEMENTS = 4096  # per rule

FAMILIES = {
    "ip": frozenset({"ipv4"}),
    "ip6": frozenset({"ipv6"}),
    "inet": BOTH,
    "netdev": BOTH,
}
_FAMILY_WORDS = {"ip": "ipv4", "ipv4": "ipv4", "ip6": "ipv6", "ipv6": "ipv6"}
_V4_PROTOCOLS = frozenset({"ip", "icmp", "igmp"})
_V6_PROTOCOLS = frozenset({"ip6", "icmpv6", "hbh", "rt", "frag", "dst", "mh", "srh"})
_SELECTOR_KEYS = frozenset({"nfproto", "protocol", "l3proto"})
_NEUTRAL = frozenset({"counter", "log", "mangle", "notrack", "set", "flow", "meta", "ct"})
_VERDICTS = frozenset({"accept", "drop", "reject", "jump", "goto", "return", "continue", "queue"})
_OTHER_TERMINAL = frozenset({"snat", "dnat", "masquerade", "redirect", "tproxy", "fwd", "synproxy"})
_XT_NEUTRAL = frozenset({"LOG", "NFLOG", "comment", "MARK", "CONNMARK", "CT", "NOTRACK"})
IPTABLES_TABLES = frozenset({"filter", "nat", "mangle", "raw", "security"})
IPTABLES_BUILTINS = frozenset({"INPUT", "FORWARD", "OUTPUT", "PREROUTING", "POSTROUTING"})


class Unreadable(Exception):
    """The dump cannot be summarised; ``str(exc)`` says why."""


@dataclass
class NftTable:
    family: str
    name: str
    chains: list[str]
    rules: int = 0
    xt: bool = False  # iptables-nft wrote it (opaque xt expressions)
    restrictive_policy: bool = False

    @property
    def authority(self) -> str:
        base_names = set(self.chains) & IPTABLES_BUILTINS
        looks_iptables = (
            self.family in ("ip", "ip6")
            and self.name in IPTABLES_TABLES
            and bool(base_names)
            and all(c.isupper() or c.startswith(("DOCKER", "KUBE")) for c in self.chains)
        )
        return "iptables-nft" if self.xt or looks_iptables else "nftables"


@dataclass
class NftView:
    chains: dict[str, Chain]
    tables: list[NftTable]


def _walk(value: Any, depth: int = 0) -> Any:
    """Yield every dict inside ``value`` (itself included), refusing hostile nesting."""
    if depth > MAX_DEPTH:
        raise Unreadable(f"nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _walk(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item, depth + 1)


def _verdicts_in(value: Any, table_key: str) -> list[Verdict]:
    found: list[Verdict] = []
    for node in _walk(value):
        if len(node) != 1:
            continue
        name, body = next(iter(node.items()))
        if name in _VERDICTS:
            found.append(_verdict(name, body, table_key))
    return found


def _verdict(name: str, body: Any, table_key: str) -> Verdict:
    if name in ("jump", "goto"):
        target = body.get("target") if isinstance(body, dict) else None
        return Verdict(name, f"{table_key}/{target}" if isinstance(target, str) else None)
    return Verdict(name)


def _payload_protocols(value: Any) -> set[str]:
    if isinstance(value, dict) and len(value) == 1:  # the common shapes, without a walk
        if isinstance(value.get("payload"), dict):
            return {str(value["payload"].get("protocol"))}
        if "meta" in value or "ct" in value:
            return set()
    return {
        str(node["payload"].get("protocol"))
        for node in _walk(value)
        if isinstance(node.get("payload"), dict)
    }


def _match_families(body: dict[str, Any]) -> tuple[frozenset[str], bool]:
    """(families the match lets through, whether it is only a family selector)."""
    left, right, op = body.get("left"), body.get("right"), body.get("op", "==")
    meta = left.get("meta") if isinstance(left, dict) else None
    ct = left.get("ct") if isinstance(left, dict) else None
    selector = meta if isinstance(meta, dict) else ct if isinstance(ct, dict) else None
    if selector and selector.get("key") in _SELECTOR_KEYS and isinstance(right, str):
        family = _FAMILY_WORDS.get(right)
        if family and op in ("==", "in"):
            return frozenset({family}), True
        if family and op == "!=":
            return BOTH - {family}, True
    if isinstance(meta, dict) and meta.get("key") == "l4proto" and op in ("==", "in"):
        if right in ("icmp", 1):
            return frozenset({"ipv4"}), False
        if right in ("ipv6-icmp", "icmpv6", 58):
            return frozenset({"ipv6"}), False
    families = BOTH
    for protocol in _payload_protocols(left):
        if protocol in _V4_PROTOCOLS:
            families &= {"ipv4"}
        elif protocol in _V6_PROTOCOLS:
            families &= {"ipv6"}
    return families, False


def _loopback(body: dict[str, Any]) -> Optional[str]:
    """The family whose loopback source this match selects (``ip6 saddr ::1``), if any."""
    left, right = body.get("left"), body.get("right")
    if body.get("op", "==") not in ("==", "in") or not isinstance(left, dict):
        return None
    payload = left.get("payload")
    if not isinstance(payload, dict) or payload.get("field") != "saddr":
        return None
    if isinstance(right, dict) and isinstance(right.get("prefix"), dict):
        right = f"{right['prefix'].get('addr')}/{right['prefix'].get('len')}"
    if payload.get("protocol") == "ip6" and right in ("::1", "::1/128"):
        return "ipv6"
    if payload.get("protocol") == "ip" and isinstance(right, str) and right.startswith("127."):
        return "ipv4"
    return None


def _not_from_lo(body: dict[str, Any]) -> bool:
    left = body.get("left")
    meta = left.get("meta") if isinstance(left, dict) else None
    return (
        isinstance(meta, dict)
        and meta.get("key") in ("iif", "iifname")
        and body.get("op") == "!="
        and body.get("right") == "lo"
    )


def _rule(
    expr: list[Any],
    families: frozenset[str],
    ref: str,
    table_key: str,
    maps: dict[str, list[Verdict]],
    table: NftTable,
) -> Rule:
    if len(expr) > MAX_STATEMENTS:
        raise Unreadable(f"a rule with more than {MAX_STATEMENTS} statements")
    conditional = False
    verdicts: list[Verdict] = []
    loopback: Optional[str] = None
    not_lo = False
    for statement in expr:
        if not isinstance(statement, dict) or len(statement) != 1:
            conditional = True
            continue
        name, body = next(iter(statement.items()))
        if name == "match" and isinstance(body, dict):
            allowed, selector_only = _match_families(body)
            families &= allowed
            conditional = conditional or not selector_only
            loopback = loopback or _loopback(body)
            not_lo = not_lo or _not_from_lo(body)
        elif name in _VERDICTS:
            verdicts.append(_verdict(name, body, table_key))
        elif name == "vmap" and isinstance(body, dict):
            conditional = True
            data = body.get("data")
            if isinstance(data, str) and data.startswith("@"):
                verdicts.extend(maps.get(data[1:], []))
            else:
                verdicts.extend(_verdicts_in(data, table_key))
        elif name == "xt" and isinstance(body, dict):
            table.xt = True
            xt_name, xt_type = body.get("name"), body.get("type")
            if xt_type == "target" and xt_name == "REJECT":
                verdicts.append(Verdict("reject"))
            elif xt_name not in _XT_NEUTRAL:
                if xt_type == "target":
                    verdicts.append(Verdict("other"))
                else:
                    conditional = True
        elif name in _OTHER_TERMINAL:
            verdicts.append(Verdict("other"))
        elif name not in _NEUTRAL:
            conditional = True  # limit, quota, ct count … and anything not known: a condition
    summary = ",".join(v.kind for v in verdicts) or "no verdict"
    return Rule(ref + f" [{summary}]", families, tuple(verdicts), conditional, loopback, not_lo)


def _objects(text: str) -> list[Any]:
    try:
        return load_objects(text, MAX_JSON_CHARS, MAX_OBJECTS)
    except RulesetError as exc:
        raise Unreadable(str(exc)) from None


def _named(obj: Any, kind: str) -> Optional[dict[str, Any]]:
    body = obj.get(kind) if isinstance(obj, dict) and len(obj) == 1 else None
    if not isinstance(body, dict):
        return None
    owner = "name" if kind == "table" else "table"
    if not isinstance(body.get("family"), str) or not isinstance(body.get(owner), str):
        return None
    return body


def read_nft(text: str) -> NftView:
    """Chains (keyed ``nft/<family>/<table>/<chain>``) and per-table counts of one dump."""
    objects = _objects(text)
    tables: dict[str, NftTable] = {}
    chains: dict[str, Chain] = {}
    maps: dict[str, dict[str, list[Verdict]]] = {}
    rules: list[dict[str, Any]] = []

    def table_of(family: str, name: str) -> tuple[str, NftTable]:
        key = f"nft/{family}/{name}"
        if key not in tables:
            tables[key] = NftTable(family, name, [])
        return key, tables[key]

    for obj in objects:
        if (body := _named(obj, "table")) is not None:
            table_of(body["family"], body["name"])
        elif (body := _named(obj, "chain")) is not None and isinstance(body.get("name"), str):
            table_key, table = table_of(body["family"], body["table"])
            table.chains.append(body["name"])
            hook = body.get("hook") if isinstance(body.get("hook"), str) else None
            policy = None
            if hook is not None:
                policy = "drop" if body.get("policy") == "drop" else "accept"
            table.restrictive_policy = table.restrictive_policy or policy == "drop"
            chains[f"{table_key}/{body['name']}"] = Chain(
                f"{table_key}/{body['name']}",
                f"nft {body['family']} {body['table']} chain {body['name']}",
                FAMILIES.get(body["family"], frozenset()),
                hook,
                policy,
            )
        elif (body := _named(obj, "map")) is not None and body.get("map") == "verdict":
            table_key, _ = table_of(body["family"], body["table"])
            maps.setdefault(table_key, {})[str(body.get("name"))] = _verdicts_in(
                body.get("elem"), table_key
            )
        elif (body := _named(obj, "rule")) is not None and isinstance(body.get("chain"), str):
            rules.append(body)
    for body in rules:
        table_key, table = table_of(body["family"], body["table"])
        chain = chains.get(f"{table_key}/{body['chain']}")
        expr = body.get("expr")
        if chain is None or not isinstance(expr, list):
            continue
        table.rules += 1
        ref = f"handle {body.get('handle')}"
        if isinstance(body.get("comment"), str):
            ref += f' comment "{body["comment"][:80]}"'
        chain.rules.append(
            _rule(expr, chain.families, ref, table_key, maps.get(table_key, {}), table)
        )
    return NftView(chains, list(tables.values()))
