"""Kernel facts: running sysctls, release, command line, modules and the IPv6-related config.

Sysctl keys are dotted (``net.ipv6.conf.eth0.accept_ra``) with interface names kept verbatim,
dots included: ``net.ipv6.conf.eth0.100.accept_ra`` is the key of interface ``eth0.100``.
Consumers take the setting as the last component and the interface as everything between
``net.ipv6.conf.`` and it (``key.rsplit(".", 1)``), never split on every dot.
"""

from __future__ import annotations

import gzip
import io
import re
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from v6gap.collect import Partial
from v6gap.collect.host import MAX_FILE_BYTES, Host

IPV6_CONF_KEYS = (
    "disable_ipv6",
    "accept_ra",
    "accept_ra_defrtr",
    "accept_ra_pinfo",
    "accept_ra_rtr_pref",
    "accept_ra_min_hop_limit",
    "accept_redirects",
    "accept_source_route",
    "forwarding",
    "autoconf",
    "router_solicitations",
    "max_addresses",
    "dad_transmits",
    "use_tempaddr",
)
NEIGH_DEFAULT_KEYS = ("gc_thresh1", "gc_thresh2", "gc_thresh3", "gc_interval")
IPV4_CONF_KEYS = ("accept_redirects", "accept_source_route", "forwarding")

PROC_SYS = "/proc/sys"
IPV6_SYS = "/proc/sys/net/ipv6"
NEIGH_DEFAULT_NOTE = (
    "absent in this network namespace: the neighbour table limits are host-wide "
    "(read them in the initial namespace)"
)
NO_MODULES_NOTE = "no /proc/modules: this kernel has no loadable modules"
# A /proc/sys read asking for Host's default 4 MiB fails with ENOMEM (the kernel allocates a
# buffer of the requested size and refuses at KMALLOC_MAX_SIZE): ask for what a value needs.
SYSCTL_READ_LIMIT = 65536

_CONFIG_PREFIXES = ("CONFIG_IPV6", "CONFIG_INET6_", "CONFIG_NET_IPGRE")
_CONFIG_EXACT = ("CONFIG_NET_IPIP", "CONFIG_MODULES")
_CONFIG_SET = re.compile(r"^(CONFIG_[A-Za-z0-9_]+)=(.*)$")
_CONFIG_UNSET = re.compile(r"^# (CONFIG_[A-Za-z0-9_]+) is not set$")


# --------------------------------------------------------------------------- pure parsers


def sysctl_paths(conf_dirs: Sequence[str], ipv6: bool) -> List[Tuple[str, str]]:
    """(dotted key, /proc/sys path) pairs to read, ``all`` and ``default`` first."""
    pairs: List[Tuple[str, str]] = []
    if ipv6:
        ordered = [d for d in ("all", "default") if d in conf_dirs]
        ordered += sorted(d for d in conf_dirs if d not in ("all", "default"))
        for conf in ordered:
            for key in IPV6_CONF_KEYS:
                pairs.append((f"net.ipv6.conf.{conf}.{key}", f"{IPV6_SYS}/conf/{conf}/{key}"))
        pairs.append(("net.ipv6.bindv6only", f"{IPV6_SYS}/bindv6only"))
        pairs.extend(_neigh_default_paths())
    pairs.append(("net.ipv4.ip_forward", f"{PROC_SYS}/net/ipv4/ip_forward"))
    for conf in ("all", "default"):
        for key in IPV4_CONF_KEYS:
            pairs.append((f"net.ipv4.conf.{conf}.{key}", f"{PROC_SYS}/net/ipv4/conf/{conf}/{key}"))
    return pairs


def _neigh_default_paths() -> List[Tuple[str, str]]:
    return [
        (f"net.ipv6.neigh.default.{key}", f"{IPV6_SYS}/neigh/default/{key}")
        for key in NEIGH_DEFAULT_KEYS
    ]


def parse_sysctl_value(text: str) -> str:
    """A /proc/sys value as ``sysctl -n`` prints it: fields joined by single tabs."""
    return "\t".join(text.split())


def parse_proc_modules(text: str) -> Tuple[str, ...]:
    """Module names from ``/proc/modules`` (first field of each line), sorted."""
    names = {line.split()[0] for line in text.splitlines() if line.split()}
    return tuple(sorted(names))


def parse_modules_builtin(text: str) -> Tuple[str, ...]:
    """Built-in module names from ``modules.builtin``: basename, no ``.ko``, ``-`` as ``_``.

    kmod treats ``-`` and ``_`` alike and the kernel names modules with ``_`` (``/proc/modules``),
    so both lists use that spelling.
    """
    names = set()
    for line in text.splitlines():
        path = line.strip()
        if not path or path.startswith("#"):
            continue
        base = path.rsplit("/", 1)[-1]
        for suffix in (".ko", ".ko.xz", ".ko.zst", ".ko.gz"):
            if base.endswith(suffix):
                base = base[: -len(suffix)]
                break
        names.add(base.replace("-", "_"))
    return tuple(sorted(names))


def parse_kernel_config(text: str) -> Dict[str, str]:
    """The IPv6, tunnel and module options of a kernel config; ``# X is not set`` becomes ``n``."""
    found: Dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        set_match = _CONFIG_SET.match(line)
        if set_match:
            name, value = set_match.group(1), set_match.group(2).strip().strip('"')
        else:
            unset = _CONFIG_UNSET.match(line)
            if not unset:
                continue
            name, value = unset.group(1), "n"
        if name in _CONFIG_EXACT or name.startswith(_CONFIG_PREFIXES):
            found[name] = value
    return found


def _version_key(name: str) -> Tuple[Tuple[int, object], ...]:
    parts = re.findall(r"\d+|[^\d]+", name)
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts)


def newest_release(names: Iterable[str]) -> Optional[str]:
    """The highest kernel release among directory names, compared number by number."""
    candidates = [n for n in names if n and n[0].isdigit()]
    return max(candidates, key=_version_key) if candidates else None


# --------------------------------------------------------------------------- collectors


def _read_value(host: Host, path: str) -> Tuple[Optional[str], Optional[str]]:
    """(value, None), (None, None) when absent, or (None, reason) when unreadable."""
    try:
        return parse_sysctl_value(host.read_text(path, limit=SYSCTL_READ_LIMIT)), None
    except FileNotFoundError:
        return None, None
    except (OSError, ValueError) as exc:
        return None, f"unreadable: {_reason(exc)}"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied (run as root)"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def _read_pairs(
    host: Host, pairs: Iterable[Tuple[str, str]], values: Dict[str, str], notes: Dict[str, str]
) -> None:
    for key, path in pairs:
        value, problem = _read_value(host, path)
        if value is not None:
            values[key] = value
        elif problem:
            notes[key] = problem


def collect_sysctl(host: Host) -> Partial:
    """``ipv6_proc``, ``sysctl`` (dotted keys) and ``sysctl_notes`` of the running kernel."""
    if host.is_image:
        return {}, {"sysctl": "image: no running kernel (boot values come from the image's files)"}
    if not host.is_dir(f"{PROC_SYS}/net"):
        return {}, {"sysctl": "no /proc/sys/net: mount /proc (or run v6gap on the host itself)"}
    ipv6 = host.is_dir(IPV6_SYS)
    conf_dirs: List[str] = []
    if ipv6:
        try:
            conf_dirs = host.listdir(f"{IPV6_SYS}/conf")
        except OSError as exc:
            return {"ipv6_proc": True}, {"sysctl": f"{IPV6_SYS}/conf: {_reason(exc)}"}
    values: Dict[str, str] = {}
    notes: Dict[str, str] = {}
    _read_pairs(host, sysctl_paths(conf_dirs, ipv6), values, notes)
    if ipv6 and not host.is_dir(f"{IPV6_SYS}/neigh/default"):
        notes["net.ipv6.neigh.default"] = NEIGH_DEFAULT_NOTE
    return {"ipv6_proc": ipv6, "sysctl": values, "sysctl_notes": notes}, {}


def read_neigh_defaults(host: Host) -> Dict[str, str]:
    """``net.ipv6.neigh.default.*`` of the initial namespace (host-wide; absent in others)."""
    values: Dict[str, str] = {}
    _read_pairs(host, _neigh_default_paths(), values, {})
    return values


def collect_kernel(host: Host) -> Partial:
    """Kernel release, command line, loaded and built-in modules, IPv6-related config."""
    fields: Dict[str, object] = {}
    missing: Dict[str, str] = {}
    notes: Dict[str, str] = {}
    release = _release(host, missing)
    if release is not None:
        fields["kernel_release"] = release
    if host.is_image:
        missing["cmdline"] = "image: no running kernel"
        missing["modules_loaded"] = "image: no running kernel"
    else:
        _live_cmdline_and_modules(host, fields, missing, notes)
    _builtin_modules(host, release, fields, missing)
    _config(host, release, fields, missing)
    if notes:
        fields["sysctl_notes"] = notes
    return fields, missing


def _release(host: Host, missing: Dict[str, str]) -> Optional[str]:
    if not host.is_image:
        try:
            return host.read_text("/proc/sys/kernel/osrelease", limit=SYSCTL_READ_LIMIT).strip()
        except (OSError, ValueError) as exc:
            missing["kernel_release"] = f"/proc/sys/kernel/osrelease: {_reason(exc)}"
            return None
    try:
        names = [n for n in host.listdir("/lib/modules") if host.is_dir(f"/lib/modules/{n}")]
    except OSError:
        names = []
    newest = newest_release(names)
    if newest is None:
        missing["kernel_release"] = "image: no kernel under /lib/modules"
    return newest


def _live_cmdline_and_modules(
    host: Host, fields: Dict[str, object], missing: Dict[str, str], notes: Dict[str, str]
) -> None:
    try:
        fields["cmdline"] = host.read_text("/proc/cmdline").strip()
    except (OSError, ValueError) as exc:
        missing["cmdline"] = f"/proc/cmdline: {_reason(exc)}"
    try:
        fields["modules_loaded"] = parse_proc_modules(host.read_text("/proc/modules"))
    except FileNotFoundError:
        # Not missing data: without CONFIG_MODULES the kernel cannot load any module.
        fields["modules_loaded"] = ()
        notes["modules_loaded"] = NO_MODULES_NOTE
    except (OSError, ValueError) as exc:
        missing["modules_loaded"] = f"/proc/modules: {_reason(exc)}"


def _builtin_modules(
    host: Host, release: Optional[str], fields: Dict[str, object], missing: Dict[str, str]
) -> None:
    if release is None:
        missing["modules_builtin"] = "kernel release unknown"
        return
    path = f"/lib/modules/{release}/modules.builtin"
    try:
        fields["modules_builtin"] = parse_modules_builtin(host.read_text(path))
    except FileNotFoundError:
        missing["modules_builtin"] = (
            f"no {path}: install the kernel's modules package, "
            "or judge built-in options from kernel_config"
        )
    except (OSError, ValueError) as exc:
        missing["modules_builtin"] = f"{path}: {_reason(exc)}"


def _config_paths(host: Host, release: Optional[str]) -> List[str]:
    paths: List[str] = []
    if not host.is_image:
        paths.append("/proc/config.gz")
    if release is not None:
        paths.append(f"/boot/config-{release}")
    if host.is_image:
        try:
            names = host.listdir("/boot")
            configs = [n[len("config-") :] for n in names if n.startswith("config-")]
        except OSError:
            configs = []
        newest = newest_release(configs)
        if newest is not None and f"/boot/config-{newest}" not in paths:
            paths.append(f"/boot/config-{newest}")
    return paths


def _config(
    host: Host, release: Optional[str], fields: Dict[str, object], missing: Dict[str, str]
) -> None:
    paths = _config_paths(host, release)
    problems: List[str] = []
    for path in paths:
        try:
            text = _read_maybe_gzip(host, path)
        except FileNotFoundError:
            continue
        except (OSError, ValueError, EOFError) as exc:
            problems.append(f"{path}: {_reason(exc)}")
            continue
        fields["kernel_config"] = parse_kernel_config(text)
        return
    detail = "; ".join(problems) if problems else f"none of {', '.join(paths) or '/boot/config-*'}"
    missing["kernel_config"] = (
        f"{detail}: enable CONFIG_IKCONFIG_PROC or install the kernel's config in /boot"
    )


def _read_maybe_gzip(host: Host, path: str) -> str:
    if not path.endswith(".gz"):
        return host.read_text(path)
    with gzip.GzipFile(fileobj=io.BytesIO(host.read_bytes(path))) as fh:
        data = fh.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ValueError(f"larger than {MAX_FILE_BYTES} bytes uncompressed")
    return data.decode("utf-8", errors="replace")
