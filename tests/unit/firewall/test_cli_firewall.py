"""``v6gap firewall`` commands, run through click (the lead wires them into cli/main.py)."""

from __future__ import annotations

import json

import click
import pytest

from tests.unit.firewall.rulesets import FIXTURES
from v6gap.cli.firewall import firewall
from v6gap.errors import InputError, RulesetError

SSH_ONLY = FIXTURES / "v4-ssh-only-v6-empty"
SEED = FIXTURES / "seed-option2"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code = firewall.main(args=list(argv), standalone_mode=False)
    assert code == 0
    return capsys.readouterr().out


def test_parity_json_and_text(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--iptables", str(SSH_ONLY / "iptables-save.txt")]
    data = json.loads(run(capsys, "parity", *args, "--format", "json"))
    first = data["differences"][0]
    assert (first["proto"], first["from_port"], first["to_port"], first["wider"]) == (
        "tcp",
        0,
        21,
        "ipv6",
    )
    text = run(capsys, "parity", *args)
    assert text.splitlines()[1].split() == ["tcp", "0-21", "drop", "accept", "ipv6"]
    same = run(capsys, "parity", "--nft", str(FIXTURES / "inet-policy-drop" / "nft.json"))
    assert same.startswith("IPv4 and IPv6 give new connections")


def test_explain(capsys: pytest.CaptureFixture[str]) -> None:
    nft = ["--nft", str(SEED / "nft.json")]
    data = json.loads(
        run(
            capsys,
            "explain",
            *nft,
            "--family",
            "6",
            "--proto",
            "icmpv6",
            "--icmp-type",
            "nd-router-advert",
            "--format",
            "json",
        )
    )
    assert data["verdict"] == "conditional" and data["accepted_sources"] == ["fe80::/10"]
    text = run(capsys, "explain", *nft, "--family", "4", "--proto", "tcp", "--dport", "8080")
    assert text.startswith("verdict: drop") and "handle 23 → drop" in text


def test_bad_input(capsys: pytest.CaptureFixture[str], tmp_path: object) -> None:
    with pytest.raises(click.UsageError):
        firewall.main(args=["parity"], standalone_mode=False)
    with pytest.raises(InputError, match="cannot read"):
        firewall.main(args=["parity", "--nft", "/nonexistent"], standalone_mode=False)
    with pytest.raises(InputError, match="not `nft -j list ruleset` JSON"):
        firewall.main(
            args=["parity", "--nft", str(FIXTURES / "sources" / "ip-only-drop.nft")],
            standalone_mode=False,
        )
    with pytest.raises(RulesetError):
        firewall.main(
            args=["parity", "--ip6tables", str(FIXTURES / "README.md")], standalone_mode=False
        )
    with pytest.raises(click.BadParameter):
        firewall.main(
            args=["explain", "--nft", str(SEED / "nft.json"), "--family", "6", "--proto", "bogus"],
            standalone_mode=False,
        )
