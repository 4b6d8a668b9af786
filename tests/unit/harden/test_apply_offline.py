"""``harden apply --offline``, ``confirm`` and ``rollback`` on image trees: files only, no network.

The runtime part (sysctls, ruleset, timer) is proven in tests/lab/test_harden_apply.py.
"""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.unit.harden.test_cli_harden import EXAMPLE, ROOTS, run
from v6gap.harden.apply import in_initial_netns
from v6gap.harden.backup import list_backups, read_manifest, write_manifest
from v6gap.harden.owner import BOOT_WANTS_PATH, DROPIN_PATH, WANTS_PATH
from v6gap.harden.render import NFTABLES_PATH, RETIRED, SYSCTL_PATH


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def dirs(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_dir()}


def image(tmp_path: Path, name: str = "debian-12") -> Path:
    root = tmp_path / "root"
    shutil.copytree(ROOTS / name, root, symlinks=True)
    return root


def planned(capsys: Any, root: Path, policy: Path = EXAMPLE) -> dict[str, str]:
    argv = ["harden", "plan", "--policy", str(policy), "--root", str(root), "--format", "json"]
    code, out, _ = run(capsys, *argv)
    assert code == 0
    return {f["path"]: f["content"] for f in json.loads(out)["files"]}


def test_offline_apply_writes_the_plan_then_changes_nothing(capsys: Any, tmp_path: Path) -> None:
    root = image(tmp_path)
    (root / "etc/nftables.conf").chmod(0o750)
    want = planned(capsys, root)
    argv = ["harden", "apply", "--policy", str(EXAMPLE), "--root", str(root), "--offline"]
    code, out, err = run(capsys, *argv)
    assert (code, err) == (0, ""), out
    for path, content in want.items():
        assert (root / path.lstrip("/")).read_bytes() == content.encode(), path
    [backup_id] = list_backups(str(root))
    manifest = read_manifest(str(root / "var/lib/v6gap/backups" / backup_id))
    assert manifest.state == "applied" and manifest.offline and manifest.timer is None
    assert not manifest.sysctls and not manifest.ruleset_saved
    assert f"backup {backup_id}: " in out and "offline: files only" in out
    assert "checks the policy covers pass: V6G-NDP-01, V6G-NDP-02, V6G-NDP-03" in out
    code, again, _ = run(capsys, *argv)
    assert code == 0 and again.startswith("nothing to change: the files already match")
    assert list_backups(str(root)) == [backup_id]  # no new backup


def test_rollback_restores_byte_identical_files_mode_and_tree(capsys: Any, tmp_path: Path) -> None:
    root = image(tmp_path)
    (root / "etc/nftables.conf").chmod(0o750)
    before, before_dirs = tree(root), dirs(root)
    mode = (root / "etc/nftables.conf").stat().st_mode
    argv = ["harden", "apply", "--policy", str(EXAMPLE), "--root", str(root), "--offline"]
    assert run(capsys, *argv)[0] == 0
    [backup_id] = list_backups(str(root))
    code, out, _ = run(capsys, "harden", "rollback", backup_id, "--root", str(root))
    assert code == 0 and out.startswith(f"rolled back backup {backup_id}: ")
    backups = "var/lib/v6gap"
    after = {k: v for k, v in tree(root).items() if not k.startswith(backups)}
    assert after == before
    assert {d for d in dirs(root) if not d.startswith(("var", backups))} == before_dirs
    assert (root / "etc/nftables.conf").stat().st_mode == mode
    manifest = read_manifest(str(root / backups / "backups" / backup_id))
    assert manifest.state == "rolled-back"


def test_apply_into_an_empty_root_then_rollback_leaves_it_empty(
    capsys: Any, tmp_path: Path
) -> None:
    argv = ["harden", "apply", "--policy", str(EXAMPLE), "--root", str(tmp_path), "--offline"]
    assert run(capsys, *argv)[0] == 0
    assert (tmp_path / NFTABLES_PATH.lstrip("/")).is_file()
    assert run(capsys, "harden", "rollback", "--root", str(tmp_path))[0] == 0
    assert [p.name for p in tmp_path.iterdir()] == ["var"]  # only the backups stay


def apply_with_file_limit(policy: Path, root: Path, limit: int) -> subprocess.CompletedProcess[str]:
    """``apply --offline`` where no file may grow past ``limit`` bytes (EFBIG, like ENOSPC)."""
    argv = ["harden", "apply", "--policy", str(policy), "--root", str(root), "--offline"]

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))

    return subprocess.run(
        [sys.executable, "-m", "v6gap", *argv],
        capture_output=True,
        text=True,
        preexec_fn=small_files,
        timeout=120,
        check=False,
    )


def test_a_backup_that_cannot_be_written_changes_nothing(tmp_path: Path) -> None:
    root = image(tmp_path)
    before = tree(root)
    done = apply_with_file_limit(EXAMPLE, root, 100)  # the manifest does not fit
    assert done.returncode == 2 and done.stdout == "", done.stdout + done.stderr
    assert done.stderr.count("\n") == 1 and "nothing was changed" in done.stderr
    assert "File too large" in done.stderr
    assert {k: v for k, v in tree(root).items() if not k.startswith("var/")} == before
    assert list_backups(str(root)) == []  # no manifest: not a backup


def test_disk_full_midway_restores_the_previous_files(capsys: Any, tmp_path: Path) -> None:
    """A write that fails after two files went in (RLIMIT_FSIZE: EFBIG, as a full disk would)."""
    policy = tmp_path / "many.yaml"
    policy.write_text("services:\n" + "".join(f"  - {{port: {p}}}\n" for p in range(2000, 2400)))
    root = tmp_path / "root"
    root.mkdir()
    want = planned(capsys, root, policy)
    limit = len(want[NFTABLES_PATH]) - 1
    assert len(want[SYSCTL_PATH]) < limit // 2  # the first files and the manifest fit
    done = apply_with_file_limit(policy, root, limit)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert (
        "apply failed: " in done.stderr and "the previous files and sysctls are back" in done.stderr
    )
    assert [p.name for p in root.iterdir()] == ["var"]
    [backup_id] = list_backups(str(root))
    manifest = read_manifest(str(root / "var/lib/v6gap/backups" / backup_id))
    assert manifest.state == "failed"
    assert any("File too large" in h for h in manifest.history), manifest.history


def test_runtime_apply_with_root_refused_in_the_hosts_namespace(
    capsys: Any, tmp_path: Path
) -> None:
    assert in_initial_netns(), "this test must run in the host's own network namespace"
    code, out, err = run(
        capsys, "harden", "apply", "--policy", str(EXAMPLE), "--root", str(tmp_path)
    )
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and "add --offline" in err
    assert list(tmp_path.iterdir()) == []


def test_confirm_and_rollback_errors_are_one_line(capsys: Any, tmp_path: Path) -> None:
    code, _, err = run(capsys, "harden", "confirm", "--root", str(tmp_path))
    assert code == 2 and err.count("\n") == 1 and "nothing to confirm" in err
    code, _, err = run(capsys, "harden", "rollback", "--root", str(tmp_path))
    assert code == 2 and err.count("\n") == 1 and "no backup" in err
    code, _, err = run(capsys, "harden", "rollback", "20200101T000000Z", "--root", str(tmp_path))
    assert code == 2 and err.count("\n") == 1 and "no such backup" in err
    code, _, err = run(capsys, "harden", "apply", "--policy", str(EXAMPLE), "--offline",
                       "--root", str(tmp_path), "--confirm-timeout", "0")  # fmt: skip
    assert code == 2 and err.count("\n") == 1 and "--confirm-timeout" in err
    bad = tmp_path.parent / f"{tmp_path.name}-bad.yaml"
    bad.write_text("services: [{port: 70000}]\nfoo: 1\n")
    code, _, err = run(capsys, "harden", "apply", "--policy", str(bad), "--offline", "--root",
                       str(tmp_path))  # fmt: skip
    assert code == 2 and err.count("\n") == 1 and str(bad) in err
    assert list(tmp_path.iterdir()) == []


def test_two_applies_at_once_make_one_backup(tmp_path: Path) -> None:
    """Applies take a lock on the backups directory: the second finds nothing left to change."""
    root = image(tmp_path)
    argv = [sys.executable, "-m", "v6gap", "harden", "apply", "--policy", str(EXAMPLE),
            "--root", str(root), "--offline"]  # fmt: skip
    procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert sorted(o.startswith("nothing to change") for o in outs) == [False, True], outs
    assert len(list_backups(str(root))) == 1


def test_rollback_of_an_older_backup_waits_for_a_pending_one(capsys: Any, tmp_path: Path) -> None:
    root = image(tmp_path)
    argv = ["harden", "apply", "--policy", str(EXAMPLE), "--root", str(root), "--offline"]
    assert run(capsys, *argv)[0] == 0
    [older] = list_backups(str(root))
    (root / SYSCTL_PATH.lstrip("/")).write_text("# changed by hand\n")
    assert run(capsys, *argv)[0] == 0
    newer = list_backups(str(root))[-1]
    path = str(root / "var/lib/v6gap/backups" / newer)
    manifest = read_manifest(path)
    manifest.state = "pending"  # as a live apply leaves it until confirmed
    write_manifest(path, manifest)
    code, _, err = run(capsys, "harden", "rollback", older, "--root", str(root))
    assert code == 2 and err.count("\n") == 1 and f"backup {newer} is pending" in err
    assert run(capsys, "harden", "rollback", newer, "--root", str(root))[0] == 0
    assert (root / SYSCTL_PATH.lstrip("/")).read_text() == "# changed by hand\n"


def _boot_audit(root: Path) -> dict[str, str]:
    from v6gap import __version__
    from v6gap.checks.run import run_checks
    from v6gap.collect.snapshot import collect_root
    from v6gap.model import Profile
    from v6gap.snapshot_io import from_data

    snap = from_data(collect_root(str(root), __version__), "image")
    assert snap.firewall.boot is not None
    report = run_checks(snap, Profile.SERVER)
    return {f.id: f.status.value for f in report.findings} | {"boot": snap.firewall.boot}


def test_an_image_hardened_offline_boots_with_the_table(capsys: Any, tmp_path: Path) -> None:
    """The files alone make the boot ruleset: the image's audit judges it (real nft, private
    namespace) and the ruleset checks the policy covers pass, both ways v6gap loads it."""
    for name, loader in (
        ("debian-12", "v6gap-nftables.service loads /etc/nftables.d/v6gap.nft"),  # stock file
        ("", "nftables.service loads /etc/nftables.conf"),  # no nftables.conf: v6gap's own
    ):
        if name:
            root = image(tmp_path / name, name)
        else:
            root = tmp_path / "bare"
            (root / "etc").mkdir(parents=True)
            (root / "etc/hostname").write_text("bare\n")
        argv = ["harden", "apply", "--policy", str(EXAMPLE), "--root", str(root), "--offline"]
        code, out, err = run(capsys, *argv)
        assert (code, err) == (0, ""), out
        assert "V6G-FW-02" in out.split("checks the policy covers pass: ")[1].splitlines()[0]
        judged = _boot_audit(root)
        assert judged["boot"] == loader
        for check_id in ("V6G-FW-01", "V6G-FW-02", "V6G-FW-03", "V6G-FW-04", "V6G-FW-12"):
            assert judged[check_id] == "pass", (name, check_id)


def test_files_of_where_the_table_lived_before_are_emptied(capsys: Any, tmp_path: Path) -> None:
    """Another tool takes the main ruleset over between two applies, then gives it back: each
    time the v6gap files of the earlier place are emptied (or an older table would load at boot
    beside the new one), a rollback gives them back, and files v6gap did not write stay."""
    root = tmp_path / "bare"
    (root / "etc/ufw").mkdir(parents=True)
    (root / "etc/hostname").write_text("bare\n")
    argv = ["harden", "apply", "--policy", str(EXAMPLE), "--root", str(root), "--offline"]
    assert run(capsys, *argv)[0] == 0  # v6gap's table in /etc/nftables.conf
    main = (root / "etc/nftables.conf").read_text()
    boot_wants = root / BOOT_WANTS_PATH.lstrip("/")
    assert boot_wants.read_text().endswith("Wants=nftables.service\n")
    (root / "etc/ufw/ufw.conf").write_text("ENABLED=yes\n")  # ufw owns the ruleset now
    before = tree(root)
    want = planned(capsys, root)
    assert list(want)[-2:] == [NFTABLES_PATH, BOOT_WANTS_PATH]  # last: after the table's file
    assert run(capsys, *argv)[0] == 0
    assert (root / DROPIN_PATH.lstrip("/")).read_text().startswith("#!/usr/sbin/nft -f")
    for path in (NFTABLES_PATH, BOOT_WANTS_PATH):
        text = (root / path.lstrip("/")).read_text()
        assert text == f"{RETIRED}: the inet v6gap table is in {DROPIN_PATH}.\n", path
    code, out, _ = run(capsys, "harden", "rollback", "--root", str(root))
    assert code == 0, out

    def outside_backups(files: dict[str, bytes]) -> dict[str, bytes]:
        return {p: data for p, data in files.items() if not p.startswith("var/lib/v6gap")}

    assert outside_backups(tree(root)) == outside_backups(before)
    assert (root / "etc/nftables.conf").read_text() == main
    # ufw off again: v6gap takes the main file back and empties its drop-in's files.
    assert run(capsys, *argv)[0] == 0  # the drop-in arrangement again (ufw still on)
    (root / "etc/ufw/ufw.conf").write_text("ENABLED=no\n")
    assert run(capsys, *argv)[0] == 0
    for path in (DROPIN_PATH, WANTS_PATH):
        assert (root / path.lstrip("/")).read_text().startswith(RETIRED), path
    assert (root / "etc/nftables.conf").read_text() == main
    assert _boot_audit(root)["boot"] == "nftables.service loads /etc/nftables.conf"
    # A second plan has nothing more to empty.
    assert run(capsys, *argv)[1].startswith("nothing to change")
