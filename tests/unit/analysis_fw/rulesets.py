"""Snapshots built from the rulesets recorded under tests/fixtures/rulesets/ (see record.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import make_snapshot
from v6gap.model import Snapshot

RULESETS = Path(__file__).resolve().parents[2] / "fixtures" / "rulesets"
CASES = sorted(p.name for p in RULESETS.iterdir() if (p / "nft.json").is_file())


def recorded_firewall(case: str) -> dict[str, Any]:
    """The ``firewall`` field of a snapshot taken where ``case`` was loaded."""
    directory = RULESETS / case
    saves = {f.name.removesuffix(".txt"): f.read_text() for f in directory.glob("*-save.txt")}
    return {"nft_json": (directory / "nft.json").read_text(), "saves": saves}


def ruleset_snapshot(case: str, **fields: Any) -> Snapshot:
    return make_snapshot(firewall=recorded_firewall(case), **fields)
