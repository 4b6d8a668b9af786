"""Every format compared byte for byte with its golden file (V6GAP_UPDATE_GOLDEN=1 rewrites)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from v6gap.model import Report
from v6gap.report import OutputFormat, render

from ._helpers import UPDATE_ENV, assert_golden
from ._sample import clean_report, mixed_report

SCENARIOS: dict[str, Callable[[], Report]] = {"mixed": mixed_report, "clean": clean_report}
EXTENSIONS = {
    OutputFormat.TEXT: "txt",
    OutputFormat.JSON: "json",
    OutputFormat.SARIF: "sarif",
    OutputFormat.JUNIT: "junit.xml",
}


@pytest.mark.parametrize("fmt", list(OutputFormat), ids=lambda f: f.value)
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_output_matches_golden_file(scenario: str, fmt: OutputFormat) -> None:
    assert_golden(f"{scenario}.{EXTENSIONS[fmt]}", render(SCENARIOS[scenario](), fmt))


def test_every_format_has_a_golden_extension() -> None:
    assert set(EXTENSIONS) == set(OutputFormat)


def test_golden_files_are_rewritten_only_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    golden = tmp_path / "x.txt"
    golden.write_text("old\n", encoding="utf-8")
    monkeypatch.delenv(UPDATE_ENV, raising=False)
    with pytest.raises(AssertionError):
        assert_golden("x.txt", "new\n", directory=tmp_path)
    assert golden.read_text(encoding="utf-8") == "old\n"

    monkeypatch.setenv(UPDATE_ENV, "1")
    assert_golden("x.txt", "new\n", directory=tmp_path)
    assert golden.read_text(encoding="utf-8") == "new\n"


def test_a_missing_golden_file_fails_with_the_way_to_create_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(UPDATE_ENV, raising=False)
    with pytest.raises(AssertionError, match=UPDATE_ENV):
        assert_golden("absent.txt", "x", directory=tmp_path)
    assert not (tmp_path / "absent.txt").exists()
