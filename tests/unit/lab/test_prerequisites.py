"""Without root the lab refuses with one line, creates nothing, and lab tests fail (not skip)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from v6gap.errors import LabError
from v6gap.lab import Lab, scenarios
from v6gap.lab.pytest_plugin import check_lab_prerequisites


def test_not_root_is_a_lab_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    lab = Lab(scenarios.pair(), state_dir=str(tmp_path))
    with pytest.raises(LabError, match="needs root"):
        lab.up()
    assert list(tmp_path.iterdir()) == []


def test_missing_ip_is_a_lab_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(LabError, match="install iproute2"):
        Lab(scenarios.pair(), state_dir=str(tmp_path)).up()


def test_lab_tests_fail_loudly_without_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(pytest.fail.Exception, match="need root"):
        check_lab_prerequisites()


def test_lab_tests_fail_loudly_without_tools(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(shutil, "which", lambda name: None if name == "ping" else "/bin/x")
    with pytest.raises(pytest.fail.Exception, match="ping"):
        check_lab_prerequisites()
