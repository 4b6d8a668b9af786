"""The dispatcher: one module per format, loaded only when asked for; colour only in text."""

from __future__ import annotations

import subprocess
import sys

import pytest

from v6gap.report import OutputFormat, _assert_never, render

from ._sample import mixed_report


def test_output_formats_are_the_cli_names() -> None:
    assert [f.value for f in OutputFormat] == ["text", "json", "sarif", "junit"]
    assert OutputFormat("sarif") is OutputFormat.SARIF


@pytest.mark.parametrize("fmt", list(OutputFormat), ids=lambda f: f.value)
def test_rendering_is_deterministic(fmt: OutputFormat) -> None:
    assert render(mixed_report(), fmt) == render(mixed_report(), fmt)


@pytest.mark.parametrize("fmt", list(OutputFormat), ids=lambda f: f.value)
def test_every_output_ends_with_one_newline_and_encodes_as_utf8(fmt: OutputFormat) -> None:
    out = render(mixed_report(), fmt)
    assert out.endswith("\n") and not out.endswith("\n\n")
    out.encode("utf-8")  # no lone surrogate from undecodable host bytes


@pytest.mark.parametrize("fmt", list(OutputFormat), ids=lambda f: f.value)
def test_no_escape_code_without_colour(fmt: OutputFormat) -> None:
    # The sample's evidence carries "\x1b[2J" from the host: it must come out inert too.
    assert "\x1b" not in render(mixed_report(), fmt, color=False)


def test_colour_only_in_text_and_only_when_asked() -> None:
    report = mixed_report()
    coloured = render(report, OutputFormat.TEXT, color=True)
    assert "\x1b[1;31mFAIL\x1b[0m" in coloured
    assert "\x1b[0m" in coloured
    for fmt in (OutputFormat.JSON, OutputFormat.SARIF, OutputFormat.JUNIT):
        assert render(report, fmt, color=True) == render(report, fmt, color=False)


def test_colour_changes_nothing_but_the_escape_codes() -> None:
    import re

    report = mixed_report()
    coloured = render(report, OutputFormat.TEXT, color=True)
    plain = render(report, OutputFormat.TEXT, color=False)
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == plain


def test_plain_format_names_are_accepted_and_unknown_ones_refused() -> None:
    report = mixed_report()
    assert render(report, "json") == render(report, OutputFormat.JSON)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="html"):
        render(report, "html")  # type: ignore[arg-type]


def test_assert_never_refuses_an_unknown_format() -> None:
    with pytest.raises(AssertionError, match="unhandled output format"):
        _assert_never("html")  # type: ignore[arg-type]


def test_importing_the_package_loads_no_format_module() -> None:
    code = (
        "import sys, v6gap.report\n"
        "print(sorted(m for m in sys.modules if m.startswith('v6gap.report.')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
