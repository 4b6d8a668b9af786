"""The terminal report: findings grouped by check family, the worst first, details under failures.

Lines stay within ``WIDTH`` columns where the text has places to break, except remediation
scripts, which are printed as written so they can be pasted.
"""

from __future__ import annotations

import textwrap
from typing import Callable

from v6gap.model import Finding, Report, Severity, Status
from v6gap.report._common import (
    STATUS_ORDER,
    by_family,
    describe_subject,
    one_line,
    printable,
    summary_counts,
)

WIDTH = 100

_STATUS_WIDTH = max(len(s.value) for s in Status)
_SEVERITY_WIDTH = max(len(s.value) for s in Severity)
_LABEL_INDENT = " " * 6
_ITEM_INDENT = " " * 8

# SGR parameters; only written when the caller asks for colour.
_BOLD = "1"
_STATUS_COLOUR = {
    Status.FAIL: "1;31",
    Status.UNKNOWN: "1;33",
    Status.INFO: "36",
    Status.PASS: "32",
    Status.SKIP: "2",
}
_SEVERITY_COLOUR = {
    Severity.CRITICAL: "1;35",
    Severity.HIGH: "31",
    Severity.MEDIUM: "33",
    Severity.LOW: "34",
    Severity.INFO: "2",
}

Paint = Callable[[str, str], str]


def _painter(color: bool) -> Paint:
    def paint(text: str, sgr: str) -> str:
        return f"\x1b[{sgr}m{text}\x1b[0m" if color and text else text

    return paint


def _wrap(text: str, first: str, rest: str) -> list[str]:
    """``text`` (one paragraph) wrapped to ``WIDTH`` after the given indents."""
    lines = textwrap.wrap(
        text,
        width=WIDTH,
        initial_indent=first,
        subsequent_indent=rest,
        break_on_hyphens=False,
    )
    return lines or [first.rstrip()]


def _wrap_lines(text: str, first: str, rest: str) -> list[str]:
    """Like ``_wrap`` for text that may hold newlines: each of its lines wrapped on its own."""
    out: list[str] = []
    for i, line in enumerate(printable(text).split("\n")):
        out.extend(_wrap(line, first if i == 0 else rest, rest))
    return out


def _remediation(text: str) -> list[str]:
    if "\n" in text.strip():
        # A script (heredoc, several commands): wrapping would change what gets pasted.
        return [(_ITEM_INDENT + line).rstrip() for line in printable(text.strip()).split("\n")]
    return _wrap(one_line(text), _ITEM_INDENT, _ITEM_INDENT)


def _details(finding: Finding) -> list[str]:
    lines: list[str] = []
    if finding.reason:
        lines.extend(_wrap(one_line(finding.reason), _LABEL_INDENT + "reason: ", _ITEM_INDENT))
    if finding.subjects:
        subjects = "; ".join(one_line(describe_subject(s)) for s in finding.subjects)
        lines.extend(_wrap(subjects, _LABEL_INDENT + "subjects: ", _ITEM_INDENT))
    if finding.evidence:
        lines.append(_LABEL_INDENT + "evidence:")
        for item in finding.evidence:
            lines.extend(_wrap_lines(item, _ITEM_INDENT + "- ", _ITEM_INDENT + "  "))
    if finding.remediation.strip():
        lines.append(_LABEL_INDENT + "fix:")
        lines.extend(_remediation(finding.remediation))
    return lines


def _finding_lines(finding: Finding, id_width: int, paint: Paint) -> list[str]:
    status = finding.status.value.upper()
    severity = finding.severity.value
    check_id = one_line(finding.id)
    status_pad = " " * (_STATUS_WIDTH - len(status))
    severity_pad = " " * (_SEVERITY_WIDTH - len(severity))
    id_pad = " " * (id_width - len(check_id))
    plain_prefix = f"  {status}{status_pad} {severity}{severity_pad} {check_id}{id_pad}  "
    title = _wrap(one_line(finding.title), plain_prefix, " " * len(plain_prefix))
    # Colour after wrapping, so escape codes never count towards the width.
    coloured_prefix = (
        f"  {paint(status, _STATUS_COLOUR[finding.status])}{status_pad} "
        f"{paint(severity, _SEVERITY_COLOUR[finding.severity])}{severity_pad} "
        f"{paint(check_id, _BOLD)}{id_pad}  "
    )
    lines = [coloured_prefix + title[0][len(plain_prefix) :], *title[1:]]
    if finding.status in (Status.FAIL, Status.UNKNOWN):
        lines.extend(_details(finding))
    return lines


def _summary(report: Report, paint: Paint) -> str:
    counts = summary_counts(report)
    parts = [
        paint(f"{counts[s.value]} {s.value}", _STATUS_COLOUR[s])
        if counts[s.value]
        else f"0 {s.value}"
        for s in STATUS_ORDER
    ]
    total = sum(counts.values())
    noun = "check" if total == 1 else "checks"
    return f"{paint('Summary:', _BOLD)} {', '.join(parts)} ({total} {noun})"


def render(report: Report, *, color: bool = False) -> str:
    """The report for a terminal; ANSI colours only when ``color`` is true."""
    paint = _painter(color)
    target = report.target
    lines = _wrap(
        f"{one_line(report.tool.name)} {one_line(report.tool.version)}: IPv6 audit of "
        f"{one_line(target.hostname)} (source: {one_line(target.source)}, "
        f"profile: {one_line(target.profile)})",
        "",
        "  ",
    )
    lines[0] = paint(lines[0], _BOLD)
    id_width = max((len(one_line(f.id)) for f in report.findings), default=0)
    for name, findings in by_family(report.findings):
        lines.append("")
        lines.append(paint(name, _BOLD))
        for finding in findings:
            lines.extend(_finding_lines(finding, id_width, paint))
    if not report.findings:
        lines.extend(["", "No findings."])
    if report.suggestions:
        lines.extend(["", paint("Suggestions:", _BOLD)])
        for suggestion in report.suggestions:
            lines.extend(_wrap(one_line(suggestion), "  - ", "    "))
    lines.extend(["", _summary(report, paint)])
    return "\n".join(lines) + "\n"
