"""The sysctl.d line syntax and key forms, as systemd-sysctl reads them (sysctl.d(5)).

Keys are kept in systemd's normalised *slash* form (``net/ipv6/conf/eth0.1/accept_ra``): the form
that cannot confuse a dot inside an interface name with a separator. ``dotted`` gives the
sysctl(8) spelling (``net.ipv6.conf.eth0/1.accept_ra``) for messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import List, Optional, Tuple

GLOB_CHARS = "*?["
_MAX_BRACE_EXPANSION = 256
_CONF_KEY = re.compile(r"^net\.(ipv[46])\.(conf|neigh)\.(.+)\.([^./]+)$")


@dataclass(frozen=True)
class SysctlLine:
    """One assignment (or ``-key`` exclusion) line of a sysctl.d file."""

    key: str  # normalised slash form
    value: Optional[str]  # None: a ``-key`` line that only excludes the key from globs
    line: int
    text: str  # the line as written, stripped
    ignore_failure: bool  # a leading ``-``: a failed write is not an error


def parse_sysctl_text(text: str) -> List[SysctlLine]:
    """The assignment lines of a sysctl.d file, in order; comments and junk are skipped.

    As systemd: lines are stripped; empty ones and those starting with ``#`` or ``;`` are
    comments; ``-`` before the key makes a failed write harmless; ``-key`` without ``=`` only
    excludes the key from glob matches; a line without ``=`` is otherwise ignored.
    """
    out: List[SysctlLine] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped[0] in "#;":
            continue
        ignore_failure = stripped.startswith("-")
        body = stripped[1:] if ignore_failure else stripped
        key, eq, value = body.partition("=")
        if not eq and not ignore_failure:
            continue  # "Line is not an assignment, ignoring"
        normalised = normalize_key(key.strip())
        if not normalised:
            continue
        out.append(
            SysctlLine(
                key=normalised,
                value=value.strip() if eq else None,
                line=number,
                text=stripped,
                ignore_failure=ignore_failure,
            )
        )
    return out


def normalize_key(key: str) -> str:
    """systemd's ``sysctl_normalize``: if the first separator is ``.``, dots and slashes swap."""
    for index, char in enumerate(key):
        if char == "/":
            break
        if char == ".":
            key = key[:index] + key[index:].translate(_SWAP)
            break
    return "/".join(part for part in key.split("/") if part not in ("", "."))


_SWAP = str.maketrans("./", "/.")


def dotted(slash_key: str) -> str:
    """sysctl(8) spelling: ``net/ipv6/conf/eth0.1/x`` -> ``net.ipv6.conf.eth0/1.x``."""
    return slash_key.translate(_SWAP)


def to_slash_key(key: str) -> str:
    """Any spelling of a concrete key -> slash form, for lookups.

    Besides systemd's rules, a dotted ``net.ipv6.conf.<if>.<param>`` whose interface name holds
    dots (``eth0.100``, as the snapshot writes it) keeps them: parameter names never do.
    """
    if "/" in key.split(".", 1)[0] or key.startswith("/"):
        return normalize_key(key)
    match = _CONF_KEY.match(key)
    if match:
        family, kind, iface, param = match.groups()
        return f"net/{family}/{kind}/{iface.replace('/', '.')}/{param}"
    return normalize_key(key)


def is_glob(slash_key: str) -> bool:
    """systemd's ``string_is_glob``: only ``*``, ``?`` and ``[`` make a key a pattern."""
    return any(char in slash_key for char in GLOB_CHARS)


def glob_matches(pattern: str, slash_key: str) -> bool:
    """Whether glob(3) with GLOB_BRACE over /proc/sys would list ``slash_key`` for ``pattern``.

    Component by component: ``*`` never crosses a ``/`` and never matches a leading dot.
    """
    names = slash_key.split("/")
    for alternative in expand_braces(pattern):
        parts = alternative.split("/")
        if len(parts) == len(names) and all(
            _component_matches(part, name) for part, name in zip(parts, names)
        ):
            return True
    return False


def _component_matches(part: str, name: str) -> bool:
    if name.startswith(".") and not part.startswith("."):
        return False
    return fnmatchcase(name, part)


def expand_braces(pattern: str) -> List[str]:
    """GLOB_BRACE expansion (``a{b,c}d`` -> ``abd``, ``acd``), bounded in size."""
    results = [pattern]
    done: List[str] = []
    while results:
        current = results.pop()
        split = _first_brace(current)
        if split is None:
            done.append(current)
        else:
            head, options, tail = split
            results.extend(head + option + tail for option in options)
        if len(done) + len(results) > _MAX_BRACE_EXPANSION:
            return done + results
    return done


def _first_brace(pattern: str) -> Optional[Tuple[str, List[str], str]]:
    start = pattern.find("{")
    while start >= 0:
        depth, commas, index = 0, [], start
        for index in range(start, len(pattern)):
            char = pattern[index]
            if char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
                if depth == 0:
                    break
            elif char == "," and depth == 1:
                commas.append(index)
        else:
            return None  # unbalanced: taken literally
        if commas:
            bounds = [start, *commas, index]
            options = [pattern[a + 1 : b] for a, b in zip(bounds, bounds[1:])]
            return pattern[:start], options, pattern[index + 1 :]
        start = pattern.find("{", start + 1)  # "{x}" without a comma stays literal
    return None
