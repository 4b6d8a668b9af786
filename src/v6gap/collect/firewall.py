"""The live rulesets as their tools print them: ``nft -j list ruleset`` and the ``*-save`` dumps.

Nothing here parses rules (``v6gap.firewall`` does); the nft output is only checked to be the
JSON that libnftables-json(5) describes, so a broken or truncated dump is reported, not passed on.
"""

from __future__ import annotations

import json
import subprocess
from typing import Dict, List, Optional, Tuple

from v6gap.collect import Partial
from v6gap.collect.host import Host

NFT_ARGV = ["nft", "-j", "list", "ruleset"]
NFT_TIMEOUT = 180.0  # nft -j on 200k rules takes well over the default 20 s
SAVE_TIMEOUT = 60.0
SAVE_COMMANDS = (
    "iptables-save",
    "ip6tables-save",
    "iptables-legacy-save",
    "ip6tables-legacy-save",
)
# On Debian the plain names are alternatives for the nft backend; when they point to the legacy
# backend instead, the nft-backed tables are read with these.
NFT_VARIANTS = {"iptables-save": "iptables-nft-save", "ip6tables-save": "ip6tables-nft-save"}


# --------------------------------------------------------------------------- pure parsers


def validate_nft_json(text: str) -> Optional[str]:
    """None when ``text`` is an ``nft -j`` dump (an object with a ``nftables`` list), else why."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        return f"nft -j output is not JSON ({exc})"
    if not isinstance(data, dict) or not isinstance(data.get("nftables"), list):
        return "nft -j output has no 'nftables' list"
    return None


def save_backend(version_output: str) -> Optional[str]:
    """``legacy`` or ``nf_tables`` from ``iptables-save --version`` (``… v1.8.9 (legacy)``)."""
    if "(legacy)" in version_output:
        return "legacy"
    if "(nf_tables)" in version_output:
        return "nf_tables"
    return None


def failure_reason(command: str, status: int, stderr: str) -> str:
    """A reason for a failed firewall tool run that says what to do."""
    lowered = stderr.lower()
    if "permission denied" in lowered or "operation not permitted" in lowered:
        return f"{command}: permission denied (run as root)"
    detail = stderr.splitlines()[0] if stderr else "no message"
    return f"{command} exited with status {status}: {detail}"


# --------------------------------------------------------------------------- collector


def _run(host: Host, argv: List[str], timeout: float) -> Tuple[Optional[str], Optional[str]]:
    """(stdout, None) or (None, reason)."""
    try:
        status, out, err = host.run(argv, timeout=timeout)
    except FileNotFoundError:
        return None, f"{argv[0]} not installed"
    except subprocess.TimeoutExpired:
        return None, f"{argv[0]} did not finish within {timeout:.0f} s"
    except OSError as exc:
        return None, f"{argv[0]}: {exc.strerror or exc}"
    if status != 0:
        return None, failure_reason(argv[0], status, err)
    return out, None


def _save_commands(host: Host) -> List[str]:
    commands = list(SAVE_COMMANDS)
    for plain, nft_variant in NFT_VARIANTS.items():
        version, _ = _run(host, [plain, "--version"], SAVE_TIMEOUT)
        if version is not None and save_backend(version) == "legacy":
            commands.append(nft_variant)
    return commands


def collect_firewall(host: Host) -> Partial:
    """``firewall`` = {``nft_json``, ``saves``}; unreadable parts under ``nft`` / the command."""
    if host.is_image:
        from v6gap.collect.boot_firewall import collect_boot_firewall

        return collect_boot_firewall(host)
    missing: Dict[str, str] = {}
    firewall: Dict[str, object] = {}
    nft_out, problem = _run(host, NFT_ARGV, NFT_TIMEOUT)
    if nft_out is not None:
        problem = validate_nft_json(nft_out)
        if problem is None:
            firewall["nft_json"] = nft_out
    if problem is not None:
        missing["nft"] = problem
    saves: Dict[str, str] = {}
    for command in _save_commands(host):
        out, problem = _run(host, [command], SAVE_TIMEOUT)
        if out is not None:
            saves[command] = out
        elif problem is not None:
            missing[command] = problem
    firewall["saves"] = saves
    return {"firewall": firewall}, missing
