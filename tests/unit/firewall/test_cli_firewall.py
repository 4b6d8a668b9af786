"""``v6gap firewall`` commands, run through click (the lead wires them into cli/main.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import msgspec
import pytest

from tests.unit.firewall.rulesets import FIXTURES
from v6gap import snapshot_io
from v6gap.checks.lint import lint_snapshot
from v6gap.cli.firewall import firewall
from v6gap.errors import CollectError, InputError, RulesetError
from v6gap.model import Firewall, Snapshot

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
    # A conditional side says which sources it accepts, under its row.
    rows = run(capsys, "parity", "--nft", str(FIXTURES / "ip-only-drop" / "nft.json")).splitlines()
    assert rows[2].split() == ["tcp", "22", "conditional", "accept", "ipv6"]
    assert rows[3].startswith("  IPv4 accepts only from: 0.0.0.0/2, ")


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
    with pytest.raises(RulesetError, match=r"README\.md:\d+: Error: syntax error"):
        firewall.main(args=["parity", "--nft", str(FIXTURES / "README.md")], standalone_mode=False)
    with pytest.raises(click.UsageError, match="--include-dir only applies"):
        firewall.main(
            args=[
                "parity",
                "--iptables",
                str(SSH_ONLY / "iptables-save.txt"),
                "--include-dir",
                "/",
            ],
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


# --------------------------------------------------------------------------- lint and --netns


def lint(capsys: pytest.CaptureFixture[str], *argv: str, code: int = 0) -> str:
    assert firewall.main(args=["lint", *argv], standalone_mode=False) == code
    return capsys.readouterr().out


def test_lint_seed_finds_the_dead_echo_limit_and_the_unentered_chain(
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = json.loads(lint(capsys, "--nft", str(SEED / "nft.json"), "--format", "json"))
    status = {f["id"]: f["status"] for f in data["findings"]}
    assert set(status) == {
        "V6G-FW-04",
        "V6G-FW-05",
        "V6G-FW-06",
        "V6G-FW-07",
        "V6G-FW-08",
        "V6G-FW-09",
        "V6G-FW-11",
        "V6G-FW-12",
        "V6G-TUN-04",
    }
    assert status["V6G-FW-06"] == "fail" and status["V6G-FW-08"] == "fail"
    fw08 = next(f for f in data["findings"] if f["id"] == "V6G-FW-08")
    assert "ra_guard" in fw08["reason"]
    text = lint(capsys, "--nft", str(SEED / "nft.json"))
    assert "V6G-FW-06" in text and "assumed: V6G-FW-12" in text
    # The seed's failures are medium and low: --fail-on decides the exit status.
    lint(capsys, "--nft", str(SEED / "nft.json"), "--fail-on", "medium", code=1)


def test_lint_iptables_and_formats(capsys: pytest.CaptureFixture[str]) -> None:
    # FW-12 (high) fails: lint assumes forwarding on and nothing filters IPv6 forwarding.
    args = ["--iptables", str(SSH_ONLY / "iptables-save.txt"), "--fail-on", "critical"]
    sarif = json.loads(lint(capsys, *args, "--format", "sarif"))
    assert sarif["runs"][0]["tool"]["driver"]["name"] == "v6gap"
    junit = lint(capsys, *args, "--format", "junit")
    assert junit.lstrip().startswith("<?xml") or "<testsuite" in junit


def test_lint_snapshot_keeps_only_the_firewall(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    snap = _snapshot_of(SEED / "nft.json")
    path = tmp_path / "snap.json"
    path.write_bytes(snapshot_io.dumps(snap))
    data = json.loads(lint(capsys, "--snapshot", str(path), "--format", "json"))
    assert {f["id"]: f["status"] for f in data["findings"]}["V6G-FW-08"] == "fail"


def _snapshot_of(nft_file: Path) -> Snapshot:
    return lint_snapshot(Firewall(nft_json=nft_file.read_text()), {}, "test")


def test_netns_reads_the_namespace_snapshot(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []

    def fake_collect(name: str, version: str) -> dict[str, Any]:
        asked.append(name)
        data = msgspec.to_builtins(_snapshot_of(SEED / "nft.json"))
        assert isinstance(data, dict)
        return data

    monkeypatch.setattr("v6gap.collect.snapshot.collect_netns", fake_collect)
    out = run(capsys, "explain", "--netns", "v6g-x", "--family", "4", "--proto", "tcp")
    assert out.startswith("verdict:")
    data = json.loads(run(capsys, "parity", "--netns", "v6g-x", "--format", "json"))
    assert "differences" in data
    lint(capsys, "--netns", "v6g-x")
    assert asked == ["v6g-x"] * 3


def test_netns_errors(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(CollectError, match="no such network namespace"):
        firewall.main(args=["parity", "--netns", "v6g-absent-ns"], standalone_mode=False)
    with pytest.raises(click.UsageError, match="cannot be combined"):
        firewall.main(
            args=["lint", "--netns", "v6g-x", "--nft", str(SEED / "nft.json")],
            standalone_mode=False,
        )
    with pytest.raises(click.UsageError, match="cannot be combined"):
        firewall.main(
            args=["parity", "--netns", "v6g-x", "--snapshot", "x.json"], standalone_mode=False
        )
    with pytest.raises(click.UsageError, match="--netns NAME"):
        firewall.main(args=["lint"], standalone_mode=False)


# --------------------------------------------------------------------------- nft text and --live


def test_nft_text_file_is_read_like_its_json(capsys: pytest.CaptureFixture[str]) -> None:
    text = str(FIXTURES / "sources" / "seed-option2-with-ra-guard.nft")
    parity_of_text = json.loads(run(capsys, "parity", "--nft", text, "--format", "json"))
    parity_of_json = json.loads(
        run(capsys, "parity", "--nft", str(SEED / "nft.json"), "--format", "json")
    )
    assert [
        (d["proto"], d.get("from_port"), d.get("from_type"), d["ipv6"])
        for d in parity_of_text["differences"]
    ] == [
        (d["proto"], d.get("from_port"), d.get("from_type"), d["ipv6"])
        for d in parity_of_json["differences"]
    ]
    out = run(
        capsys, "explain", "--nft", text, "--family", "4", "--proto", "tcp", "--dport", "8080"
    )
    assert out.splitlines() == [
        "verdict: drop",
        f"  {text}: line 81: inet filter chain input handle 23 → drop",
    ]
    data = json.loads(lint(capsys, "--nft", text, "--format", "json"))
    found = {f["id"]: f for f in data["findings"]}
    assert found["V6G-FW-08"]["status"] == "fail"
    # The lint names the file and line of the rule, as explain does.
    assert found["V6G-FW-06"]["evidence"][0].startswith(
        f"{text}: line 37: inet filter chain input handle 10 [limit 10/second"
    )


def test_live_reads_this_hosts_ruleset_as_the_collector_does(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []

    def fake_collect(host: object) -> tuple[dict[str, Any], dict[str, str]]:
        seen.append(type(host).__name__)
        saves = {"iptables-save": (SSH_ONLY / "iptables-save.txt").read_text()}
        return {"firewall": {"saves": saves}}, {"nft": "nft: permission denied (run as root)"}

    monkeypatch.setattr("v6gap.collect.firewall.collect_firewall", fake_collect)
    data = json.loads(run(capsys, "parity", "--live", "--format", "json"))
    assert data["differences"][0]["from_port"] == 0
    assert any("nft not read (nft: permission denied" in n for n in data["notes"])
    report = json.loads(lint(capsys, "--live", "--format", "json"))
    assert report["target"]["source"] == "live"
    assert seen == ["Host", "Host"]


def test_live_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(
        click.UsageError, match="--nft/--iptables/--ip6tables and --live cannot be combined"
    ):
        firewall.main(
            args=["parity", "--live", "--nft", str(SEED / "nft.json")], standalone_mode=False
        )
    with pytest.raises(click.UsageError, match="--netns and --live cannot be combined"):
        firewall.main(
            args=["explain", "--live", "--netns", "v6g-x", "--family", "4", "--proto", "tcp"],
            standalone_mode=False,
        )

    def nothing(host: object) -> tuple[dict[str, Any], dict[str, str]]:
        return {"firewall": {"saves": {}}}, {
            "nft": "nft not installed",
            "iptables-save": "iptables-save not installed",
        }

    monkeypatch.setattr("v6gap.collect.firewall.collect_firewall", nothing)
    with pytest.raises(
        RulesetError,
        match=r"no live ruleset could be read \(iptables-save: iptables-save not installed; nft:",
    ):
        firewall.main(args=["lint", "--live"], standalone_mode=False)


def test_ruleset_files_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("v6gap.cli.firewall.MAX_RULESET_FILE", 100)
    with pytest.raises(RulesetError, match=r"nft\.json: ruleset file larger than 100 characters"):
        firewall.main(args=["parity", "--nft", str(SEED / "nft.json")], standalone_mode=False)


def test_include_dir_lets_an_nft_text_read_another_directory(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "ssh.nft").write_text("tcp dport 22 accept\n")
    main = tmp_path / "etc" / "main.nft"
    main.parent.mkdir()
    main.write_text(
        "table inet f {\n  chain input {\n    type filter hook input priority 0; policy drop;\n"
        f'    include "{shared / "ssh.nft"}"\n  }}\n}}\n'
    )
    args = ["explain", "--nft", str(main), "--family", "6", "--proto", "tcp", "--dport", "22"]
    with pytest.raises(RulesetError, match="--include-dir"):
        firewall.main(args=args, standalone_mode=False)
    out = run(capsys, *args, "--include-dir", str(shared))
    assert out.splitlines() == [
        "verdict: accept",
        f"  {shared / 'ssh.nft'}: line 1: inet f chain input handle 2 → accept",
    ]


def test_explain_daddr_decides_dockers_prerouting_drop(capsys: pytest.CaptureFixture[str]) -> None:
    """Docker drops packets for its container's address arriving from elsewhere in raw
    PREROUTING: from files alone the host's addresses are unknown, so the answer depends on it."""
    docker = FIXTURES / "docker-published-port-iptables"
    files = ["--iptables", str(docker / "iptables-save.txt")]
    files += ["--ip6tables", str(docker / "ip6tables-save.txt")]
    ask = [
        "explain",
        *files,
        "--family",
        "6",
        "--proto",
        "tcp",
        "--dport",
        "22",
        "--format",
        "json",
    ]
    assert json.loads(run(capsys, *ask))["verdict"] == "conditional"
    host = json.loads(run(capsys, *ask, "--daddr", "2001:db8::10"))
    assert host["verdict"] == "accept"
    container = json.loads(run(capsys, *ask, "--daddr", "fd49:efd7:54aa::1", "--iif", "eth0"))
    assert container["verdict"] == "drop"
    assert "-A PREROUTING -d fd49:efd7:54aa::1/128 ! -i br-dummy -j DROP" in str(container["trace"])
