"""kmod's module configuration: what ``modprobe`` will do with a module (modprobe.d(5)).

kmod (libkmod-config.c) reads ``*.conf`` and ``*.alias`` from /etc, /run, /usr/local/lib, /usr/lib
and /lib ``modprobe.d``; a name in an earlier directory hides it in later ones; the survivors are
parsed in lexical order of their names. It has never read /etc/modprobe.conf (only the old
module-init-tools did, RHEL 6 and earlier): that file is parsed here into ``ignored`` so checks can
say its lines do nothing. Lines ending in ``\\`` continue; a line starting with ``#`` is a comment;
module names treat ``-`` and ``_`` alike.

Lookups follow libkmod-module.c: the first ``install``/``remove``/``softdep`` whose (fnmatch)
pattern matches wins; every ``options`` line for the module is concatenated, so for one parameter
the last one wins; ``blacklist`` only stops loading by alias (udev, ``modprobe -b``), never an
explicit ``modprobe NAME``. None of it matters for code built into the kernel.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import List, Optional, Tuple

from v6gap.analysis.boot_cmdline import kernel_param, parse_cmdline
from v6gap.analysis.conf_dirs import APPLIED, NOT_APPLIED, ConfFile, judge_file, list_conf_files
from v6gap.collect.files import MODPROBE_CONF, MODPROBE_DIRS, MODPROBE_SUFFIXES
from v6gap.model import Snapshot

DIRECTIVES = frozenset({"alias", "blacklist", "options", "install", "remove", "softdep"})
# Commands that load nothing; spelled bare (the install command runs through /bin/sh) or with
# the usual directories.
NOOP_PROGRAMS = frozenset(
    {":", "exit"}
    | {
        f"{directory}{program}"
        for directory in ("", "/bin/", "/usr/bin/", "/sbin/", "/usr/sbin/")
        for program in ("true", "false", "echo")
    }
)
_SHELL_OPERATORS = (";", "&", "|", "`", "$(", "\n")
_BLANKS = re.compile(r"[ \t]+")
LEGACY_NOTE = "kmod never reads /etc/modprobe.conf: this line has no effect (use modprobe.d)"
LEGACY_FILE_NOTE = "kmod never reads /etc/modprobe.conf (only the old module-init-tools did)"


@dataclass(frozen=True)
class Directive:
    """One modprobe configuration line."""

    kind: str  # alias, blacklist, options, install, remove, softdep
    module: str  # module name or fnmatch pattern, ``-`` written as ``_``
    args: str  # the rest: command, options, alias target, softdep list ("" for blacklist)
    path: str
    line: int  # first physical line
    text: str  # the logical line as written (continuations joined)
    note: str = ""  # why it does nothing, when it does nothing

    def describe(self) -> str:
        """Evidence line: ``/etc/modprobe.d/x.conf:3 install sit /bin/true``."""
        note = f" ({self.note})" if self.note else ""
        return f"{self.path}:{self.line} {self.text}{note}"


def underscores(name: str) -> str:
    """kmod's module-name normalisation: ``-`` becomes ``_`` (outside ``[...]`` classes)."""
    out, depth = [], 0
    for char in name:
        if char == "[":
            depth += 1
        elif char == "]" and depth:
            depth -= 1
        out.append("_" if char == "-" and not depth else char)
    return "".join(out)


def parse_modprobe_text(text: str, path: str = "") -> List[Directive]:
    """The directives of one modprobe.d file, in order; malformed lines are skipped as by kmod."""
    out: List[Directive] = []
    for first_line, logical in _logical_lines(text):
        if not logical or logical[0] == "#":
            continue
        words = _BLANKS.split(logical.lstrip(" \t"), maxsplit=2)  # kmod splits on " \t" only
        kind = words[0]
        if kind not in DIRECTIVES or len(words) < 2 or not words[1]:
            continue
        if kind != "blacklist" and (len(words) < 3 or not words[2].strip(" \t")):
            continue  # kmod: "ignoring bad line"
        if kind == "alias":
            args = _BLANKS.split(words[2].strip(" \t"))[0]
        elif kind == "blacklist":
            args = ""
        else:
            args = words[2].strip()
        module = underscores(words[1])
        out.append(Directive(kind, module, args, path, first_line, logical.strip()))
    return out


def _logical_lines(text: str) -> List[Tuple[int, str]]:
    """kmod's ``getline_wrapped``: backslash-newline joins lines, ``\\x`` keeps just ``x``."""
    out: List[Tuple[int, str]] = []
    buf: List[str] = []
    line, start = 1, 1
    pos, size = 0, len(text)
    while pos < size:
        char = text[pos]
        if char == "\\" and pos + 1 < size:
            nxt = text[pos + 1]
            if nxt == "\n":
                line += 1
            else:
                buf.append(nxt)
            pos += 2
            continue
        if char == "\n":
            out.append((start, "".join(buf)))
            buf = []
            line += 1
            start = line
        elif char != "\\":  # a lone backslash at the very end is dropped
            buf.append(char)
        pos += 1
    if buf:
        out.append((start, "".join(buf)))
    return out


@dataclass(frozen=True)
class ModprobeConfig:
    """The effective modprobe configuration of a system, with the files it came from."""

    directives: Tuple[Directive, ...] = ()  # in kmod's reading order
    ignored: Tuple[Directive, ...] = ()  # lines kmod never reads (/etc/modprobe.conf)
    files: Tuple[ConfFile, ...] = ()
    problems: Tuple[str, ...] = ()

    def install_for(self, module: str) -> Optional[Directive]:
        """The ``install`` command modprobe runs instead of loading ``module`` (first match)."""
        return self._first("install", module)

    def remove_for(self, module: str) -> Optional[Directive]:
        """The ``remove`` command for ``module`` (first match)."""
        return self._first("remove", module)

    def softdep_for(self, module: str) -> Optional[Directive]:
        """The ``softdep`` line for ``module`` (first match)."""
        return self._first("softdep", module)

    def blocks_loading(self, module: str) -> Optional[Directive]:
        """The ``install`` line that makes ``modprobe module`` a no-op (``/bin/true`` …), if any.

        Loading a module that depends on ``module`` is blocked as well (modprobe runs the install
        command for each dependency), but ``modprobe --ignore-install`` and ``insmod`` are not.
        """
        found = self.install_for(module)
        return found if found is not None and is_noop_command(found.args) else None

    def blacklisted(self, module: str) -> Optional[Directive]:
        """The ``blacklist`` line for ``module``: it stops alias loading, not ``modprobe NAME``."""
        name = underscores(module)
        return next(
            (d for d in self.directives if d.kind == "blacklist" and d.module == name), None
        )

    def alias(self, name: str) -> Optional[Directive]:
        """The first ``alias`` line for ``name`` (``alias net-pf-10 off`` style)."""
        wanted = underscores(name)
        return next((d for d in self.directives if d.kind == "alias" and d.module == wanted), None)

    def option(self, module: str, name: str) -> Optional[Directive]:
        """The ``options`` line that sets parameter ``name`` of ``module`` last (it wins)."""
        return _last_option(self.directives, module, name)

    def option_value(self, module: str, name: str) -> Optional[str]:
        """The value parameter ``name`` of ``module`` gets from the configuration, if any."""
        found = self.option(module, name)
        return kernel_param(parse_cmdline(found.args), name) if found is not None else None

    def ignored_option(self, module: str, name: str) -> Optional[Directive]:
        """Like ``option`` but among lines kmod never reads (so they do nothing)."""
        return _last_option(self.ignored, module, name)

    def _first(self, kind: str, module: str) -> Optional[Directive]:
        name = underscores(module)
        return next(
            (d for d in self.directives if d.kind == kind and fnmatchcase(name, d.module)), None
        )


def _last_option(directives: Tuple[Directive, ...], module: str, name: str) -> Optional[Directive]:
    wanted = underscores(module)
    found: Optional[Directive] = None
    for directive in directives:
        if (
            directive.kind == "options"
            and directive.module == wanted
            and kernel_param(parse_cmdline(directive.args), name) is not None
        ):
            found = directive
    return found


def is_noop_command(command: str) -> bool:
    """Whether an install command loads nothing: ``/bin/true``, ``false``, ``:``, ``exit 1`` …

    One simple command from ``NOOP_PROGRAMS`` with any arguments; anything chained after it
    (``;``, ``&&``, a pipe, a substitution) could load the module, so it does not count.
    """
    text = command.strip()
    if not text or any(op in text for op in _SHELL_OPERATORS):
        return False
    return text.split()[0] in NOOP_PROGRAMS


def parse_modprobe(snapshot: Snapshot) -> ModprobeConfig:
    """Resolve the modprobe configuration of ``snapshot`` (pure)."""
    conf_files, problems = list_conf_files(snapshot, MODPROBE_DIRS, MODPROBE_SUFFIXES)
    if snapshot.missing("files"):
        problems.insert(0, snapshot.missing("files") or "")
    directives: List[Directive] = []
    for conf in conf_files:
        if conf.status == APPLIED:
            directives.extend(parse_modprobe_text(conf.text or "", conf.real_path or conf.path))
    files = list(conf_files)
    ignored: List[Directive] = []
    legacy = judge_file(MODPROBE_CONF, snapshot.files)
    if legacy is not None:
        files.append(ConfFile(MODPROBE_CONF, NOT_APPLIED, LEGACY_FILE_NOTE, legacy.real_path))
        ignored = [
            Directive(d.kind, d.module, d.args, d.path, d.line, d.text, LEGACY_NOTE)
            for d in parse_modprobe_text(legacy.text or "", MODPROBE_CONF)
        ]
    return ModprobeConfig(tuple(directives), tuple(ignored), tuple(files), tuple(problems))
