"""Lab fixtures: ``lab_factory`` builds a scenario and always tears it down; ``lab`` is basic."""

from __future__ import annotations

from v6gap.lab.pytest_plugin import lab, lab_factory

__all__ = ["lab", "lab_factory"]
