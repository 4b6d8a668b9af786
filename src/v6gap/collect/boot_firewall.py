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

import re
import shlex
from typing import Dict, List, Optional, Set, Tuple

from v6gap.collect import Partial
from v6gap.collect.host import Host

SYSTEMD_ETC = "/etc/systemd/system"
UNIT_DIRS = (SYSTEMD_ETC, "/usr/lib/systemd/system", "/lib/systemd/system")
NFT_DEFAULT = "/etc/nftables.conf"
EMPTY_NFT = '{"nftables": [{"metainfo": {"json_schema_version": 1}}]}'
SAVES = ("iptables-save", "ip6tables-save", "iptables-legacy-save", "ip6tables-legacy-save")
_ENABLED_YES = re.compile(r"^\s*ENABLED\s*=\s*[\"']?yes[\"']?\s*$", re.MULTILINE | re.IGNORECASE)


def enabled_units(host: Host) -> Set[str]:
    """Units linked into a ``*.wants`` or ``*.requires`` directory of /etc/systemd/system."""
    found: Set[str] = set()
    try:
        entries = host.listdir(SYSTEMD_ETC)
    except OSError:
        return found
    for entry in entries:
        if not entry.endswith((".wants", ".requires")):
            continue
        try:
            found.update(host.listdir(f"{SYSTEMD_ETC}/{entry}"))
        except OSError:
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


def nft_config(host: Host) -> str:
    """The configuration nftables.service loads: its unit's ``ExecStart``, else Debian's."""
    for directory in UNIT_DIRS:
        try:
            found = parse_exec_start(host.read_text(f"{directory}/nftables.service"))
        except (OSError, ValueError):
            continue
        if found:
            return found
    return NFT_DEFAULT


def _owners(host: Host, units: Set[str]) -> List[str]:
    owners = []
    # ufw's unit is enabled when the package is installed; ENABLED= in ufw.conf decides.
    try:
        if _ENABLED_YES.search(host.read_text("/etc/ufw/ufw.conf")):
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


def _nft_json(host: Host) -> Tuple[Optional[str], Optional[str]]:
    from v6gap.errors import RulesetError
    from v6gap.firewall.nft_text import text_to_json

    path = nft_config(host)
    try:
        return text_to_json(host.resolve(path), image=host.root), None
    except RulesetError as exc:
        return None, f"image: {path}, loaded by nftables.service: {exc}"
    except OSError as exc:
        return None, f"image: {path}, loaded by nftables.service: {exc.strerror or exc}"


def collect_boot_firewall(host: Host) -> Partial:
    """``firewall`` as the image boots it, with ``boot`` naming what loads it."""
    if not host.is_dir(SYSTEMD_ETC):
        reason = f"image: no {SYSTEMD_ETC}, so which services load a ruleset at boot is unknown"
        return {}, {name: reason for name in ("nft", *SAVES)}
    units = enabled_units(host)
    owners = _owners(host, units)
    if owners:
        reason = (
            f"image: {' and '.join(owners)} builds the boot ruleset with its own program, "
            "which v6gap does not run from an image"
        )
        return {}, {name: reason for name in ("nft", *SAVES)}
    missing: Dict[str, str] = {}
    # Nothing else restores rules at boot (netfilter-persistent is an owner above): empty dumps.
    firewall: Dict[str, object] = {"saves": dict.fromkeys(SAVES, "")}
    if "nftables.service" in units:
        nft_json, problem = _nft_json(host)
        if nft_json is not None:
            firewall["nft_json"] = nft_json
        else:
            missing["nft"] = str(problem)
        firewall["boot"] = f"nftables.service loads {nft_config(host)}"
    else:
        firewall["nft_json"] = EMPTY_NFT
        firewall["boot"] = "no firewall service is enabled in the image"
    return {"firewall": firewall}, missing
