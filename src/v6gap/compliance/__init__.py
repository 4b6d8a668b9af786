"""Compliance frameworks as data: which benchmark recommendations each check covers."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources


@cache
def _cis_index() -> dict[str, tuple[str, ...]]:
    data = json.loads(resources.files(__package__).joinpath("cis.json").read_text("utf-8"))
    index: dict[str, list[str]] = {}
    for rec in data["recommendations"]:
        for check_id in rec["checks"]:
            refs = index.setdefault(check_id, [])
            refs.extend(f"{bench} {num} {rec['title']}" for bench, num in rec["numbers"].items())
    return {k: tuple(v) for k, v in index.items()}


def cis_references(check_id: str) -> tuple[str, ...]:
    """``CIS <benchmark> <number> <title>`` for every recommendation the check covers."""
    return _cis_index().get(check_id, ())
