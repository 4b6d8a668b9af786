"""Snapshots in and out: validated, bounded, and unchanged by a JSON round trip."""

from __future__ import annotations

import os
from typing import Any

import msgspec

from v6gap.errors import InputError
from v6gap.model import SNAPSHOT_SCHEMA, Snapshot

MAX_SNAPSHOT_BYTES = 256 << 20
# Generous ceilings, far above any real host, low enough that a hostile file cannot exhaust us.
MAX_COUNTS = {
    "interfaces": 20_000,
    "routes": 500_000,
    "neighbours": 500_000,
    "sockets": 500_000,
    "files": 20_000,
    "dirs": 5_000,
    "sysctl": 500_000,
    "processes": 200_000,
}


class _Header(msgspec.Struct):
    """Read first, so a file of another version gets that message, not a field-by-field one."""

    schema: str


def from_data(data: Any, origin: str) -> Snapshot:
    """A Snapshot from plain data (a collector's dict or decoded JSON); InputError when invalid."""
    if not isinstance(data, dict):
        raise InputError(f"{origin}: not a v6gap snapshot (expected a JSON object)")
    schema = data.get("schema")
    if schema != SNAPSHOT_SCHEMA:
        raise InputError(
            f"{origin}: unsupported snapshot schema {schema!r} (want {SNAPSHOT_SCHEMA})"
        )
    try:
        snapshot = msgspec.convert(data, Snapshot)
    except msgspec.ValidationError as exc:
        raise InputError(f"{origin}: invalid snapshot: {exc}") from None
    _check_bounds(snapshot, origin)
    return snapshot


def load(path: str) -> Snapshot:
    try:
        size = os.path.getsize(path)
        if size > MAX_SNAPSHOT_BYTES:
            raise InputError(f"{path}: snapshot larger than {MAX_SNAPSHOT_BYTES >> 20} MiB")
        with open(path, "rb") as fh:
            raw = fh.read(MAX_SNAPSHOT_BYTES + 1)
    except OSError as exc:
        raise InputError(f"{path}: cannot read snapshot: {exc.strerror or exc}") from None
    try:
        schema = msgspec.json.decode(raw, type=_Header).schema
        if schema != SNAPSHOT_SCHEMA:
            raise InputError(
                f"{path}: unsupported snapshot schema {schema!r} (want {SNAPSHOT_SCHEMA})"
            )
        snapshot = msgspec.json.decode(raw, type=Snapshot)
    except msgspec.ValidationError as exc:
        raise InputError(f"{path}: invalid snapshot: {exc}") from None
    except msgspec.DecodeError as exc:
        raise InputError(f"{path}: not valid JSON: {exc}") from None
    except RecursionError:
        raise InputError(f"{path}: not valid JSON: nested too deeply") from None
    _check_bounds(snapshot, path)
    return snapshot


def dumps(snapshot: Snapshot) -> bytes:
    return msgspec.json.format(msgspec.json.encode(snapshot), indent=1) + b"\n"


def _check_bounds(snapshot: Snapshot, origin: str) -> None:
    for field, ceiling in MAX_COUNTS.items():
        count = len(getattr(snapshot, field))
        if count > ceiling:
            raise InputError(f"{origin}: snapshot has {count} {field}, more than {ceiling}")
