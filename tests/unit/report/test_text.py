"""The terminal report: grouping, order, details, wrapping, safety."""

from __future__ import annotations

import re

from v6gap.model import Severity, Status, Subject
from v6gap.report.text import WIDTH, render

from ._sample import clean_report, make_finding, make_report, mixed_report

_ROW = re.compile(r"^  (FAIL|UNKNOWN|INFO|PASS|SKIP) +(\w+) +(V6G-\S+)  ")


def _rows(text: str) -> list[tuple[str, str, str]]:
    return [m.groups() for m in map(_ROW.match, text.splitlines()) if m]  # type: ignore[misc]


def test_header_names_the_target() -> None:
    first = render(mixed_report()).splitlines()[0]
    assert first == (
        "v6gap 0.1.0-test: IPv6 audit of web-01.example.org (source: live, profile: server)"
    )


def test_families_in_catalogue_order_then_others_by_name() -> None:
    headers = [
        line for line in render(mixed_report()).splitlines() if re.fullmatch(r"[A-Z0-9]+", line)
    ]
    assert headers == ["STATE", "NDP", "TUN", "FW", "EXP", "K8S", "L2"]


def test_worst_first_inside_a_family() -> None:
    findings = (
        make_finding("V6G-NDP-02", Status.PASS, Severity.HIGH),
        make_finding("V6G-NDP-03", Status.SKIP, Severity.HIGH),
        make_finding("V6G-NDP-04", Status.FAIL, Severity.MEDIUM, reason="on"),
        make_finding("V6G-NDP-05", Status.INFO, Severity.INFO),
        make_finding("V6G-NDP-06", Status.UNKNOWN, Severity.HIGH, reason="not root"),
        make_finding("V6G-NDP-01", Status.FAIL, Severity.HIGH, reason="on"),
        make_finding("V6G-NDP-07", Status.FAIL, Severity.LOW, reason="on"),
    )
    ids = [row[2] for row in _rows(render(make_report(findings)))]
    assert ids == [
        "V6G-NDP-01",
        "V6G-NDP-04",
        "V6G-NDP-07",
        "V6G-NDP-06",
        "V6G-NDP-05",
        "V6G-NDP-02",
        "V6G-NDP-03",
    ]


def test_details_only_under_failures_and_unknowns() -> None:
    text = render(mixed_report())
    assert "reason: accept_ra is effective on eth0 and default" in text
    assert "reason: sysctl: permission denied" in text  # unknown says why
    assert "does not apply to profile server" not in text  # skip: one line
    assert "IPv6 is on: 2 addresses" not in text  # info: one line
    assert "accept_redirects is 0 everywhere" not in text  # pass: one line


def test_failure_shows_subjects_evidence_and_fix() -> None:
    lines = render(mixed_report()).splitlines()
    start = next(i for i, line in enumerate(lines) if "V6G-FW-03" in line)
    block = lines[start : start + 9]
    assert block[1] == "      reason: 2 ports are open over IPv6 and closed over IPv4"
    assert (
        block[2]
        == "      subjects: port tcp/8080 ipv6 (python3); port udp/5353 ipv6 (avahi-daemon)"
    )
    assert block[3] == "      evidence:"
    assert (
        block[4]
        == "        - ip6 filter input: tcp dport 8080 accept comment \"dev <lab> & 'test'\""
    )
    assert block[7] == "      fix:"


def test_scripts_in_remediation_are_printed_as_written() -> None:
    text = render(mixed_report())
    assert "\n        cat <<'EOF' | sudo tee /etc/sysctl.d/60-v6gap-ndp.conf\n" in text
    assert "\n            type filter hook input priority 0; policy drop;\n" in text


def test_lines_fit_the_width_when_the_text_can_break() -> None:
    for line in render(mixed_report()).splitlines():
        assert len(line) <= WIDTH, line


def test_long_evidence_wraps_under_its_bullet() -> None:
    lines = render(mixed_report()).splitlines()
    i = lines.index(
        "        - net.ipv6.conf.eth0.autoconf = 1, net.ipv6.conf.eth0.accept_ra_defrtr = 1,"
    )
    assert lines[i + 1].startswith("          net.ipv6.conf.eth0.accept_ra_pinfo = 1")


def test_host_controls_are_shown_not_obeyed() -> None:
    text = render(mixed_report())
    assert "\\x1b[2J\\x1b[31mspoofed\\x1b[0m" in text
    assert "caf\u00e9\\u202etxt.exe" in text  # a bidi override cannot reorder the line
    assert "\\x00" in text and "\\xff" in text and "\\x0d" in text
    assert "\x00" not in text and "\u202e" not in text


def test_hostile_hostname_and_subject() -> None:
    finding = make_finding(
        "V6G-EXP-02",
        Status.FAIL,
        Severity.MEDIUM,
        reason="open",
        subjects=(Subject(kind="port", process="evil\x1b]0;pwned\x07"),),
    )
    text = render(make_report((finding,), hostname="host\x1b[2J"))
    assert "\x1b" not in text and "\x07" not in text
    assert "host\\x1b[2J" in text and "evil\\x1b]0;pwned\\x07" in text


def test_suggestions_and_summary() -> None:
    lines = render(mixed_report()).splitlines()
    assert "Suggestions:" in lines
    assert lines[-1] == "Summary: 7 fail, 2 unknown, 2 info, 3 pass, 2 skip (16 checks)"


def test_clean_report_has_no_details() -> None:
    text = render(clean_report())
    assert "reason:" not in text and "Suggestions:" not in text
    assert text.endswith("Summary: 0 fail, 0 unknown, 1 info, 2 pass, 1 skip (4 checks)\n")


def test_empty_report() -> None:
    text = render(make_report((), hostname="h"))
    assert "No findings." in text
    assert text.endswith("Summary: 0 fail, 0 unknown, 0 info, 0 pass, 0 skip (0 checks)\n")
