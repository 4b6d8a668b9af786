"""An image's boot firewall: the ruleset its enabled services load, read from its own files.

An image has no live ruleset, but the one it boots with is in its files when the service that
loads it is enabled (`systemctl enable` leaves a link in a ``*.wants`` directory of
/etc/systemd/system; an image without that directory says nothing, so the ruleset is unknown):
nftables.service runs ``nft -f`` on its configuration (Debian ``/etc/nftables.conf``, RHEL
``/etc/sysconfig/nftables.conf``: the unit's ``ExecStart`` says which). The nft text is loaded
by nft into a private, throw-away network namespace (``v6gap.firewall.nft_text``), never into
this machine's. ufw (``ENABLED=yes``) and firewalld build theirs at boot through their own
programs, and netfilter-persistent through the image's iptables backend; v6gap does not rebuild
those from an image yet: the ruleset is then unknown, with the reason. With none of these
enabled the image boots with no ruleset at all: a definite answer, not missing data.

The only collector that leaves the standard library, and only for images: the nft text reader
comes from ``v6gap.firewall`` (imported here, lazily).
"""

from __future__ import annotations

import shlex
from typing import Dict, List, Optional, Set, Tuple

from v6gap.collect import Partial
from v6gap.collect.files import UFW_CONF, shell_assignments, ufw_enabled
from v6gap.collect.firewall import SAVE_COMMANDS
from v6gap.collect.host import Host

SYSTEMD_ETC = "/etc/systemd/system"
UNIT_DIRS = (SYSTEMD_ETC, "/usr/lib/systemd/system", "/lib/systemd/system")
NFT_DEFAULT = "/etc/nftables.conf"
NFT_UNIT = "nftables.service"
EMPTY_NFT = '{"nftables": [{"metainfo": {"json_schema_version": 1}}]}'


def parse_wants(dropin_text: str) -> List[str]:
    """The units a ``[Unit]`` drop-in's ``Wants=``/``Requires=`` lines pull in."""
    found: List[str] = []
    for line in dropin_text.splitlines():
        key, _, value = line.strip().partition("=")
        if key.strip() in ("Wants", "Requires"):
            found.extend(value.split())
    return found


def enabled_units(host: Host) -> Set[str]:
    """Units a target of /etc/systemd/system pulls in: ``*.wants``/``*.requires`` links (what
    ``systemctl enable`` writes) and ``Wants=`` in ``*.target.d`` drop-ins (what harden writes)."""
    found: Set[str] = set()
    try:
        entries = host.listdir(SYSTEMD_ETC)
    except OSError:
        return found
    for entry in entries:
        directory = f"{SYSTEMD_ETC}/{entry}"
        try:
            if entry.endswith((".wants", ".requires")):
                found.update(host.listdir(directory))
            elif entry.endswith(".target.d"):
                for name in host.listdir(directory):
                    if name.endswith(".conf"):
                        found.update(parse_wants(host.read_text(f"{directory}/{name}")))
        except (OSError, ValueError):
            continue
    return found


def parse_exec_start(unit_text: str) -> Optional[str]:
    """The file an ``ExecStart=… nft -f FILE`` loads, or None."""
    for line in unit_text.splitlines():
        key, _, value = line.strip().partition("=")
        if key.strip() != "ExecStart":
            continue
        try:
            words = shlex.split(value.lstrip("-@:+!"))
        except ValueError:
            continue
        if words and words[0].endswith("nft"):
            for flag, arg in zip(words, words[1:]):
                if flag in ("-f", "--file"):
                    return arg
    return None


def nft_loaders(host: Host, units: Set[str]) -> List[Tuple[str, str]]:
    """(unit, file) for each enabled unit that runs ``nft -f FILE``, nftables.service first
    (units that load a table beside it order themselves after it)."""
    loaders: List[Tuple[str, str]] = []
    for unit in sorted(units, key=lambda u: (u != NFT_UNIT, u)):
        if not unit.endswith(".service"):
            continue
        for directory in UNIT_DIRS:
            try:
                found = parse_exec_start(host.read_text(f"{directory}/{unit}"))
            except (OSError, ValueError):
                continue
            if found:
                loaders.append((unit, found))
            break
        else:
            if unit == NFT_UNIT:  # enabled, its unit file not in the image: Debian's default
                loaders.append((unit, NFT_DEFAULT))
    return loaders


def _owners(host: Host, units: Set[str]) -> List[str]:
    owners = []
    # ufw's unit is enabled when the package is installed; ENABLED= in ufw.conf decides.
    try:
        if ufw_enabled(shell_assignments(host.read_text(UFW_CONF), {})) is not None:
            owners.append("ufw (ENABLED=yes)")
    except FileNotFoundError:
        pass
    except (OSError, ValueError):
        owners.append("ufw (its ufw.conf cannot be read)")
    if "firewalld.service" in units:
        owners.append("firewalld")
    if "netfilter-persistent.service" in units:
        # iptables-restore goes through the image's backend (iptables-nft on Debian 12), whose
        # tables the live host shows as nft xt expressions plus a save dump: not rebuilt here.
        owners.append("netfilter-persistent (/etc/iptables/rules.v4, rules.v6)")
    return owners


def _nft_json(host: Host, loaders: List[Tuple[str, str]]) -> Tuple[Optional[str], Optional[str]]:
    from v6gap.errors import RulesetError
    from v6gap.firewall.nft_text import files_to_json

    what = ", ".join(f"{path} (by {unit})" for unit, path in loaders)
    try:
        return files_to_json([host.resolve(p) for _, p in loaders], image=host.root), None
    except RulesetError as exc:
        return None, f"image: loading {what}: {exc}"
    except OSError as exc:
        return None, f"image: loading {what}: {exc.strerror or exc}"


def _unknown(reason: str) -> Partial:
    return {}, dict.fromkeys(("nft", *SAVE_COMMANDS), reason)


def collect_boot_firewall(host: Host) -> Partial:
    """``firewall`` as the image boots it, with ``boot`` naming what loads it."""
    if not host.is_dir(SYSTEMD_ETC):
        reason = f"image: no {SYSTEMD_ETC}, so which services load a ruleset at boot is unknown"
        return _unknown(reason)
    units = enabled_units(host)
    owners = _owners(host, units)
    if owners:
        reason = (
            f"image: {' and '.join(owners)} builds the boot ruleset with its own program, "
            "which v6gap does not run from an image"
        )
        return _unknown(reason)
    missing: Dict[str, str] = {}
    # Nothing else restores rules at boot (netfilter-persistent is an owner above): empty dumps.
    firewall: Dict[str, object] = {"saves": dict.fromkeys(SAVE_COMMANDS, "")}
    loaders = nft_loaders(host, units)
    if loaders:
        nft_json, problem = _nft_json(host, loaders)
        if nft_json is not None:
            firewall["nft_json"] = nft_json
        else:
            missing["nft"] = str(problem)
        firewall["boot"] = "; ".join(f"{unit} loads {path}" for unit, path in loaders)
    else:
        firewall["nft_json"] = EMPTY_NFT
        firewall["boot"] = "no firewall service is enabled in the image"
    return {"firewall": firewall}, missing
