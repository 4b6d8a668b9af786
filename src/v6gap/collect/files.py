"""Collect the configuration files that decide IPv6 at boot: sysctl, modprobe, kernel command line.

Fills the snapshot fields ``files`` (target path -> ``{"text"}``, ``{"link", "text"}``, ``{"link"}``
for a link to /dev/null, or ``{"error"}``) and ``dirs`` (directory -> sorted entry names). Missing
files are simply absent. Every read goes through the injected ``Host``, so ``--root`` trees and
``/etc/netns/NAME`` overlays are honoured, and symlinks inside an image resolve inside it.

Standard library only (Python 3.9+): the fleet mode ships this package to other hosts.
"""

from __future__ import annotations

import os
import re
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from v6gap.collect import Partial
from v6gap.collect.host import Host

# systemd-sysctl's search path, highest precedence first (sysctl.d(5)). /lib/sysctl.d is only
# read by split-/usr builds; on merged-/usr systems it is the same directory as /usr/lib/sysctl.d.
SYSCTL_DIRS: Tuple[str, ...] = (
    "/etc/sysctl.d",
    "/run/sysctl.d",
    "/usr/local/lib/sysctl.d",
    "/usr/lib/sysctl.d",
    "/lib/sysctl.d",
)
SYSCTL_CONF = "/etc/sysctl.conf"
SYSCTL_SUFFIXES: Tuple[str, ...] = (".conf",)

# kmod's search path, highest precedence first (modprobe.d(5)); kmod also accepts ``.alias``.
MODPROBE_DIRS: Tuple[str, ...] = (
    "/etc/modprobe.d",
    "/run/modprobe.d",
    "/usr/local/lib/modprobe.d",
    "/usr/lib/modprobe.d",
    "/lib/modprobe.d",
)
MODPROBE_CONF = "/etc/modprobe.conf"  # read by the old module-init-tools only, never by kmod
MODPROBE_SUFFIXES: Tuple[str, ...] = (".conf", ".alias")

GRUB_DEFAULT = "/etc/default/grub"
GRUB_DEFAULT_DIR = "/etc/default/grub.d"
GRUB_SUFFIXES: Tuple[str, ...] = (".cfg",)
KERNEL_CMDLINE = "/etc/kernel/cmdline"

UFW_DEFAULT = "/etc/default/ufw"
UFW_CONF = "/etc/ufw/ufw.conf"
UFW_ENABLED = ("yes", "YES")  # ufw-init-functions' own test of ENABLED
UFW_SYSCTL = "/etc/ufw/sysctl.conf"

SINGLE_FILES: Tuple[str, ...] = (
    SYSCTL_CONF,
    UFW_SYSCTL,
    UFW_DEFAULT,
    UFW_CONF,
    MODPROBE_CONF,
    GRUB_DEFAULT,
    KERNEL_CMDLINE,
    "/etc/hosts",
    "/etc/gai.conf",
    "/etc/sysconfig/network",
    "/etc/docker/daemon.json",
    "/etc/nftables.conf",
    "/etc/sysconfig/nftables.conf",
    "/etc/firewalld/firewalld.conf",
    "/etc/ufw/before6.rules",
    "/etc/ufw/user6.rules",
    "/etc/ufw/user.rules",
    "/etc/ufw/before.rules",
    "/etc/miredo.conf",
    "/etc/miredo/miredo.conf",
)

# (directory, suffixes of the entries read from it)
CONF_DIRS: Tuple[Tuple[str, Tuple[str, ...]], ...] = (
    tuple((d, SYSCTL_SUFFIXES) for d in SYSCTL_DIRS)
    + tuple((d, MODPROBE_SUFFIXES) for d in MODPROBE_DIRS)
    + ((GRUB_DEFAULT_DIR, GRUB_SUFFIXES),)
)

MAX_DIR_ENTRIES = 1000
_MERGED_LIB_TARGETS = ("usr/lib", "/usr/lib", "usr/lib/", "/usr/lib/")


def collect_files(host: Host) -> Partial:
    """``files`` and ``dirs``: boot-time sysctl, modprobe and command-line sources, and friends."""
    files: Dict[str, Dict[str, str]] = {}
    dirs: Dict[str, List[str]] = {}
    lib_link = host.readlink("/lib")
    merged_lib = lib_link is not None and lib_link in _MERGED_LIB_TARGETS
    if lib_link is not None:
        # Recorded so the analysis can say why /lib/*.d was not read on its own.
        files["/lib"] = {"link": lib_link}
    for directory, suffixes in CONF_DIRS:
        if merged_lib and directory.startswith("/lib/"):
            continue  # the same directory as /usr/lib/...: reading it twice would only add noise
        _collect_dir(host, directory, suffixes, files, dirs)
    for path in SINGLE_FILES:
        _collect_one(host, path, files)
    ipt_sysctl = ufw_sysctl_path(files)
    if ipt_sysctl and ipt_sysctl not in files:
        _collect_one(host, ipt_sysctl, files)
    return {"files": files, "dirs": dirs}, {}


def ufw_sysctl_path(files: Mapping[str, Mapping[str, Any]]) -> Optional[str]:
    """ufw's ``IPT_SYSCTL`` from /etc/default/ufw then /etc/ufw/ufw.conf (both shell, sourced)."""
    env: Dict[str, str] = {}
    for source in (UFW_DEFAULT, UFW_CONF):
        text = files.get(source, {}).get("text")
        if isinstance(text, str):
            for name, value, _line in shell_assignments(text, env):
                env[name] = value
    path = env.get("IPT_SYSCTL", "")
    return os.path.normpath(path) if path.startswith("/") else None


def _collect_dir(
    host: Host,
    directory: str,
    suffixes: Sequence[str],
    files: Dict[str, Dict[str, str]],
    dirs: Dict[str, List[str]],
) -> None:
    if not host.is_dir(directory):
        return
    try:
        names = host.listdir(directory)
    except OSError as exc:
        files[directory] = {"error": _reason(exc)}
        return
    if len(names) > MAX_DIR_ENTRIES:
        files[directory] = {
            "error": f"{len(names)} entries: only the first {MAX_DIR_ENTRIES} (sorted) were read"
        }
        names = names[:MAX_DIR_ENTRIES]
    dirs[directory] = names
    for name in names:
        if name.startswith(".") or not name.endswith(tuple(suffixes)):
            continue  # hidden and foreign entries are ignored by systemd and kmod alike
        _collect_one(host, f"{directory}/{name}", files)


def _collect_one(host: Host, path: str, files: Dict[str, Dict[str, str]]) -> None:
    fact = read_fact(host, path)
    if fact is not None:
        files[path] = fact


def read_fact(host: Host, path: str) -> Optional[Dict[str, str]]:
    """One file as a FileFact-shaped dict, or None when it is missing or a directory."""
    link = host.readlink(path)
    try:
        real = host.resolve(path)
    except OSError as exc:  # a symlink loop inside the image
        return _with_link(link, {"error": _reason(exc)})
    if link is None:
        if not os.path.lexists(real) or os.path.isdir(real):
            return None
    elif _is_dev_null(host, real):
        return {"link": link}  # the masking idiom: no text to read
    elif not os.path.exists(real):
        return {"link": link, "error": "dangling symlink"}
    if os.path.isdir(real):
        return _with_link(link, {"error": "a directory"})
    if not os.path.isfile(real):
        # FIFOs and devices could block or never end: never open them.
        return _with_link(link, {"error": "not a regular file"})
    try:
        text = host.read_text(path)
    except (OSError, ValueError) as exc:
        return _with_link(link, {"error": _reason(exc)})
    return _with_link(link, {"text": text})


def _with_link(link: Optional[str], fact: Dict[str, str]) -> Dict[str, str]:
    if link is not None:
        return {"link": link, **fact}
    return fact


def _is_dev_null(host: Host, real: str) -> bool:
    if host.is_image:
        return os.path.relpath(real, host.root) == "dev/null"
    return os.path.realpath(real) == "/dev/null"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied (run as root)"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


# --------------------------------------------------------------------------- shell assignments

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_WORD_END = " \t\n;&|<>()"
_SKIPPED_KEYWORDS = frozenset({"export", "then", "else", "do", "{"})


def shell_assignments(text: str, env: Mapping[str, str]) -> List[Tuple[str, str, int]]:
    """``NAME=value`` statements of a sourced shell file: (name, expanded value, line), in order.

    Enough of sh for /etc/default/grub and /etc/default/ufw: quotes, backslashes, ``$NAME``,
    ``${NAME}``, ``${NAME:-word}`` (using ``env`` plus earlier assignments), ``export``. Command
    substitutions are kept as written; other statements are skipped, never evaluated.
    """
    scope = dict(env)
    out: List[Tuple[str, str, int]] = []
    pos, size = 0, len(text)
    line, counted = 1, 0  # line number of ``counted``; advanced lazily to each statement
    while pos < size:
        char = text[pos]
        if char in " \t\n;&|":  # separators and operators between statements
            pos += 1
            continue
        if char == "#":
            end = text.find("\n", pos)
            pos = size if end < 0 else end
            continue
        line += text.count("\n", counted, pos)
        counted = pos
        pos = max(_statement(text, pos, line, scope, out), pos + 1)  # always make progress
    return out


def ufw_enabled(assignments: List[Tuple[str, str, int]]) -> Optional[int]:
    """The line of the ENABLED=yes that starts ufw at boot, from ``shell_assignments`` of what
    ufw-init sources (ufw.conf, after /etc/default/ufw): the last ENABLED assignment holds, and
    ufw-init takes "yes" or "YES"."""
    last = [(value, line) for name, value, line in assignments if name == "ENABLED"][-1:]
    return last[0][1] if last and last[0][0] in UFW_ENABLED else None


def _statement(
    text: str, pos: int, line: int, scope: Dict[str, str], out: List[Tuple[str, str, int]]
) -> int:
    """Read one simple statement from ``pos``, record its assignments, return where it ends."""
    assigning = True
    while pos < len(text) and text[pos] not in "\n;&|":
        if text[pos] in " \t":
            pos += 1
            continue
        if text[pos] == "#":  # a comment after a word runs to the end of the line
            end = text.find("\n", pos)
            return len(text) if end < 0 else end
        word_start = pos
        raw, _, pos = _word(text, pos, scope)
        name_match = _NAME.match(raw)
        if assigning and name_match and raw[name_match.end() : name_match.end() + 1] == "=":
            name = name_match.group(0)
            _, value, _ = _word(text, word_start + name_match.end() + 1, scope)
            scope[name] = value
            out.append((name, value, line))
        elif assigning and raw in _SKIPPED_KEYWORDS:
            continue
        else:
            assigning = False  # a command: later words are its arguments
        if pos == word_start:
            pos += 1  # an operator character such as ( or >: step over it
    return pos


def _word(text: str, pos: int, scope: Mapping[str, str]) -> Tuple[str, str, int]:
    """One shell word from ``pos``: (raw text, expanded value, end position)."""
    start = pos
    value: List[str] = []
    size = len(text)
    while pos < size and text[pos] not in _WORD_END:
        char = text[pos]
        if char == "\\":
            if pos + 1 < size and text[pos + 1] != "\n":
                value.append(text[pos + 1])
            pos += 2
        elif char == "'":
            end = text.find("'", pos + 1)
            end = size if end < 0 else end
            value.append(text[pos + 1 : end])
            pos = end + 1
        elif char == '"':
            pos = _double_quoted(text, pos + 1, scope, value)
        elif char == "$":
            pos = _expand(text, pos, scope, value)
        elif char == "`":
            end = text.find("`", pos + 1)
            end = size if end < 0 else end
            value.append(text[pos : end + 1])
            pos = end + 1
        else:
            value.append(char)
            pos += 1
    pos = min(pos, size)
    return text[start:pos], "".join(value), pos


def _double_quoted(text: str, pos: int, scope: Mapping[str, str], value: List[str]) -> int:
    size = len(text)
    while pos < size and text[pos] != '"':
        char = text[pos]
        if char == "\\" and pos + 1 < size and text[pos + 1] in '$`"\\\n':
            if text[pos + 1] != "\n":
                value.append(text[pos + 1])
            pos += 2
        elif char == "$":
            pos = _expand(text, pos, scope, value)
        else:
            value.append(char)
            pos += 1
    return pos + 1


def _expand(text: str, pos: int, scope: Mapping[str, str], value: List[str]) -> int:
    """Expand the ``$`` at ``pos`` into ``value``; return the position after it."""
    rest = text[pos + 1 :]
    if rest.startswith("("):
        end = _matching_paren(text, pos + 1)
        value.append(text[pos:end])  # command substitution: kept as written, never run
        return end
    if rest.startswith("{"):
        end = text.find("}", pos + 2)
        if end < 0:
            value.append(text[pos:])
            return len(text)
        inner = text[pos + 2 : end]
        match = _NAME.match(inner)
        name = match.group(0) if match else ""
        op = inner[len(name) :]
        current = scope.get(name, "")
        if op.startswith((":-", "-")) and not (current if op.startswith(":") else name in scope):
            value.append(op[2:] if op.startswith(":") else op[1:])
        else:
            value.append(current)
        return end + 1
    match = _NAME.match(rest)
    if match:
        value.append(scope.get(match.group(0), ""))
        return pos + 1 + match.end()
    value.append("$")
    return pos + 1


def _matching_paren(text: str, pos: int) -> int:
    depth = 0
    for index in range(pos, len(text)):
        if text[index] == "(":
            depth += 1
        elif text[index] == ")":
            depth -= 1
            if depth == 0:
                return index + 1
    return len(text)
