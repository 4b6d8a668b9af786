"""``v6gap probe`` refuses what it must not probe before sending anything."""

from __future__ import annotations

from typing import List

import click
import pytest
from click.testing import CliRunner

from v6gap.cli.probe import probe
from v6gap.errors import CollectError, InputError


def invoke(argv: List[str]) -> BaseException:
    result = CliRunner().invoke(probe, argv, standalone_mode=False)
    assert result.exception is not None, result.output
    return result.exception


@pytest.mark.parametrize(
    ("argv", "kind", "words"),
    [
        (["192.0.2.0/24"], InputError, "never probed"),
        (["2001:db8::1", "--ports", "2000-1000"], InputError, "backwards"),
        (["2001:db8::1", "--top", "70000"], InputError, "--top 70000"),
        (["2001:db8::1", "--top", "0"], InputError, "--top 0"),
        (["2001:db8::1", "--ports", "22", "--all"], click.UsageError, "one of --ports"),
        (["2001:db8::1", "--from-netns", "v6g-nope-0", "--ports", "22"], CollectError, "no such"),
    ],
)
def test_refusals_are_one_line_errors(argv: List[str], kind: type, words: str) -> None:
    exc = invoke(argv)
    assert isinstance(exc, kind)
    assert words in str(exc) and "\n" not in str(exc)


def test_a_target_is_required() -> None:
    assert isinstance(invoke([]), click.UsageError)
