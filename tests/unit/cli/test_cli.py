"""The command line as a user meets it: exit codes, one-line errors, outputs written whole."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

from tests.conftest import make_snapshot
from v6gap import snapshot_io
from v6gap.cli.main import main
from v6gap.model import Snapshot

ROOTS = Path(__file__).resolve().parents[2] / "fixtures" / "roots"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(argv))
    out, err = capsys.readouterr()
    code = exited.value.code
    return (code if isinstance(code, int) else 0), out, err


def headline_snapshot() -> Snapshot:
    """IPv4 locked down by iptables, IPv6 open, a dual-stack listener on 8080."""
    return make_snapshot(
        ipv6_proc=True,
        sysctl={"net.ipv6.conf.all.disable_ipv6": "0"},
        interfaces=[
            {
                "name": "eth0",
                "index": 2,
                "up": True,
                "addresses": [
                    {"family": "ipv6", "address": "2001:db8::10", "prefixlen": 64},
                    {"family": "ipv4", "address": "192.0.2.10", "prefixlen": 24},
                ],
            }
        ],
        sockets=[
            {"proto": "tcp", "family": "ipv6", "address": "::", "port": 8080, "v6only": False}
        ],
        firewall={
            "nft_json": '{"nftables": [{"metainfo": {"json_schema_version": 1}}]}',
            "saves": {
                "iptables-legacy-save": "*filter\n:INPUT DROP [0:0]\n:FORWARD ACCEPT [0:0]\n"
                ":OUTPUT ACCEPT [0:0]\n-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\nCOMMIT\n",
                "ip6tables-legacy-save": "",
            },
        },
    )


def write_snapshot(tmp_path: Path, snapshot: Snapshot) -> str:
    path = tmp_path / "snap.json"
    path.write_bytes(snapshot_io.dumps(snapshot))
    return str(path)


def test_version_and_help_on_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--version")
    assert code == 0 and "v6gap" in out
    for argv in (["--help"], ["audit", "--help"], ["snapshot", "--help"], ["lab", "--help"]):
        code, out, _ = run(capsys, *argv)
        assert code == 0 and "Usage:" in out, argv


def test_audit_snapshot_json_exit_1_on_critical(capsys: Any, tmp_path: Path) -> None:
    path = write_snapshot(tmp_path, headline_snapshot())
    code, out, err = run(capsys, "audit", "--snapshot", path, "--format", "json")
    assert code == 1, err
    doc = json.loads(out)
    assert doc["schema"] == "v6gap.report/1"
    assert doc["target"]["source"] == "snapshot"
    status = {f["id"]: f["status"] for f in doc["findings"]}
    assert status["V6G-FW-01"] == "fail"
    assert status["V6G-STATE-05"] == "fail"


def test_fail_on_threshold_controls_exit(capsys: Any, tmp_path: Path) -> None:
    clean = make_snapshot(ipv6_proc=True)
    path = write_snapshot(tmp_path, clean)
    code, _, _ = run(capsys, "audit", "--snapshot", path, "--fail-on", "critical")
    assert code == 0


def test_output_and_scan_targets_files(capsys: Any, tmp_path: Path) -> None:
    path = write_snapshot(tmp_path, headline_snapshot())
    report = tmp_path / "r.sarif"
    targets = tmp_path / "targets.txt"
    code, out, _ = run(
        capsys,
        "audit",
        "--snapshot",
        path,
        "--format",
        "sarif",
        "-o",
        str(report),
        "--scan-targets",
        str(targets),
    )
    assert code == 1 and out == ""
    assert json.loads(report.read_text())["version"] == "2.1.0"
    assert targets.read_text() == "2001:db8::10\n"


def test_snapshot_round_trips_unchanged(tmp_path: Path) -> None:
    snap = headline_snapshot()
    again = snapshot_io.load(write_snapshot(tmp_path, snap))
    assert again == snap
    assert msgspec.json.encode(again) == msgspec.json.encode(snap)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"schema": "v6gap.snapshot/1", "source": "li', "not valid JSON"),
        (b"[1, 2, 3]", "invalid snapshot"),
        (b'{"schema": "other/9"}', "unsupported snapshot schema"),
        (
            b'{"schema": "v6gap.snapshot/1", "source": "live", "hostname": "h", '
            b'"tool_version": "0", "collected_at": "t", "sysctl": {"a": [[[[1]]]]}}',
            "invalid",
        ),
        (
            b'{"schema": "v6gap.snapshot/1", "source": "live", "hostname": "h", '
            b'"tool_version": "0", "collected_at": "t", "evil": 1}',
            "unknown field",
        ),
        (b"[" * 100_000, "invalid snapshot"),
        (b'{"schema": "v6gap.snapshot/1", "x": ' + b"[" * 100_000, "not valid JSON"),
    ],
)
def test_bad_snapshot_is_one_line_exit_2(
    capsys: Any, tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    out_file = tmp_path / "report.json"
    code, out, err = run(capsys, "audit", "--snapshot", str(path), "-o", str(out_file))
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("v6gap: error: ")
    assert str(path) in err and message.lower() in err.lower(), err
    assert not out_file.exists()  # nothing written half-way


def test_counts_are_bounded(capsys: Any, tmp_path: Path) -> None:
    data = msgspec.json.decode(snapshot_io.dumps(make_snapshot()))
    data["processes"] = ["p"] * 200_001
    path = tmp_path / "big.json"
    path.write_bytes(msgspec.json.encode(data))
    code, _, err = run(capsys, "audit", "--snapshot", str(path))
    assert code == 2 and "more than 200000" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["audit", "--root", "/nonexistent/v6gap"], "--root /nonexistent/v6gap: no such directory"),
        (["audit", "--profile", "laptop"], "'laptop' is not one of"),
        (["audit", "--snapshot", "/nonexistent/snap.json"], "cannot read snapshot"),
        (["audit", "--netns", "v6g-does-not-exist"], "no such network namespace"),
        (["audit", "--format", "pdf"], "'pdf' is not one of"),
        (["audit", "--snapshot", "x.json", "--root", "/"], "cannot be combined"),
    ],
)
def test_bad_arguments_are_one_line_exit_2(capsys: Any, argv: list[str], message: str) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2, err
    assert out == ""
    assert err.count("\n") == 1, err
    assert message in err
    assert "Traceback" not in err


def test_audit_root_text_report(capsys: Any) -> None:
    code, out, err = run(capsys, "audit", "--root", str(ROOTS / "debian-12"))
    assert code == 1, err
    assert "V6G-NDP-01" in out and "source: root" in out
    assert "\x1b[" not in out  # no colour when not a terminal


@pytest.mark.parametrize("root", ["ubuntu-22.04", "rhel-9", "disable-grub"])
def test_real_reports_validate_against_their_schemas(capsys: Any, root: str) -> None:
    """Whole audits of image trees, not hand-made reports, against the report and SARIF schemas."""
    import jsonschema

    from tests.unit.report._helpers import sarif_schema
    from v6gap.report.json_report import load_schema

    _, out, _ = run(capsys, "audit", "--root", str(ROOTS / root), "--format", "json")
    doc = json.loads(out)
    jsonschema.Draft202012Validator(load_schema()).validate(doc)
    assert len(doc["findings"]) == 33
    _, out, _ = run(capsys, "audit", "--root", str(ROOTS / root), "--format", "sarif")
    jsonschema.Draft7Validator(sarif_schema()).validate(json.loads(out))
