"""Reporters: one module per output format, each reading only a ``Report``.

``render`` imports the module of the format it is asked for, so ``import v6gap.report`` stays
cheap for the command line.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from v6gap.model import Report

__all__ = ["OutputFormat", "render"]


class OutputFormat(str, enum.Enum):
    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"
    JUNIT = "junit"


def _assert_never(value: NoReturn) -> NoReturn:
    raise AssertionError(f"unhandled output format: {value!r}")


def render(report: Report, fmt: OutputFormat, *, color: bool = False) -> str:
    """``report`` in ``fmt``; ``color`` adds ANSI colours to the text format, and only there."""
    fmt = OutputFormat(fmt)  # also takes the plain name ("json"); ValueError for unknown ones
    if fmt is OutputFormat.TEXT:
        from v6gap.report import text

        return text.render(report, color=color)
    if fmt is OutputFormat.JSON:
        from v6gap.report import json_report

        return json_report.render(report)
    if fmt is OutputFormat.SARIF:
        from v6gap.report import sarif

        return sarif.render(report)
    if fmt is OutputFormat.JUNIT:
        from v6gap.report import junit

        return junit.render(report)
    _assert_never(fmt)
