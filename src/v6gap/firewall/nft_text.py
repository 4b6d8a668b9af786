"""Read an nft ruleset *text* file (what ``nft -f`` loads) into the ruleset model.

nftables 1.0.6 cannot print a file's ruleset as JSON without loading it (``nft -j -c -f`` checks
and prints nothing), so the text is loaded by nft itself into a private, throw-away network
namespace: a forked child unshare(2)s a new one (inside a new user namespace when not root),
loads the text with ``nft -f``, prints ``nft -j list ruleset`` and exits, which destroys the
namespace and its ruleset. The host's own ruleset is never touched. nft's own parser decides
what the text means; v6gap only expands includes safely and maps rules back to their lines.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import dataclasses
import os
import re
import select
import signal
import subprocess
import time
from typing import Optional, Sequence

from v6gap.errors import RulesetError
from v6gap.firewall._nft_source import (
    ChainKey,
    Expanded,
    expand_includes,
    refuse_commands,
    rule_lines,
)
from v6gap.firewall.model import Chain, Origin, Rule, Rules, Ruleset, Table
from v6gap.firewall.nft import MAX_JSON_CHARS, read_nft

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
LOAD_TIMEOUT = 120.0  # nft -c -f on 200k rules took 8.7 s here
LIST_TIMEOUT = 180.0  # as the collector's nft -j
_ERROR_AT = re.compile(r"^/dev/stdin:(\d+):([\d-]+): (Error: .*)$", re.MULTILINE)


def looks_like_json(text: str) -> bool:
    """Whether ``text`` is JSON (``nft -j`` output) rather than nft ruleset text."""
    return text.lstrip()[:1] == "{"


def _unshare_network() -> None:
    """Move this (single-threaded, forked) process into a new network namespace."""
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    if libc.unshare(CLONE_NEWNET) == 0:
        return
    if ctypes.get_errno() != 1:  # anything but EPERM: no retry can help
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    # Not root: a user namespace grants CAP_NET_ADMIN over a network namespace it owns; nft
    # keeps its capabilities across exec only when it runs as uid 0 there.
    uid, gid = os.getuid(), os.getgid()
    if libc.unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"no private network namespace ({os.strerror(err)}; run as root)")
    for name, text in (("setgroups", "deny"), ("uid_map", f"0 {uid} 1"), ("gid_map", f"0 {gid} 1")):
        with open(f"/proc/self/{name}", "w") as fh:
            fh.write(text)


def _child(text: str, out: int) -> int:
    """In the forked child: load, list, write ``J<json>`` or ``E<message>`` to ``out``."""
    try:
        _unshare_network()
        load = subprocess.run(
            ["nft", "-f", "/dev/stdin"],
            input=text,
            capture_output=True,
            text=True,
            timeout=LOAD_TIMEOUT,
        )
        if load.returncode != 0:
            reply = "E" + (load.stderr or f"nft -f exited with status {load.returncode}")
        else:
            listed = subprocess.run(
                ["nft", "-j", "list", "ruleset"],
                capture_output=True,
                text=True,
                timeout=LIST_TIMEOUT,
            )
            ok = listed.returncode == 0
            reply = ("J" + listed.stdout) if ok else ("E" + listed.stderr)
    except FileNotFoundError:
        reply = "Enft is not installed (reading ruleset text needs it)"
    except subprocess.TimeoutExpired as exc:
        reply = f"Enft did not finish within {exc.timeout:.0f} s"
    except OSError as exc:
        reply = f"E{exc.strerror or exc}"
    data = memoryview(reply.encode("utf-8", "replace"))
    while data:
        data = data[os.write(out, data) :]
    return 0


def _read_reply(fd: int, pid: int) -> bytes:
    """The child's reply, bounded in size and time; the child is killed when it overruns."""
    deadline = time.monotonic() + LOAD_TIMEOUT + LIST_TIMEOUT + 10
    chunks: list[bytes] = []
    size = 0
    try:
        while True:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([fd], [], [], max(left, 0))
            if not ready:
                raise RulesetError("nft did not finish loading the ruleset text in time")
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > MAX_JSON_CHARS + 1:
                raise RulesetError(f"nft JSON larger than {MAX_JSON_CHARS} characters")
            chunks.append(chunk)
    except RulesetError:
        os.kill(pid, signal.SIGKILL)
        raise


def _nft_message(stderr: str, expanded: Expanded) -> str:
    """nft's first error as one line, placed at the file and line it names."""
    found = _ERROR_AT.search(stderr)
    if found is None:  # not nft's parser: no line to point at, name the file
        lines = [line for line in stderr.splitlines() if line.strip()]
        return f"{expanded.where(1)[0]}: {lines[0] if lines else 'nft refused the ruleset'}"
    path, line = expanded.where(int(found.group(1)))
    return f"{path}:{line}: {found.group(3)}"


def load_privately(expanded: Expanded) -> str:
    """``nft -j list ruleset`` of ``expanded`` loaded into a throw-away network namespace."""
    refuse_commands(expanded)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child's coverage is not collected
        status = 1
        try:
            os.close(read_end)
            status = _child(expanded.text, write_end)
        finally:
            os._exit(status)
    os.close(write_end)
    try:
        reply = _read_reply(read_end, pid)
    finally:
        os.close(read_end)
        os.waitpid(pid, 0)
    text = reply.decode("utf-8", "replace")
    if text.startswith("J"):
        return text[1:]
    raise RulesetError(_nft_message(text[1:], expanded))


def _place(
    table: Table, lines: dict[ChainKey, list[int]], expanded: Expanded
) -> tuple[Table, list[str]]:
    """The table with each rule's origin at its file and line, where the count agrees."""
    chains: list[Chain] = []
    notes: list[str] = []
    for chain in table.chains:
        found = lines.get((table.family, table.name, chain.name), [])
        if len(found) != len(chain.rules):
            if chain.rules:
                notes.append(
                    f"{table.family} {table.name} chain {chain.name}: rules not matched to "
                    "lines; traces name handles"
                )
            chains.append(chain)
            continue
        chains.append(dataclasses.replace(chain, rules=_placed(chain, found, expanded)))
    return dataclasses.replace(table, chains=tuple(chains)), notes


def _placed(chain: Chain, lines: list[int], expanded: Expanded) -> Rules:
    """The chain's rules with their file and line, built when first read (model.Rules)."""

    def build() -> tuple[Rule, ...]:
        placed = []
        for rule, line in zip(chain.rules, lines):
            path, number = expanded.where(line)
            origin = Origin(path, f"line {number}: {rule.origin.ref}")
            placed.append(dataclasses.replace(rule, origin=origin))
        return tuple(placed)

    return Rules(len(lines), build)


def text_to_json(path: str, include_dirs: Sequence[str] = (), image: Optional[str] = None) -> str:
    """``nft -j list ruleset`` of the ruleset text in ``path``, loaded only privately.

    ``image``: ``path`` belongs to the mounted root there; its absolute includes are the image's.
    """
    return files_to_json([path], include_dirs, image)


def files_to_json(
    paths: Sequence[str], include_dirs: Sequence[str] = (), image: Optional[str] = None
) -> str:
    """``nft -j list ruleset`` after loading ``paths`` one after the other (as boot does)."""
    parts = [expand_includes(p, include_dirs, image) for p in paths]
    text = "".join(p.text for p in parts)
    return load_privately(Expanded(text, [o for p in parts for o in p.origins]))


def read_nft_text(path: str, include_dirs: Sequence[str] = ()) -> Ruleset:
    """The ruleset an nft text file describes, each rule traced to its file and line."""
    expanded = expand_includes(path, include_dirs)
    ruleset = read_nft(load_privately(expanded), source=path)
    lines: Optional[dict[ChainKey, list[int]]] = rule_lines(expanded.text)
    if lines is None:
        note = f"{path}: the text inserts, replaces or deletes rules; traces name handles"
        return Ruleset(ruleset.tables, (*ruleset.notes, note))
    tables: list[Table] = []
    notes = list(ruleset.notes)
    for table in ruleset.tables:
        placed, missed = _place(table, lines, expanded)
        tables.append(placed)
        notes.extend(f"{path}: {m}" for m in missed)
    return Ruleset(tuple(tables), tuple(notes))
