"""Finds every check without import side effects: each module in a family package exposes
``CHECK`` (or ``CHECKS``); adding a check is adding one module."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from v6gap.checks.base import Check

FAMILIES = ("state", "ndp", "tun", "fw", "exp")


@cache
def all_checks() -> tuple[Check, ...]:
    found: list[Check] = []
    for family in FAMILIES:
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
    return tuple(sorted(found, key=lambda c: _order(c.meta.id)))


def _order(check_id: str) -> tuple[int, int]:
    _, family, number = check_id.split("-")
    return FAMILIES.index(family.lower()), int(number)
