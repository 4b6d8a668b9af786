"""firewall.py on the command outputs recorded in the lab namespace."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Dict

import pytest

from v6gap.collect.firewall import (
    SAVE_COMMANDS,
    collect_firewall,
    failure_reason,
    save_backend,
    validate_nft_json,
)
from v6gap.collect.host import Host

from .treehost import Answer, TreeHost, recorded_commands

RECORDED_COMMANDS = recorded_commands("netns", "commands.json")
NFT = "nft -j list ruleset"


def _host(**changes: Answer) -> TreeHost:
    commands: Dict[str, Answer] = dict(RECORDED_COMMANDS)
    commands.update({k.replace("_", " "): v for k, v in changes.items()})
    return TreeHost(Path("/nonexistent"), commands)


def test_recorded_ruleset_is_passed_through_untouched() -> None:
    host = _host()
    fields, missing = collect_firewall(host)
    assert missing == {}
    assert fields["firewall"]["nft_json"] == RECORDED_COMMANDS[NFT][1]
    tables = [e["table"] for e in json.loads(fields["firewall"]["nft_json"])["nftables"]
              if "table" in e]  # fmt: skip
    assert {"family": "inet", "name": "v6g_lab"} in [
        {"family": t["family"], "name": t["name"]} for t in tables
    ]
    saves = fields["firewall"]["saves"]
    assert set(saves) == set(SAVE_COMMANDS)
    assert "-A INPUT -p tcp -m tcp --dport 8443 -j ACCEPT" in saves["ip6tables-save"]
    assert ["iptables-nft-save"] not in host.calls  # plain names are the nft backend here


def test_legacy_plain_names_add_the_nft_variants() -> None:
    host = _host(**{
        "iptables-save --version": (0, "iptables-save v1.8.9 (legacy)\n", ""),
        "iptables-nft-save": (0, "*filter\n:INPUT DROP [0:0]\nCOMMIT\n", ""),
    })  # fmt: skip
    fields, missing = collect_firewall(host)
    assert fields["firewall"]["saves"]["iptables-nft-save"].startswith("*filter")
    assert "ip6tables-nft-save" not in fields["firewall"]["saves"]
    assert missing == {}


def test_missing_tools_are_named() -> None:
    host = TreeHost(Path("/nonexistent"), {"iptables-save": (0, "", "")})
    fields, missing = collect_firewall(host)
    assert fields["firewall"] == {"saves": {"iptables-save": ""}}
    assert missing == {
        "nft": "nft not installed",
        "ip6tables-save": "ip6tables-save not installed",
        "iptables-legacy-save": "iptables-legacy-save not installed",
        "ip6tables-legacy-save": "ip6tables-legacy-save not installed",
    }


def test_nft_permission_error_says_run_as_root() -> None:
    denied = (1, "", "netlink: Error: cache initialization failed: Operation not permitted")
    fields, missing = collect_firewall(_host(**{NFT: denied}))
    assert "nft_json" not in fields["firewall"]
    assert missing["nft"] == "nft: permission denied (run as root)"


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ((0, '{"nftables": [', ""), "nft -j output is not JSON"),
        ((0, '{"metainfo": {}}', ""), "nft -j output has no 'nftables' list"),
        ((1, "", "Error: syntax error\nmore"), "nft exited with status 1: Error: syntax error"),
        (subprocess.TimeoutExpired(["nft"], 180), "nft did not finish within 180 s"),
    ],
)
def test_broken_nft_output_is_unavailable_with_reason(answer: Answer, reason: str) -> None:
    fields, missing = collect_firewall(_host(**{NFT: answer}))
    assert "nft_json" not in fields["firewall"]
    assert missing["nft"].startswith(reason)


def test_validate_nft_json() -> None:
    assert validate_nft_json(RECORDED_COMMANDS[NFT][1]) is None
    assert validate_nft_json('{"nftables": []}') is None
    assert validate_nft_json("[]") == "nft -j output has no 'nftables' list"
    assert validate_nft_json('{"nftables": {}}') == "nft -j output has no 'nftables' list"


@pytest.mark.parametrize(
    ("output", "backend"),
    [
        ("iptables-save v1.8.9 (legacy)\n", "legacy"),
        ("ip6tables-save v1.8.9 (nf_tables)\n", "nf_tables"),
        ("iptables-save v1.4.21\n", None),
    ],
)
def test_save_backend(output: str, backend: str) -> None:
    assert save_backend(output) == backend


def test_failure_reason() -> None:
    assert failure_reason("ip6tables-save", 1, "ip6tables-save: Permission denied (you must be "
                          "root)") == "ip6tables-save: permission denied (run as root)"  # fmt: skip
    assert failure_reason("nft", 2, "") == "nft exited with status 2: no message"


def test_image_without_systemd_dirs_has_an_unknown_boot_ruleset(tmp_path: Path) -> None:
    """No tool of this machine is asked about an image; what its boot loads: test_boot_firewall."""
    fields, missing = collect_firewall(Host(root=str(tmp_path)))
    assert fields == {}
    assert set(missing) == {"nft", *SAVE_COMMANDS}
    assert all("which services load a ruleset at boot is unknown" in r for r in missing.values())
