"""The plan: each rendered file beside what the target has now, as a unified diff."""

from __future__ import annotations

import difflib
from typing import Optional, Union

import msgspec

from v6gap.collect.host import Host
from v6gap.errors import InputError
from v6gap.harden.render import Artefact, retired


class PlannedFile(msgspec.Struct, frozen=True):
    path: str
    content: str
    current: Optional[str]  # None: the file does not exist now

    @property
    def changed(self) -> bool:
        return self.current != self.content

    @property
    def action(self) -> str:
        if self.current is None:
            return "create"
        return "replace" if self.changed else "unchanged"


def read_current(root: str, path: str) -> Optional[str]:
    """The file as it is under ``root`` (symlinks resolved inside it), or None when absent."""
    try:
        return Host(root=root).read_text(path)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise InputError(f"{root.rstrip('/')}{path}: cannot read: {exc}") from None


def plan(artefacts: tuple[Union[Artefact, PlannedFile], ...], root: str) -> tuple[PlannedFile, ...]:
    """Each file beside what is under ``root`` now (again, for a plan made earlier), and last
    the files v6gap wrote for where its table lived before, emptied (``render.retired``)."""
    rendered = tuple(Artefact(a.path, a.content) for a in artefacts)
    every = rendered + retired(rendered, lambda path: read_current(root, path))
    return tuple(PlannedFile(a.path, a.content, read_current(root, a.path)) for a in every)


def unified_diff(planned: tuple[PlannedFile, ...]) -> str:
    """One unified diff for every changed file (``/dev/null`` as the old side of a new one)."""
    parts: list[str] = []
    for f in planned:
        if not f.changed:
            continue
        old = "/dev/null" if f.current is None else f"a{f.path}"
        lines = difflib.unified_diff(
            (f.current or "").splitlines(keepends=True),
            f.content.splitlines(keepends=True),
            fromfile=old,
            tofile=f"b{f.path}",
        )
        for line in lines:
            parts.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(parts)
