"""nft ruleset *text* as files and lines: includes expanded safely, rules mapped to their lines.

nft itself parses the text (see ``nft_text``); this module only does what nft cannot be asked
to do safely or at all: resolve ``include`` statements without ever reading outside the allowed
directories, and say on which line of which file each rule was written, so traces can name
``file:line``. nft 1.0.6 looks for a relative include in its include path (default ``/etc``),
never beside the including file: v6gap resolves it beside the file, so a ruleset copied off a
host reads the same and never picks up this machine's ``/etc``.
"""

from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass, field
from typing import Generator, Iterator, Optional, Sequence

from v6gap.errors import RulesetError

MAX_TEXT_CHARS = 64 << 20  # expanded text; nft list of 200k rules is ~12 MB
MAX_INCLUDE_DEPTH = 16  # nft's own limit (MAX_INCLUDE_DEPTH in nftables' parser)
MAX_INCLUDED_FILES = 1024
TABLE_FAMILIES = frozenset({"ip", "ip6", "inet", "arp", "bridge", "netdev"})
# Words that start a chain's properties rather than a rule inside a chain block.
_CHAIN_PROPERTIES = frozenset({"type", "policy", "comment", "devices", "device", "flags"})
# Top-level commands after which the order of rules in a chain no longer follows the text.
_REORDERING = frozenset({"insert", "replace", "delete", "destroy", "reset", "rename"})
_BLOCK_OBJECTS = frozenset(
    {"set", "map", "flowtable", "counter", "quota", "ct", "limit", "secmark", "synproxy"}
)
_TOKEN = re.compile(r'"[^"\n]*"|#[^\n]*|\\\n|[{};\n]|[^\s{};"#\\]+|\\|\S', re.ASCII)

ChainKey = tuple[str, str, str]  # family, table, chain


@dataclass(frozen=True)
class Token:
    text: str
    line: int  # 1-based, in the text it was cut from
    start: int
    end: int


@dataclass
class Expanded:
    """One text nft can read from stdin, and where each of its lines came from."""

    text: str
    origins: list[tuple[str, int]] = field(default_factory=list)  # per line: (file, line)

    def where(self, line: int) -> tuple[str, int]:
        """The (file, line) of a 1-based line of the expanded text."""
        if 1 <= line <= len(self.origins):
            return self.origins[line - 1]
        return self.origins[-1] if self.origins else ("?", line)


def tokens(text: str) -> Iterator[Token]:
    """Words, quoted strings, braces, ``;`` and newlines; comments and continuations skipped."""
    line = 1
    for found in _TOKEN.finditer(text):
        word = found.group()
        if word == "\\\n":
            line += 1
            continue
        if not word.startswith("#"):
            yield Token(word, line, found.start(), found.end())
        if word == "\n":
            line += 1


# --------------------------------------------------------------------------- includes


def _within(path: str, roots: Sequence[str]) -> bool:
    real = os.path.realpath(path)
    return any(real == r or real.startswith(r.rstrip("/") + "/") for r in roots)


def read_bounded(path: str, limit: int, what: str = "nft ruleset text") -> str:
    """A ruleset file's text, at most ``limit`` characters (``RulesetError`` beyond)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            text = fh.read(limit + 1)
    except OSError as exc:
        raise RulesetError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(text) > limit:
        raise RulesetError(f"{path}: {what} larger than {limit} characters")
    return text


@dataclass
class _Row:
    text: str
    path: str
    line: int
    closed: bool = False


class _Expander:
    def __init__(self, roots: Sequence[str], image: Optional[str] = None) -> None:
        self.roots = [os.path.realpath(r) for r in roots]
        self.image = image  # absolute include names are the image's, under this directory
        self.rows: list[_Row] = []
        self.files = 0
        self.size = 0

    def emit(self, chunk: str, path: str, first_line: int) -> None:
        for offset, piece in enumerate(chunk.split("\n")):
            if offset == 0 and self.rows and not self.rows[-1].closed:
                self.rows[-1].text += piece
                continue
            self.close_row()
            self.rows.append(_Row(piece, path, first_line + offset))

    def close_row(self) -> None:
        if self.rows:
            self.rows[-1].closed = True

    def matches(self, pattern: str, here: str, line: int) -> list[str]:
        where = f"{here}:{line}"
        if not os.path.isabs(pattern):
            full = os.path.join(os.path.dirname(here), pattern)
        elif self.image is not None:
            full = os.path.join(self.image, pattern.lstrip("/"))
        else:
            full = pattern
        wildcard = any(c in pattern for c in "*?[")
        found = sorted(glob.glob(full)) if wildcard else [full]
        if not wildcard and not os.path.exists(full):
            raise RulesetError(f'{where}: include "{pattern}": no such file')
        for path in found:
            if not _within(path, self.roots):
                allowed = ", ".join(self.roots)
                raise RulesetError(
                    f'{where}: include "{pattern}" reaches {os.path.realpath(path)}, outside '
                    f"{allowed} (allow its directory with --include-dir)"
                )
        return [p for p in found if os.path.isfile(p)]

    def expand(self, path: str, depth: int) -> None:
        if depth > MAX_INCLUDE_DEPTH:
            raise RulesetError(f"{path}: includes nested deeper than {MAX_INCLUDE_DEPTH}")
        self.files += 1
        if self.files > MAX_INCLUDED_FILES:
            raise RulesetError(f"{path}: more than {MAX_INCLUDED_FILES} included files")
        text = read_bounded(path, MAX_TEXT_CHARS - self.size)
        self.size += len(text)
        pos, line = 0, 1
        previous: Optional[Token] = None
        for token in tokens(text):
            if previous is not None and previous.text == "include" and token.text[0] == '"':
                self.emit(text[pos : previous.start], path, line)
                self.close_row()
                for included in self.matches(token.text[1:-1], path, token.line):
                    self.expand(included, depth + 1)
                    self.close_row()
                pos, line = token.end, token.line
            previous = token
        self.emit(text[pos:], path, line)

    def result(self) -> Expanded:
        text = "\n".join(r.text for r in self.rows) + "\n"
        return Expanded(text, [(r.path, r.line) for r in self.rows])


def expand_includes(
    path: str, include_dirs: Sequence[str] = (), image: Optional[str] = None
) -> Expanded:
    """The text of ``path`` with every ``include`` replaced by the files it names.

    Relative names resolve against the including file's directory; every file reached must lie
    inside ``path``'s directory or one of ``include_dirs`` (symlinks resolved), else
    ``RulesetError``. Wildcards expand in sorted order, as nft does. With ``image`` (a mounted
    root), absolute names are the image's own and every file must lie inside it.
    """
    dirs = [image] if image is not None else [os.path.dirname(os.path.abspath(path))]
    expander = _Expander([*dirs, *include_dirs], image)
    expander.expand(path, 0)
    return expander.result()


def refuse_commands(expanded: Expanded) -> None:
    """``RulesetError`` for a command that would make nft wait instead of load (``monitor``)."""
    start = True
    for token in tokens(expanded.text):
        if start and token.text == "monitor":
            path, line = expanded.where(token.line)
            raise RulesetError(f"{path}:{line}: `monitor` is not a ruleset (it never ends)")
        start = token.text in ("\n", ";", "{", "}")


# --------------------------------------------------------------------------- rule lines


Statement = tuple[list[Token], Optional[str]]


def _statements(text: str) -> Generator[Statement, Optional[bool], None]:
    """Statements as token lists, each with how it ended: ``{`` (opens a block), ``}`` or None.

    Braces inside a statement that does not open a block (anonymous sets, verdict maps) are
    part of the statement; the caller says which statements open blocks through ``send``.
    """
    words: list[Token] = []
    depth = 0
    for token in tokens(text):
        t = token.text
        if depth > 0:
            words.append(token)
            depth += {"{": 1, "}": -1}.get(t, 0)
            continue
        if t in ("\n", ";"):
            if words:
                yield words, None
            words = []
        elif t == "}":
            if words:
                yield words, None
            yield [token], "}"
            words = []
        elif t == "{":
            words.append(token)
            opens = yield words, "{"
            if opens:
                words = []
            else:
                depth = 1
        else:
            words.append(token)
    if words:
        yield words, None


def _block_kind(context: tuple[str, ...], words: list[str]) -> tuple[str, tuple[str, ...]]:
    """What a ``{`` at the end of ``words`` opens in ``context``: (kind, names) or ("", ())."""
    if words and words[0] in ("add", "create"):
        words = words[1:]
    if not words:
        return "", ()
    names = [w.strip('"') for w in words[1:-1]]
    if context[0] == "top" and words[0] == "table":
        return "table", tuple(names if names[:1] and names[0] in TABLE_FAMILIES else ["ip", *names])
    if context[0] == "table" and words[0] == "chain" and len(names) == 1:
        return "chain", (*context[1:], names[0])
    if context[0] == "top" and words[0] == "chain":
        full = names if names[:1] and names[0] in TABLE_FAMILIES else ["ip", *names]
        return ("chain", tuple(full)) if len(full) == 3 else ("other", ())
    if context[0] in ("top", "table") and words[0] in _BLOCK_OBJECTS:
        return "other", ()
    return "", ()


def _top_rule(words: list[str]) -> Optional[ChainKey]:
    """The chain of a top-level ``[add] rule [FAMILY] TABLE CHAIN …`` command."""
    if words and words[0] == "add":
        words = words[1:]
    if not words or words[0] != "rule":
        return None
    rest = [w.strip('"') for w in words[1:4]]
    if rest and rest[0] not in TABLE_FAMILIES:
        rest = ["ip", *rest]
    return (rest[0], rest[1], rest[2]) if len(rest) >= 3 else None


def rule_lines(text: str) -> Optional[dict[ChainKey, list[int]]]:
    """The line of each rule, per chain, in the order nft adds them; None when the text
    reorders rules (insert, replace, delete, a position) so that order says nothing."""
    found: dict[ChainKey, list[int]] = {}
    stack: list[tuple[str, ...]] = [("top",)]
    statements = _statements(text)
    reply: Optional[bool] = None
    while True:
        try:
            words, end = statements.send(reply) if reply is not None else next(statements)
        except StopIteration:
            return found
        reply = None
        context = stack[-1]
        plain = [w.text for w in words]
        if end == "}":
            if len(stack) > 1:
                stack.pop()
            continue
        if end == "{" and context[0] != "chain":
            kind, names = _block_kind(context, plain)
            if kind:
                stack.append((kind, *names) if kind != "other" else ("other",))
                reply = True
                if len(names) == 3 and kind == "chain":
                    found.setdefault((names[0], names[1], names[2]), [])
                continue
            reply = False
            continue  # the rest of the statement follows as its own tokens
        if end == "{":
            reply = False  # an anonymous set or map inside a rule: read on to its end
            continue
        if context[0] == "other":
            continue
        if context[0] == "top":
            head = plain[0]
            if head in _REORDERING or (head == "flush" and plain[1:2] != ["ruleset"]):
                return None
            if head == "flush" and any(found.values()):
                return None
            key = _top_rule(plain)
            if key is not None:
                if any(w in ("position", "index", "handle") for w in plain[4:]):
                    return None
                found.setdefault(key, []).append(words[0].line)
        elif context[0] == "chain" and plain[0] not in _CHAIN_PROPERTIES:
            family, table, chain = context[1:4]
            found.setdefault((family, table, chain), []).append(words[0].line)
