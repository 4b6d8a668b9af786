"""The live half of apply, in the network namespace this process runs in: sysctls and nftables.

The sysctls written are exactly those of the rendered sysctl.d file, expanded the way
systemd-sysctl does at boot: a glob key (``net.ipv6.conf.*.accept_ra``) reaches every interface
that exists now, explicit keys excluded. So what apply sets is what the next boot sets, and an
audit sees no drift (STATE-02).
"""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
import subprocess
from typing import Any, Optional

import msgspec

from v6gap.harden.backup import HardenError

PROC_SYS = "/proc/sys"
NFT_TIMEOUT = 60.0


class SysctlWrite(msgspec.Struct, frozen=True):
    key: str
    path: str
    value: str


def parse_sysctl_conf(text: str) -> list[tuple[str, str]]:
    """``key = value`` lines in order (comments, blanks and a leading ``-`` dropped)."""
    entries: list[tuple[str, str]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;" or "=" not in line:
            continue
        key, value = (part.strip() for part in line.split("=", 1))
        entries.append((key.lstrip("-"), value))
    return entries


def _key_parts(key: str) -> list[str]:
    # sysctl.d(5): with a '/' present the separator is '/', and dots inside names stay dots.
    return key.split("/") if "/" in key else key.split(".")


def _key_from_parts(parts: list[str]) -> str:
    return ("/" if any("." in p for p in parts) else ".").join(parts)


def expand(
    entries: list[tuple[str, str]], proc_sys: str = PROC_SYS
) -> tuple[list[SysctlWrite], dict[str, str]]:
    """(what to write here, keys skipped with the reason), in file order."""
    explicit = {tuple(_key_parts(k)) for k, _ in entries if "*" not in k}
    writes: list[SysctlWrite] = []
    skipped: dict[str, str] = {}
    for key, value in entries:
        parts = _key_parts(key)
        if "*" not in key:
            path = os.path.join(proc_sys, *parts)
            if os.path.exists(path):
                writes.append(SysctlWrite(_key_from_parts(parts), path, value))
            else:
                skipped[key] = "not present in this network namespace (or IPv6 is off)"
            continue
        matched = _glob(proc_sys, parts)
        for found in matched:
            if tuple(found) not in explicit:
                writes.append(
                    SysctlWrite(_key_from_parts(found), os.path.join(proc_sys, *found), value)
                )
        if not matched:
            skipped[key] = "matches nothing here"
    return writes, skipped


def _glob(proc_sys: str, parts: list[str]) -> list[list[str]]:
    found: list[list[str]] = [[]]
    for part in parts:
        nxt: list[list[str]] = []
        for prefix in found:
            base = os.path.join(proc_sys, *prefix)
            if "*" not in part:
                nxt.append([*prefix, part])
                continue
            try:
                names = sorted(os.listdir(base))
            except OSError:
                continue
            nxt.extend([*prefix, n] for n in names if fnmatch.fnmatchcase(n, part))
        found = nxt
    return [p for p in found if os.path.isfile(os.path.join(proc_sys, *p))]


def read_sysctl(path: str) -> str:
    try:
        with open(path, encoding="ascii", errors="replace") as fh:
            return fh.read(4096).strip()
    except OSError as exc:
        raise HardenError(f"{path}: cannot read: {exc.strerror or exc}") from None


def write_sysctl(path: str, value: str) -> None:
    try:
        with open(path, "w", encoding="ascii") as fh:
            fh.write(value + "\n")
    except OSError as exc:
        raise HardenError(f"{path}: cannot write {value!r}: {exc.strerror or exc}") from None


# --------------------------------------------------------------------------- nftables


def nft_path() -> str:
    found = shutil.which("nft")
    if found is None:
        raise HardenError("nft not found: install nftables, or use --offline to write files only")
    return found


def _nft(args: list[str], stdin: Optional[str] = None) -> str:
    try:
        done = subprocess.run(
            [nft_path(), *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=NFT_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise HardenError(f"nft {' '.join(args)}: {exc}") from None
    if done.returncode != 0:
        first = next((ln for ln in done.stderr.splitlines() if "Error" in ln), done.stderr.strip())
        raise HardenError(f"nft {' '.join(args)} refused: {first.strip()[:300]}")
    return done.stdout


def list_ruleset() -> str:
    return _nft(["list", "ruleset"])


def list_table(table: str) -> Optional[str]:
    """``nft list table FAMILY NAME``, or None when there is no such table."""
    family, name = table.split()
    listed = _nft(["list", "tables", family])
    if f"table {family} {name}\n" not in listed + "\n":
        return None
    return _nft(["list", "table", family, name])


def load(text: str) -> None:
    """One ``nft -f`` transaction: all of ``text`` or, on any error, nothing."""
    _nft(["-f", "-"], stdin=text)


def restore_table(table: str, saved: Optional[str]) -> None:
    """Put ``table`` back as ``saved`` (None: it did not exist) in one transaction.

    Only the table apply replaced: reloading the whole listed ruleset (``flush ruleset``) would
    turn the tables of iptables-nft (ufw, Docker) into native rules that iptables-nft then
    refuses as incompatible, and would drop what other tools changed since.
    """
    load(f"table {table}\ndelete table {table}\n" + (saved or ""))


# --------------------------------------------------------------------------- IPv6 addresses

# Turning `disable_ipv6` on deletes every IPv6 address and route of the interface, and turning
# it off again brings back only the link-local ones: the static ones are kept here so that a
# rollback gives the host back its addresses (and the SSH session its path).
FOREVER = 4294967295


def _ip_json(args: list[str]) -> list[dict[str, Any]]:
    ip = shutil.which("ip")
    if ip is None:
        raise HardenError("ip (iproute2) not found: cannot save the IPv6 addresses")
    try:
        done = subprocess.run(
            [ip, "-j", "-6", *args], capture_output=True, text=True, timeout=30, check=True
        )
        data = json.loads(done.stdout or "[]")
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        raise HardenError(f"ip -6 {' '.join(args)}: {exc}") from None
    return [d for d in data if isinstance(d, dict)]


def static_ipv6() -> list[list[str]]:
    """``ip -6`` argument lists that re-create the static addresses, then the static routes."""
    commands: list[list[str]] = []
    for link in _ip_json(["addr", "show"]):
        for a in link.get("addr_info", []):
            lasting = a.get("valid_life_time") == FOREVER and not a.get("dynamic")
            if a.get("scope") in ("global", "site") and lasting:
                extra = [flag for flag in ("nodad", "noprefixroute") if a.get(flag)]
                commands.append(
                    ["addr", "replace", f"{a['local']}/{a['prefixlen']}", "dev",
                     link["ifname"], *extra]
                )  # fmt: skip
    for r in _ip_json(["route", "show"]):
        if r.get("protocol") in ("kernel", "ra") or "dev" not in r:
            continue
        via = ["via", r["gateway"]] if r.get("gateway") else []
        metric = ["metric", str(r["metric"])] if "metric" in r else []
        commands.append(["route", "replace", r["dst"], *via, "dev", r["dev"], *metric])
    return commands


def run_ip(args: list[str]) -> None:
    ip = shutil.which("ip") or "ip"
    done = subprocess.run([ip, "-6", *args], capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        raise HardenError(f"ip -6 {' '.join(args)}: {done.stderr.strip()}")
