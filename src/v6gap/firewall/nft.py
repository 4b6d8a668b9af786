"""Read ``nft -j list ruleset`` (libnftables-json(5)) into the ruleset model.

The text comes from other hosts and is untrusted: its size, object count and nesting are capped
(over a cap: ``RulesetError`` with a one-line message), and any expression this reader does not
understand becomes an ``Unknown`` match (or an ``other`` verdict) instead of being dropped.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Callable, Optional

import msgspec

from v6gap.errors import RulesetError
from v6gap.firewall import _names
from v6gap.firewall._nft_rules import TableReader, raw_text
from v6gap.firewall.model import (
    OTHER_TABLE_FAMILIES,
    REWRITE_TARGETS,
    Chain,
    NamedSet,
    Origin,
    Rule,
    Rules,
    Ruleset,
    Table,
    rewrite_note,
)

SOURCE = "nft -j list ruleset"
MAX_JSON_CHARS = 128 << 20  # nft -j on 200k rules is ~100 MB
MAX_OBJECTS = 2_000_000


def load_objects(
    text: str, max_chars: Optional[int] = None, max_objects: Optional[int] = None
) -> list[Any]:
    """The ``nftables`` list of a dump, bounded; ``RulesetError`` says in one line what is wrong."""
    max_chars = MAX_JSON_CHARS if max_chars is None else max_chars
    max_objects = MAX_OBJECTS if max_objects is None else max_objects
    if len(text) > max_chars:
        raise RulesetError(f"nft JSON larger than {max_chars} characters")
    try:
        data = msgspec.json.decode(text)  # json.loads took twice as long on a 33 MB dump
    except RecursionError:
        raise RulesetError("nft JSON nested too deeply to parse") from None
    except (msgspec.DecodeError, ValueError) as exc:
        raise RulesetError(f"not JSON ({str(exc).splitlines()[0]})") from None
    objects = data.get("nftables") if isinstance(data, dict) else None
    if not isinstance(objects, list):
        raise RulesetError("nft JSON has no 'nftables' list")
    if len(objects) > max_objects:
        raise RulesetError(f"nft JSON has more than {max_objects} objects")
    return objects


def _body(obj: Any) -> tuple[str, Optional[dict[str, Any]]]:
    """(kind, body) of one ``{"kind": {...}}`` object; the body None when it is not one of a
    table's objects (a family and an owning table or a name, as strings)."""
    if not isinstance(obj, dict) or len(obj) != 1:
        return "", None
    ((kind, body),) = obj.items()
    if not isinstance(body, dict) or not isinstance(body.get("family"), str):
        return kind, None
    owner = body.get("name" if kind == "table" else "table")
    return kind, body if isinstance(owner, str) else None


def read_nft(text: str, source: str = SOURCE) -> Ruleset:
    """The ruleset of one ``nft -j list ruleset`` dump (``RulesetError`` when unreadable)."""
    # json.loads and the reader build millions of small acyclic objects: without the cyclic
    # collector 100k rules read in about a quarter of the time (bench/bench_firewall.py).
    with _names.no_gc():
        return _read_nft(text, source)


def _read_nft(text: str, source: str) -> Ruleset:
    objects = load_objects(text)
    table_order: list[tuple[str, str]] = []
    chains: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    sets: dict[tuple[str, str], dict[str, dict[str, Any]]] = defaultdict(dict)
    rules: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)

    def note_table(key: tuple[str, str]) -> None:
        if key not in chains:
            chains[key] = []
            table_order.append(key)

    for obj in objects:
        kind, body = _body(obj)
        if body is None:
            continue
        if kind == "rule":
            if isinstance(body.get("chain"), str):
                rules[(body["family"], body["table"], body["chain"])].append(body)
        elif kind == "table":
            note_table((body["family"], body["name"]))
        elif kind == "chain" and isinstance(body.get("name"), str):
            note_table((body["family"], body["table"]))
            chains[(body["family"], body["table"])].append(body)
        elif kind in ("set", "map") and isinstance(body.get("name"), str):
            note_table((body["family"], body["table"]))
            sets[(body["family"], body["table"])][body["name"]] = body
    # Rules are built when first read (model.Rules); what the table says about itself is
    # looked up now, and only in dumps whose text can hold it at all.
    any_xt, any_ct_status = '"xt"' in text, '"status"' in text
    needles = _REWRITE_STATEMENTS + (_REWRITE_XT if any_xt else ())
    any_rewrite = any(f'"{word}"' in text for word in needles)
    tables: list[Table] = []
    notes: list[str] = []
    for family, name in table_order:
        reader = TableReader(family, name, sets[(family, name)])
        own = [(c, rules[(family, name, c["name"])]) for c in chains[(family, name)]]
        built = tuple(_chain(reader, chain, bodies, source) for chain, bodies in own)
        named = tuple(
            NamedSet(
                str(s.get("name")),
                raw_text(s.get("type")),
                tuple(str(f) for f in s.get("flags", []) if isinstance(f, str))
                if isinstance(s.get("flags"), list)
                else (),
                len(s["elem"]) if isinstance(s.get("elem"), list) else 0,
                "map" in s,
            )
            for s in sets[(family, name)].values()
        )
        xt = any_xt and _any_statement(own, _is_xt)
        ct_status = any_ct_status and _any_statement(own, _is_ct_status)
        rewrites = _rewrites(own) if any_rewrite else ()
        tables.append(Table(family, name, source, built, named, xt, ct_status, rewrites))
        if rewrites:
            where = f"{source}: table {family} {name}"
            notes.append(rewrite_note(where, len(rewrites), rewrites[0]))
        if family in OTHER_TABLE_FAMILIES:
            notes.append(f"{source}: table {family} {name} seen, not judged (family {family})")
        if xt:
            notes.append(
                f"{source}: table {family} {name} was written by iptables-nft; its xt "
                "matches are opaque here (read it from the *-save dump)"
            )
    return Ruleset(tuple(tables), tuple(notes))


# nft's statements that rewrite a destination (``_rewrites`` tests these three), and
# iptables-nft's xt targets that do.
_REWRITE_STATEMENTS = ("dnat", "redirect", "tproxy")
_REWRITE_XT = tuple(sorted(t.upper() for t in REWRITE_TARGETS))


def _rewrites(chains: list[tuple[dict[str, Any], list[dict[str, Any]]]]) -> tuple[str, ...]:
    """Where the rules that rewrite destinations are (chain and handle)."""
    found = []
    for chain, bodies in chains:
        for body in bodies:
            expr = body.get("expr")
            if isinstance(expr, list) and any(
                isinstance(st, dict)
                and ("dnat" in st or "redirect" in st or "tproxy" in st or _xt_rewrites(st))
                for st in expr
            ):
                found.append(f"chain {chain['name']} handle {body.get('handle')}")
    return tuple(found)


def _xt_rewrites(statement: dict[str, Any]) -> bool:
    xt = statement.get("xt")
    if not isinstance(xt, dict):
        return False
    return xt.get("type") == "target" and str(xt.get("name")).lower() in REWRITE_TARGETS


def _is_xt(statement: dict[str, Any]) -> bool:
    return "xt" in statement


def _is_ct_status(statement: dict[str, Any]) -> bool:
    match = statement.get("match")
    left = match.get("left") if isinstance(match, dict) else None
    ct = left.get("ct") if isinstance(left, dict) else None
    return isinstance(ct, dict) and ct.get("key") == "status"


def _any_statement(
    chains: list[tuple[dict[str, Any], list[dict[str, Any]]]],
    test: Callable[[dict[str, Any]], bool],
) -> bool:
    return any(
        isinstance(st, dict) and test(st)
        for _, bodies in chains
        for body in bodies
        if isinstance(body.get("expr"), list)
        for st in body["expr"]
    )


def _chain(
    reader: TableReader, body: dict[str, Any], rules: list[dict[str, Any]], source: str
) -> Chain:
    hook = body.get("hook") if isinstance(body.get("hook"), str) else None
    prio = body.get("prio", 0)
    priority = prio if isinstance(prio, int) and not isinstance(prio, bool) else 0
    policy = None
    if hook is not None:
        policy = "drop" if body.get("policy") == "drop" else "accept"
    label = f"{reader.family} {reader.name} chain {body['name']}"

    def build() -> tuple[Rule, ...]:
        with _names.no_gc():
            return tuple(
                reader.rule(r, Origin(source, f"{label} handle {r.get('handle')}")) for r in rules
            )

    chain_type = body.get("type") if isinstance(body.get("type"), str) else "filter"
    return Chain(
        body["name"],
        hook,
        priority,
        policy,
        str(chain_type),
        Rules(len(rules), build),
        Origin(source, label),
    )
