"""Finds every check without import side effects: each module in a family package exposes
``CHECK`` (or ``CHECKS``); adding a check is adding one module."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from v6gap.checks.base import Check

FAMILIES = ("state", "ndp", "tun", "fw", "exp")
# Judged from packets (``ProbeEvidence``), not from a snapshot: outside the host catalogue.
PROBE_FAMILIES = ("probe",)


@cache
def all_checks() -> tuple[Check, ...]:
    """The host catalogue: every check judged from a snapshot."""
    return _discover(FAMILIES)


@cache
def probe_checks() -> tuple[Check, ...]:
    """The V6G-PROBE-* checks, judged from a probe run."""
    return _discover(PROBE_FAMILIES)


def _discover(families: tuple[str, ...]) -> tuple[Check, ...]:
    found: list[Check] = []
    for family in families:
        package = importlib.import_module(f"v6gap.checks.{family}")
        for info in pkgutil.iter_modules(package.__path__):
            if info.name.startswith("_"):
                continue
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            if hasattr(module, "CHECK"):
                found.append(module.CHECK)
            found.extend(getattr(module, "CHECKS", ()))
    ids = [c.meta.id for c in found]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise RuntimeError(f"check ids defined twice: {sorted(duplicates)}")
    return tuple(sorted(found, key=lambda c: _order(c.meta.id, families)))


def _order(check_id: str, families: tuple[str, ...]) -> tuple[int, int]:
    _, family, number = check_id.split("-")
    return families.index(family.lower()), int(number)
