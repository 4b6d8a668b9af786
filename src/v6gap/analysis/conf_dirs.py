"""Which drop-in files a ``*.d`` search path really applies: same-name overrides and masking.

systemd (sysctl.d(5)) and kmod (modprobe.d(5)) share the rule: every directory is listed, a file
name found in an earlier (higher-precedence) directory hides the same name in later ones, and the
surviving files are read in lexical order of their names, whatever their directory. An empty file
or a symlink to /dev/null therefore hides a vendor file completely.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from v6gap.model import FileFact, Snapshot

APPLIED = "applied"
MASKED = "masked"  # an empty file or a link to /dev/null: applies nothing, hides lower files
OVERRIDDEN = "overridden"  # hidden by a same-named file in a higher-precedence directory
UNREADABLE = "unreadable"
NOT_APPLIED = "not-applied"  # present, but the tool in question never reads it

_MAX_LINK_HOPS = 8


@dataclass(frozen=True)
class ConfFile:
    """One configuration file and what became of it."""

    path: str  # the entry as listed (``/etc/sysctl.d/99-sysctl.conf``)
    status: str  # APPLIED, MASKED, OVERRIDDEN, UNREADABLE or NOT_APPLIED
    detail: str = ""  # why: "overridden by …", "link to /dev/null", "empty file", the error
    real_path: str = ""  # where its text lives once symlinks are followed (== path if none)
    text: Optional[str] = None  # contents, for APPLIED files

    @property
    def masked_by(self) -> Optional[str]:
        """The higher-precedence entry that hides this one (None unless OVERRIDDEN)."""
        if self.status != OVERRIDDEN:
            return None
        return self.detail.split(" by ", 1)[-1]

    @property
    def applied(self) -> bool:
        """Whether its lines take effect."""
        return self.status == APPLIED

    def describe(self) -> str:
        """``/etc/sysctl.d/50-x.conf: masked (link to /dev/null)`` style evidence."""
        via = f" -> {self.real_path}" if self.real_path and self.real_path != self.path else ""
        detail = f" ({self.detail})" if self.detail else ""
        return f"{self.path}{via}: {self.status}{detail}"


def resolve_link(path: str, files: Dict[str, FileFact]) -> str:
    """Where ``path`` ends up after following the symlinks recorded in ``files``, lexically."""
    current = path
    for _ in range(_MAX_LINK_HOPS):
        fact = files.get(current)
        if fact is None or fact.link is None:
            return current
        base = os.path.dirname(current)
        current = os.path.normpath(os.path.join(base, fact.link))
        if current.startswith("//"):
            current = "/" + current.lstrip("/")
    return current


def list_conf_files(
    snapshot: Snapshot, dirs: Sequence[str], suffixes: Sequence[str]
) -> Tuple[List[ConfFile], List[str]]:
    """The files of a search path in application order, plus the problems that make it partial.

    Every name appears once per directory holding it: the winner first, then what it hid.
    """
    problems: List[str] = []
    by_name: Dict[str, List[str]] = {}
    for directory in dirs:
        error = snapshot.files.get(directory)
        if error is not None and error.error:
            problems.append(f"{directory}: {error.error}")
        for name in snapshot.dirs.get(directory, ()):
            if name.startswith(".") or not name.endswith(tuple(suffixes)):
                continue
            path = f"{directory}/{name}"
            if path in snapshot.files:  # absent: a directory or vanished; neither counts
                by_name.setdefault(name, []).append(path)
    out: List[ConfFile] = []
    for name in sorted(by_name):
        winner, *hidden = by_name[name]
        entry = _judge(winner, snapshot.files)
        out.append(entry)
        if entry.status == UNREADABLE:
            problems.append(f"{winner}: {entry.detail}")
        verb = "masked by" if entry.status == MASKED else "overridden by"
        for path in hidden:
            out.append(
                ConfFile(
                    path=path,
                    status=OVERRIDDEN,
                    detail=f"{verb} {winner}",
                    real_path=resolve_link(path, snapshot.files),
                )
            )
    return out, problems


def judge_file(path: str, files: Dict[str, FileFact]) -> Optional[ConfFile]:
    """A single configuration file (not part of a search path), or None when it is absent."""
    if path not in files:
        return None
    return _judge(path, files)


def _judge(path: str, files: Dict[str, FileFact]) -> ConfFile:
    fact = files[path]
    real = resolve_link(path, files)
    # The collector records a link with neither text nor error only when it ends at /dev/null.
    if fact.link is not None and (real == "/dev/null" or (fact.text is None and not fact.error)):
        return ConfFile(path, MASKED, "link to /dev/null", "/dev/null")
    if fact.error is not None:
        return ConfFile(path, UNREADABLE, fact.error, real)
    if fact.text is None:
        return ConfFile(path, UNREADABLE, "no text recorded", real)
    if fact.text == "":
        return ConfFile(path, MASKED, "empty file", real, "")
    return ConfFile(path, APPLIED, "", real, fact.text)
