"""``v6gap audit --probe-from-netns``: wrong combinations are refused before anything is sent."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.cli.test_cli import ROOTS, run


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--probe-ports", "22"], "--probe-ports only goes with --probe-from-netns"),
        (["--root", str(ROOTS / "debian-12"), "--probe-from-netns", "x"], "not with --snapshot"),
        (["--snapshot", "s.json", "--probe-from-netns", "x"], "not with --snapshot or --root"),
        (["--probe-from-netns", "x", "--probe-ports", "9-1"], "runs backwards"),
        (["--probe-from-netns", "v6g-nope-0"], "--probe-from-netns v6g-nope-0: no such network"),
        (["--netns", "v6g-a-0", "--probe-from-netns", "v6g-a-0"], "must be another namespace"),
    ],
)
def test_refusals_are_one_line_exit_2(capsys: Any, argv: list[str], message: str) -> None:
    code, out, err = run(capsys, "audit", *argv)
    assert (code, out) == (2, ""), err
    assert err.count("\n") == 1 and message in err, err
