"""shell_assignments: the sh subset of /etc/default/grub and /etc/default/ufw."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from v6gap.collect.files import shell_assignments, ufw_enabled


def values(text: str, env: dict[str, str] | None = None) -> dict[str, str]:
    return {name: value for name, value, _ in shell_assignments(text, env or {})}


def test_quotes_and_expansions() -> None:
    text = (
        "A=plain\n"
        "B='single $A'\n"
        'C="double $A ${A} \\$A"\n'
        'D="${MISSING:-fallback} ${A:-unused}"\n'
        "E=$A-suffix\n"
        "F=esc\\ aped\n"
    )
    assert values(text) == {
        "A": "plain",
        "B": "single $A",
        "C": "double plain plain $A",
        "D": "fallback plain",
        "E": "plain-suffix",
        "F": "esc aped",
    }


def test_self_expansion_uses_the_earlier_value() -> None:
    text = 'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX ipv6.disable=1"\n'
    got = shell_assignments(text, {"GRUB_CMDLINE_LINUX": "quiet"})
    assert got == [("GRUB_CMDLINE_LINUX", "quiet ipv6.disable=1", 1)]


def test_line_numbers_comments_and_export() -> None:
    text = '# comment A=1\n\nexport B=2 C=3\nD=4 # trailing comment; E=5\nF="two\nlines"; G=6\n'
    assert shell_assignments(text, {}) == [
        ("B", "2", 3),
        ("C", "3", 3),
        ("D", "4", 4),
        ("F", "two\nlines", 5),
        ("G", "6", 6),
    ]


def test_commands_are_skipped_not_run() -> None:
    text = (
        "GRUB_DISTRIBUTOR=\"$(sed 's, release .*$,,g' /etc/system-release)\"\n"
        "GRUB_DISTRIBUTOR2=`lsb_release -i -s 2> /dev/null || echo Debian`\n"
        "echo X=1\n"
        "if [ -x /bin/true ]; then Y=2; fi\n"
    )
    got = values(text)
    assert got["GRUB_DISTRIBUTOR"] == "$(sed 's, release .*$,,g' /etc/system-release)"
    assert got["GRUB_DISTRIBUTOR2"].startswith("`lsb_release")
    assert "X" not in got
    assert got["Y"] == "2"  # conditional assignments are taken as made


def test_unterminated_constructs_consume_the_rest() -> None:
    assert values("A='open\nB=2\n") == {"A": "open\nB=2\n"}
    assert values('A="open\nB=2') == {"A": "open\nB=2"}
    assert values("A=$(open\nB=2") == {"A": "$(open\nB=2"}
    assert values("A=${open") == {"A": "${open"}


@given(st.text())
def test_never_raises(text: str) -> None:
    for name, value, line in shell_assignments(text, {"X": "y"}):
        assert name and isinstance(value, str) and line >= 1


@given(st.text(alphabet="A=$\"'`\\{}()#;| \n\tx-:", max_size=200))
def test_never_raises_on_shell_punctuation(text: str) -> None:
    shell_assignments(text, {})


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("ENABLED=yes\n", 1),
        ("# ufw\nENABLED=YES\n", 2),  # ufw-init-functions tests "yes" or "YES"
        ('ENABLED="yes"\n', 1),
        ("ENABLED=no\n", None),
        ("ENABLED=Yes\n", None),  # not what ufw-init accepts
        ("ENABLED=yes\nENABLED=no\n", None),  # the last assignment holds
        ("ENABLED=no\nENABLED=yes\n", 2),
        ("LOGLEVEL=low\n", None),
    ],
)
def test_ufw_enabled_is_ufw_inits_own_test(text: str, line: object) -> None:
    assert ufw_enabled(shell_assignments(text, {})) == line
