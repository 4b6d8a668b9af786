"""Kernel command line: what the boot configuration passes, and what the running kernel got.

``ipv6.disable=1`` keeps the IPv6 stack from initialising at all (``/proc/sys/net/ipv6`` is then
absent); ``ipv6.disable_ipv6=1`` and ``ipv6.autoconf=0`` only change interfaces' starting values.
The kernel parses its command line with ``next_arg`` (lib/cmdline.c): words split on blanks,
double quotes group, a quoted value loses its quotes, everything after ``--`` belongs to init, and
for a repeated parameter the last one wins. Parameter names treat ``-`` and ``_`` alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Tuple

from v6gap.collect.files import (
    GRUB_DEFAULT,
    GRUB_DEFAULT_DIR,
    GRUB_SUFFIXES,
    KERNEL_CMDLINE,
    shell_assignments,
)
from v6gap.model import Snapshot

IPV6_DISABLE = "ipv6.disable"
GRUB_VARIABLES = ("GRUB_CMDLINE_LINUX", "GRUB_CMDLINE_LINUX_DEFAULT")


def parse_cmdline(text: str) -> Dict[str, str]:
    """Kernel parameters of a command line: name -> value ("" for a bare flag).

    A repeated parameter keeps its last value, as a module parameter like ``ipv6.disable`` does
    (the few that accumulate, such as ``console=``, are not of interest here).
    """
    params: Dict[str, str] = {}
    for name, value in _words(text):
        if name == "--" and value is None:
            break  # the rest is init's
        params[name] = value if value is not None else ""
    return params


def kernel_param(params: Mapping[str, str], name: str) -> Optional[str]:
    """``name``'s value in parsed ``params``, treating ``-`` and ``_`` alike (as the kernel)."""
    wanted = name.replace("-", "_")
    found: Optional[str] = None
    for key, value in params.items():
        if key.replace("-", "_") == wanted:
            found = value  # dicts keep insertion order; a later spelling is a later word
    return found


def _words(text: str) -> List[Tuple[str, Optional[str]]]:
    """(name, value or None) for each word, as the kernel's ``next_arg`` splits them."""
    out: List[Tuple[str, Optional[str]]] = []
    pos, size = 0, len(text)
    while pos < size:
        while pos < size and text[pos].isspace():
            pos += 1
        if pos >= size:
            break
        quoted = text[pos] == '"'
        if quoted:
            pos += 1
        start, in_quote, equals = pos, quoted, -1
        while pos < size and (in_quote or not text[pos].isspace()):
            if equals < 0 and text[pos] == "=":
                equals = pos
            if text[pos] == '"':
                in_quote = not in_quote
            pos += 1
        word = text[start:pos]
        if equals < 0:
            name, value = word, None
        else:
            name, value = text[start:equals], text[equals + 1 : pos]
            if value.startswith('"'):
                value = value[1:]
                if value.endswith('"'):
                    value = value[:-1]
        if quoted and value is None and name.endswith('"'):
            name = name[:-1]
        elif quoted and value is not None and value.endswith('"'):
            value = value[:-1]
        out.append((name, value))
        pos += 1
    return out


@dataclass(frozen=True)
class CmdlineSource:
    """A configured kernel command line and where it comes from (for evidence)."""

    params: Mapping[str, str]
    source: str  # "/etc/kernel/cmdline" or "/etc/default/grub:7" style
    param_sources: Mapping[str, str] = field(default_factory=dict)  # per parameter, if finer

    def where(self, name: str) -> str:
        """The file (and line) that put parameter ``name`` on this command line."""
        wanted = name.replace("-", "_")
        found = self.source
        for key, source in self.param_sources.items():
            if key.replace("-", "_") == wanted:
                found = source
        return found


def boot_cmdline_ipv6_disable(snapshot: Snapshot) -> Optional[Tuple[str, str]]:
    """``ipv6.disable``'s value in the boot configuration and its source, or None if unset.

    In order of authority: /etc/kernel/cmdline (kernel-install, systemd-boot, UKIs), then GRUB's
    ``GRUB_CMDLINE_LINUX`` and ``GRUB_CMDLINE_LINUX_DEFAULT`` (in that order on the generated
    line) from /etc/default/grub and /etc/default/grub.d/*.cfg. The first that sets it decides.
    """
    return boot_cmdline_param(snapshot, IPV6_DISABLE)


def boot_cmdline_param(snapshot: Snapshot, name: str) -> Optional[Tuple[str, str]]:
    """Any kernel parameter's boot-configured value and source (as ``ipv6.disable`` above)."""
    for source in boot_cmdline_sources(snapshot):
        value = kernel_param(source.params, name)
        if value is not None:
            return value, source.where(name)
    return None


def effective_boot_params(snapshot: Snapshot) -> Dict[str, str]:
    """All configured kernel parameters, the most authoritative source's value for each."""
    merged: Dict[str, str] = {}
    for source in reversed(boot_cmdline_sources(snapshot)):
        merged.update(source.params)
    return merged


def boot_cmdline_sources(snapshot: Snapshot) -> List[CmdlineSource]:
    """The configured command lines, most authoritative first (empty when none is found)."""
    out: List[CmdlineSource] = []
    fact = snapshot.files.get(KERNEL_CMDLINE)
    if fact is not None and fact.text is not None:
        out.append(CmdlineSource(parse_cmdline(fact.text), KERNEL_CMDLINE))
    out.extend(_grub_sources(snapshot))
    return out


def _grub_files(snapshot: Snapshot) -> List[str]:
    # grub-mkconfig sources /etc/default/grub, then /etc/default/grub.d/*.cfg in glob order.
    names = sorted(
        n
        for n in snapshot.dirs.get(GRUB_DEFAULT_DIR, ())
        if n.endswith(GRUB_SUFFIXES) and not n.startswith(".")
    )
    return [GRUB_DEFAULT, *(f"{GRUB_DEFAULT_DIR}/{n}" for n in names)]


def _grub_sources(snapshot: Snapshot) -> List[CmdlineSource]:
    """GRUB's variables as two sources, ``_DEFAULT`` first: it comes last on the line, so wins."""
    history: Dict[str, List[Tuple[str, str]]] = {name: [] for name in GRUB_VARIABLES}
    env: Dict[str, str] = {}
    for path in _grub_files(snapshot):
        fact = snapshot.files.get(path)
        if fact is None or fact.text is None:
            continue
        for name, value, line in shell_assignments(fact.text, env):
            env[name] = value
            if name in history:
                history[name].append((value, f"{path}:{line}"))
    out: List[CmdlineSource] = []
    for name in reversed(GRUB_VARIABLES):
        if history[name]:
            out.append(_origin(history[name]))
    return out


def _origin(history: List[Tuple[str, str]]) -> CmdlineSource:
    """The final value of a variable, attributed per parameter to the assignment that set it.

    ``GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX ipv6.disable=1"`` in a later file keeps earlier
    words: each parameter is credited to the first assignment from which its value stayed put.
    """
    parsed = [(parse_cmdline(text), where) for text, where in history]
    final, last = parsed[-1]
    sources: Dict[str, str] = {}
    for name, value in final.items():
        origin = last
        for params, where in reversed(parsed):
            if params.get(name) != value:
                break
            origin = where
        sources[name] = origin
    return CmdlineSource(final, last, sources)


def runtime_ipv6_disable(snapshot: Snapshot) -> Optional[Tuple[str, str]]:
    """``ipv6.disable`` on the running kernel's command line (``/proc/cmdline``), if present."""
    if snapshot.cmdline is None:
        return None
    value = kernel_param(parse_cmdline(snapshot.cmdline), IPV6_DISABLE)
    return (value, "/proc/cmdline") if value is not None else None


def disables_ipv6(value: str) -> bool:
    """Whether an ``ipv6.disable=`` value turns IPv6 off: the kernel reads it as a non-zero int.

    ``kstrtoint(value, 0)``: decimal, ``0x`` hex or leading-zero octal; anything else is rejected
    (the parameter is then ignored and IPv6 stays on).
    """
    text = value[:-1] if value.endswith("\n") else value
    if not _C_INTEGER.fullmatch(text):
        return False
    digits = text.lstrip("+-")
    base = 16 if digits[:2].lower() == "0x" else 8 if digits.startswith("0") else 10
    return int(digits, base) != 0


_C_INTEGER = re.compile(r"[+-]?(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)")
