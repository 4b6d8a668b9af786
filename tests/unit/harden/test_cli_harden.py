"""``v6gap harden init`` and ``plan`` as a user meets them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import make_snapshot
from v6gap import snapshot_io
from v6gap.cli.main import main
from v6gap.harden.policy import load_policy
from v6gap.harden.render import NFTABLES_PATH, render

ROOTS = Path(__file__).resolve().parents[2] / "fixtures" / "roots"
EXAMPLE = Path(__file__).resolve().parents[3] / "docs" / "v6gap.example.yaml"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(argv))
    out, err = capsys.readouterr()
    code = exited.value.code
    return (code if isinstance(code, int) else 0), out, err


def test_plan_diffs_against_a_root_and_writes_nothing(capsys: Any, tmp_path: Path) -> None:
    root = tmp_path / "root"
    shutil.copytree(ROOTS / "debian-12", root, symlinks=True)
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    code, out, err = run(capsys, "harden", "plan", "--policy", str(EXAMPLE), "--root", str(root))
    assert (code, err) == (0, "")
    assert "# create: /etc/sysctl.d/60-v6gap.conf\n" in out
    # Debian's own nftables.conf is not v6gap's: the table goes into a drop-in beside it.
    assert "# create: /etc/nftables.d/v6gap.nft\n" in out
    assert "# replace: /etc/nftables.conf" not in out and "+++ b/etc/nftables.conf" not in out
    assert "--- /dev/null\n+++ b/etc/sysctl.d/60-v6gap.conf\n" in out
    assert "--- /dev/null\n+++ b/etc/nftables.d/v6gap.nft\n" in out
    assert "+table inet v6gap {\n" in out
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before


def test_plan_is_empty_when_the_files_are_in_place(capsys: Any, tmp_path: Path) -> None:
    for artefact in render(load_policy(str(EXAMPLE))):
        target = tmp_path / artefact.path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(artefact.content)
    code, out, _ = run(capsys, "harden", "plan", "--policy", str(EXAMPLE), "--root", str(tmp_path))
    assert code == 0
    assert "---" not in out and out.count("# unchanged: ") == 4


def test_plan_json_lists_files_and_contents(capsys: Any, tmp_path: Path) -> None:
    argv = ["harden", "plan", "--policy", str(EXAMPLE), "--root", str(tmp_path)]
    code, out, _ = run(capsys, *argv, "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert [f["action"] for f in data["files"]] == ["create"] * 4
    nft = next(f for f in data["files"] if f["path"] == NFTABLES_PATH)
    assert "table inet v6gap {" in nft["content"]


def test_bad_policy_is_one_line_exit_2(capsys: Any, tmp_path: Path) -> None:
    policy = tmp_path / "v6gap.yaml"
    policy.write_text("services:\n  - {port: 22}\n  - {port: 70000}\n")
    out_file = tmp_path / "plan.txt"
    argv = ["harden", "plan", "--policy", str(policy), "--root", str(tmp_path), "-o", str(out_file)]
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "")
    assert err == f"v6gap: error: {policy}: services[1].port: 70000 is not a port (1-65535)\n"
    assert not out_file.exists()


def test_init_keeps_network_facing_listeners_and_routers(capsys: Any, tmp_path: Path) -> None:
    snap = make_snapshot(
        sockets=[
            {"proto": "tcp", "family": "ipv6", "address": "::", "port": 22, "process": "sshd"},
            {"proto": "tcp", "family": "ipv4", "address": "0.0.0.0", "port": 22},
            {"proto": "udp", "family": "ipv4", "address": "192.0.2.10", "port": 53},
            {"proto": "tcp", "family": "ipv4", "address": "127.0.0.1", "port": 5432},
            {"proto": "tcp", "family": "ipv6", "address": "::1", "port": 6379},
        ],
        routes=[{"family": "ipv6", "dst": "default", "gateway": "fe80::1", "dev": "eth0"}],
    )
    snap_file = tmp_path / "snap.json"
    snap_file.write_bytes(snapshot_io.dumps(snap))
    policy_file = tmp_path / "v6gap.yaml"
    code, _, err = run(
        capsys, "harden", "init", "-o", str(policy_file), "--snapshot", str(snap_file)
    )
    assert (code, err) == (0, "")
    policy = load_policy(str(policy_file))
    assert [(s.proto, s.port) for s in policy.services] == [("tcp", 22), ("udp", 53)]
    assert policy.routers == ("fe80::1",)
    assert policy.profile.value == "server"


def test_init_sources_cannot_be_combined(capsys: Any, tmp_path: Path) -> None:
    out_file = tmp_path / "p.yaml"
    argv = ["harden", "init", "-o", str(out_file), "--root", str(tmp_path), "--netns", "x"]
    code, _, err = run(capsys, *argv)
    assert code == 2 and err.count("\n") == 1 and "cannot be combined" in err
    assert not out_file.exists()


def test_plan_lists_preflight_refusals(capsys: Any, tmp_path: Path) -> None:
    policy = tmp_path / "v6gap.yaml"
    policy.write_text("profile: disabled\n")
    root = str(ROOTS / "debian-12")  # its /etc/hosts maps localhost to ::1 first
    code, out, _ = run(capsys, "harden", "plan", "--policy", str(policy), "--root", root)
    assert code == 0
    assert "# refused: disabling IPv6 breaks ::1 users" in out
    assert "(apply needs --override ipv6-loopback-in-use)\n" in out
    argv = ["harden", "plan", "--policy", str(policy), "--root", root, "--format", "json"]
    code, out, _ = run(capsys, *argv)
    assert [r["code"] for r in json.loads(out)["refusals"]] == ["ipv6-loopback-in-use"]


def test_apply_refuses_an_unknown_override_before_anything(capsys: Any, tmp_path: Path) -> None:
    policy = tmp_path / "v6gap.yaml"
    policy.write_text("profile: server\n")
    argv = ["harden", "apply", "--policy", str(policy), "--root", str(tmp_path), "--offline"]
    code, out, err = run(capsys, *argv, "--override", "ssh-sesion-dropped")
    assert (code, out) == (2, "")
    assert err.startswith("v6gap: error: --override ssh-sesion-dropped: no such preflight check")
    assert err.count("\n") == 1
    assert list(tmp_path.iterdir()) == [policy]
