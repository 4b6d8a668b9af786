"""What several reporters share: ordering, subject wording, and making untrusted text safe.

Evidence, hostnames and process names come from the audited host, so they may hold terminal
escape sequences, bidi controls or undecodable bytes (surrogate escapes); each format makes them
visible instead of passing them on.
"""

from __future__ import annotations

import json
import re
from typing import Any, Union

from v6gap.model import Finding, Report, Status, Subject

STATUS_ORDER: tuple[Status, ...] = (
    Status.FAIL,
    Status.UNKNOWN,
    Status.INFO,
    Status.PASS,
    Status.SKIP,
)
FAMILY_ORDER: tuple[str, ...] = ("STATE", "NDP", "TUN", "FW", "EXP")
OTHER_FAMILY = "OTHER"

# C0 (but tab and newline), DEL, C1, zero-width and bidi controls, BOM, non-characters, surrogates.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2069"
    "\ufeff\ufffe\uffff\ud800-\udfff]"
)
_SURROGATE = re.compile("[\ud800-\udfff]")


def family(check_id: str) -> str:
    """``V6G-NDP-01`` -> ``NDP``; ids of another shape fall in ``OTHER``."""
    parts = check_id.split("-")
    if len(parts) >= 3 and parts[0] == "V6G" and parts[1]:
        return parts[1]
    return OTHER_FAMILY


def family_rank(name: str) -> tuple[int, str]:
    """Sort key: the catalogue's families first, in its order, then the others by name."""
    if name in FAMILY_ORDER:
        return (FAMILY_ORDER.index(name), "")
    return (len(FAMILY_ORDER), name)


def by_family(findings: tuple[Finding, ...]) -> list[tuple[str, list[Finding]]]:
    """Findings grouped by family; inside a group fail, unknown, info, pass, skip, worst first."""
    groups: dict[str, list[Finding]] = {}
    for f in findings:
        groups.setdefault(family(f.id), []).append(f)
    ordered = sorted(groups.items(), key=lambda item: family_rank(item[0]))
    # sorted() is stable, so findings of equal status and severity keep the catalogue order.
    return [
        (name, sorted(group, key=lambda f: (STATUS_ORDER.index(f.status), -f.severity.rank)))
        for name, group in ordered
    ]


def summary_counts(report: Report) -> dict[str, int]:
    """The five statuses in the contract's order, zero where the report has none."""
    return {s.value: int(report.summary.get(s.value, 0)) for s in Status}


def subject_fields(subject: Subject) -> dict[str, Union[str, int]]:
    """The subject's set fields, in the model's order."""
    fields: dict[str, Union[str, int]] = {"kind": subject.kind}
    optional: tuple[tuple[str, Union[str, int, None]], ...] = (
        ("name", subject.name),
        ("family", subject.family),
        ("proto", subject.proto),
        ("port", subject.port),
        ("address", subject.address),
        ("process", subject.process),
        ("value", subject.value),
    )
    for key, value in optional:
        if value is not None:
            fields[key] = value
    return fields


def describe_subject(subject: Subject) -> str:
    """One phrase: ``port tcp/8080 ipv6 [2001:db8::1] (python3)``, ``interface eth0``."""
    parts: list[str] = [subject.kind]
    if subject.name is not None:
        parts.append(subject.name)
    if subject.proto is not None and subject.port is not None:
        parts.append(f"{subject.proto}/{subject.port}")
    elif subject.proto is not None:
        parts.append(subject.proto)
    elif subject.port is not None:
        parts.append(f"port {subject.port}")
    if subject.family is not None:
        parts.append(subject.family)
    if subject.address is not None:
        parts.append(f"[{subject.address}]" if ":" in subject.address else subject.address)
    if subject.process is not None:
        parts.append(f"({subject.process})")
    if subject.value is not None:
        parts.append(f"= {subject.value}")
    return " ".join(parts)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # a byte that did not decode (surrogateescape): show the byte
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def printable(text: str, *, tab: str = " ") -> str:
    """``text`` with every control, bidi or unencodable character shown as an escape.

    Newlines are kept (callers split on them); tabs become ``tab``.
    """
    if "\t" in text:
        text = text.replace("\t", tab)
    return _UNSAFE.sub(_escape, text)


def one_line(text: str) -> str:
    """``printable`` text with every run of whitespace, newlines included, as one space."""
    return " ".join(printable(text).split())


def dump_json(document: Any) -> str:
    """Deterministic JSON: 2-space indent, UTF-8 characters kept, a final newline.

    A lone surrogate (an undecodable byte) cannot be encoded as UTF-8, so it is written as the
    escape text ``\\xNN`` inside its string rather than making the output unwritable.
    """
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if _SURROGATE.search(text):
        # Surrogates only occur inside JSON strings, where "\\" is an escaped backslash.
        text = _SURROGATE.sub(lambda m: "\\" + _escape(m), text)
    return text
