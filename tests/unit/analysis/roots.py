"""The recorded image trees under tests/fixtures/roots, read the way ``v6gap audit --root`` does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import make_snapshot
from v6gap.collect.files import collect_files
from v6gap.collect.host import Host
from v6gap.model import Snapshot

ROOTS = Path(__file__).resolve().parents[2] / "fixtures" / "roots"


def root_path(name: str) -> str:
    """Absolute path of fixture tree ``name``."""
    path = ROOTS / name
    assert path.is_dir(), f"no fixture tree {name}"
    return str(path)


def root_snapshot(name: str, **extra: Any) -> Snapshot:
    """A snapshot of fixture tree ``name`` holding what ``collect_files`` reads from it."""
    fields, unavailable = collect_files(Host(root=root_path(name)))
    return make_snapshot(
        source="root", root=root_path(name), unavailable=unavailable, **fields, **extra
    )
