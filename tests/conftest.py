"""Shared test helpers: build snapshots as data."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from v6gap.model import SNAPSHOT_SCHEMA, Snapshot


def make_snapshot(**fields: Any) -> Snapshot:
    """A valid snapshot from plain fields (anything JSON-shaped, as collectors produce)."""
    base: dict[str, Any] = {
        "schema": SNAPSHOT_SCHEMA,
        "source": "live",
        "hostname": "test-host",
        "tool_version": "0.0.0",
        "collected_at": "2026-01-01T00:00:00Z",
    }
    base.update(fields)
    return msgspec.convert(base, Snapshot)


@pytest.fixture
def snapshot_factory() -> Any:
    return make_snapshot
