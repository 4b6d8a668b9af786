"""Hand-written rulesets as data: small builders for ``nft -j`` JSON, and fixture loading."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

from v6gap.firewall.model import Ruleset
from v6gap.firewall.nft import read_nft
from v6gap.firewall.sources import read_firewall

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "rulesets"
CASES = sorted(p.name for p in FIXTURES.iterdir() if (p / "nft.json").is_file())


def fixture(case: str) -> Ruleset:
    """A recorded host: its nft JSON and every save dump, read as the audit reads them."""
    folder = FIXTURES / case
    saves = {f.name.removesuffix(".txt"): f.read_text() for f in folder.glob("*save.txt")}
    return read_firewall((folder / "nft.json").read_text(), saves)


def match(left: Any, right: Any, op: str = "==") -> dict[str, Any]:
    return {"match": {"op": op, "left": left, "right": right}}


def payload(protocol: str, field: str) -> dict[str, Any]:
    return {"payload": {"protocol": protocol, "field": field}}


def meta(key: str) -> dict[str, Any]:
    return {"meta": {"key": key}}


CT_STATE = {"ct": {"key": "state"}}
ACCEPT: dict[str, Any] = {"accept": None}
DROP: dict[str, Any] = {"drop": None}


def jump(target: str) -> dict[str, Any]:
    return {"jump": {"target": target}}


def goto(target: str) -> dict[str, Any]:
    return {"goto": {"target": target}}


def tcp_dport(right: Any, op: str = "==") -> dict[str, Any]:
    return match(payload("tcp", "dport"), right, op)


class Nft:
    """Collects tables, chains and rules, then dumps them as ``nft -j list ruleset`` would."""

    def __init__(self) -> None:
        self.objects: list[dict[str, Any]] = [{"metainfo": {"json_schema_version": 1}}]
        self.handle = 0

    def table(self, family: str, name: str) -> Nft:
        self.objects.append({"table": {"family": family, "name": name}})
        return self

    def chain(
        self,
        family: str,
        table: str,
        name: str,
        hook: Optional[str] = None,
        prio: int = 0,
        policy: str = "accept",
    ) -> Nft:
        body: dict[str, Any] = {"family": family, "table": table, "name": name}
        if hook is not None:
            body.update(type="filter", hook=hook, prio=prio, policy=policy)
        self.objects.append({"chain": body})
        return self

    def rule(self, family: str, table: str, chain: str, *expr: dict[str, Any]) -> Nft:
        self.handle += 1
        body = {"family": family, "table": table, "chain": chain, "handle": self.handle}
        self.objects.append({"rule": {**body, "expr": list(expr)}})
        return self

    def add(self, obj: dict[str, Any]) -> Nft:
        self.objects.append(obj)
        return self

    def text(self) -> str:
        return json.dumps({"nftables": self.objects})

    def read(self) -> Ruleset:
        return read_nft(self.text())


def inet_input_nft(*rules: list[dict[str, Any]], policy: str = "drop") -> Nft:
    """One inet table with an input chain holding ``rules`` (each a list of statements)."""
    nft = Nft().table("inet", "t").chain("inet", "t", "input", "input", 0, policy)
    for expr in rules:
        nft.rule("inet", "t", "input", *expr)
    return nft


def inet_input(*rules: list[dict[str, Any]], policy: str = "drop") -> Ruleset:
    return inet_input_nft(*rules, policy=policy).read()


def snapshot_firewall(*rules: list[dict[str, Any]], policy: str = "drop") -> dict[str, Any]:
    """The snapshot's ``firewall`` field for such a ruleset (nft only, no save dumps)."""
    return {"nft_json": inet_input_nft(*rules, policy=policy).text(), "saves": {}}
