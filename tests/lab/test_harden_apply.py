"""``harden apply``, ``confirm``, ``rollback`` and the timer on a real kernel.

Files go under a temp ``--root``; the runtime part runs inside a lab server namespace
(``ip netns exec v6g-… v6gap harden apply --root TMP``). Only ``v6g-`` namespaces are touched.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.unit.harden.test_apply_backup import wait_for_state
from tests.unit.harden.test_apply_offline import tree
from tests.unit.harden.test_cli_harden import ROOTS
from v6gap.harden.backup import Manifest, backup_path, list_backups, read_manifest
from v6gap.harden.restore import cancel_timer, timer_alive
from v6gap.lab import scenarios
from v6gap.lab.build import Lab
from v6gap.lab.netns import exec_argv
from v6gap.lab.state import process_starttime

pytestmark = pytest.mark.lab

PORT = 2222  # the lab's "management" service
KEEP = f"services: [{{port: {PORT}}}]\n"  # keeps it
CUT = "services: []\n"  # cuts it: preflight refuses unless overridden
# The checks the policy covers under `server` inside a namespace (the neighbour limits are
# host-wide, so NDP-05 is not written there): see v6gap.harden.verify.
COVERED_SERVER = {
    "V6G-NDP-01", "V6G-NDP-02", "V6G-NDP-03", "V6G-NDP-04", "V6G-STATE-05", "V6G-FW-01",
    "V6G-FW-02", "V6G-FW-04", "V6G-FW-05", "V6G-FW-06", "V6G-FW-07", "V6G-FW-08", "V6G-FW-09",
    "V6G-FW-11", "V6G-FW-12", "V6G-TUN-04",
}  # fmt: skip
_FW = (
    "V6G-STATE-05", "V6G-FW-01", "V6G-FW-02", "V6G-FW-04", "V6G-FW-05", "V6G-FW-06", "V6G-FW-07",
    "V6G-FW-08", "V6G-FW-09", "V6G-FW-11", "V6G-FW-12", "V6G-TUN-04",
)  # fmt: skip
COVERED_BY_PROFILE = {  # with a known router, and the management port kept
    "slaac-host": {"V6G-NDP-02", "V6G-NDP-03", "V6G-NDP-04", "V6G-NDP-06", *_FW},
    "k8s-node": {"V6G-NDP-02", "V6G-NDP-03", "V6G-NDP-06", *_FW},
    "router": {"V6G-NDP-02", "V6G-NDP-03", *_FW},
    "disabled": {"V6G-STATE-03", "V6G-NDP-01", "V6G-NDP-02", "V6G-NDP-03", *_FW},
}
SYSCTL_KEYS = ("accept_ra", "accept_redirects", "accept_source_route", "autoconf", "forwarding")


class Server:
    """The lab's server namespace with a temp root, and v6gap run inside it."""

    def __init__(self, lab: Lab, root: Path, policy: Path) -> None:
        self.lab, self.root, self.policy = lab, root, policy

    def v6gap(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "v6gap", "harden", *args, "--root", str(self.root)]
        return self.lab.exec("server", argv, timeout=timeout)

    def apply(self, *extra: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        args = ("--policy", str(self.policy), "--confirm-timeout", str(timeout), *extra)
        return self.v6gap("apply", *args)

    def ruleset(self) -> str:
        """``nft list ruleset`` without counters (``-s``): the test's own packets move them."""
        return self.lab.exec("server", ["nft", "-s", "list", "ruleset"], check=True).stdout

    def sysctls(self) -> str:
        """Every interface's IPv4/IPv6 conf values in the namespace (all, default, lo, eth0)."""
        scopes = ("all", "default", "lo", "eth0")
        keys = [f"net.ipv6.conf.{i}.{k}" for i in scopes for k in SYSCTL_KEYS]
        keys += [f"net.ipv4.conf.{i}.{k}" for i in scopes for k in SYSCTL_KEYS[1:3]]
        return self.lab.exec("server", ["sysctl", *keys], check=True).stdout

    def sysctl(self, key: str) -> str:
        return self.lab.exec("server", ["sysctl", "-n", key], check=True).stdout.strip()

    def planned(self) -> dict[str, str]:
        done = self.v6gap("plan", "--policy", str(self.policy), "--format", "json")
        assert done.returncode == 0, done.stderr
        return {f["path"]: f["content"] for f in json.loads(done.stdout)["files"]}

    def manifest(self, backup_id: str) -> Manifest:
        return read_manifest(backup_path(str(self.root), backup_id))

    def reaches(self) -> bool:
        """The client reaches the management port over both families."""
        return all(
            self.lab.connect("client", "tcp", self.lab.addr("server", f), PORT).open for f in (4, 6)
        )


@pytest.fixture
def server(lab_factory: Any, tmp_path: Path) -> Iterator[Server]:
    """A pair lab, a listener on the server, a root copied from a Debian 12 image."""
    lab = lab_factory(scenarios.pair())
    lab.start_listener("server", "tcp", "::", PORT, v6only=False, name="lab-mgmt")
    root = tmp_path / "root"
    shutil.copytree(ROOTS / "debian-12", root, symlinks=True)
    policy = tmp_path / "v6gap.yaml"
    policy.write_text(KEEP)
    made = Server(lab, root, policy)
    try:
        yield made
    finally:  # before the lab goes: no timer of ours may outlive the test
        for backup_id in list_backups(str(root)):
            backup = backup_path(str(root), backup_id)
            cancel_timer(backup, read_manifest(backup))


def covered_in(output: str) -> set[str]:
    line = next(ln for ln in output.splitlines() if ln.startswith("audit after apply"))
    assert "checks the policy covers pass: " in line, output
    return set(line.split("checks the policy covers pass: ", 1)[1].split(", "))


# Rules through iptables-nft, as ufw and Docker write them: a rollback must leave their table
# as iptables-nft can still read it (reloading a listed ruleset would not).
IPTABLES = """*filter
:INPUT ACCEPT [0:0]
-A INPUT -p tcp --dport 2222 -m conntrack --ctstate NEW -m comment --comment mgmt -j ACCEPT
COMMIT
"""


def test_apply_confirm_then_rollback_id(server: Server) -> None:
    server.lab.load_iptables("server", IPTABLES, 4, "nft")
    iptables_before = server.lab.exec("server", ["iptables-nft-save"], check=True).stdout
    assert "--comment mgmt" in iptables_before
    before_files, before_ruleset, before_sysctls = (
        tree(server.root),
        server.ruleset(),
        server.sysctls(),
    )
    want = server.planned()
    done = server.apply()
    assert done.returncode == 0, done.stdout + done.stderr
    # Files: byte-identical to what plan showed (a drop-in: Debian's nftables.conf stays).
    for path, content in want.items():
        assert (server.root / path.lstrip("/")).read_bytes() == content.encode(), path
    assert (server.root / "etc/nftables.conf").read_bytes() == before_files["etc/nftables.conf"]
    # Sysctls: `all` and every existing interface, since `all` does not reach those.
    for scope in ("all", "default", "lo", "eth0"):
        for key, value in (("accept_ra", "0"), ("accept_redirects", "0"), ("autoconf", "0")):
            assert server.sysctl(f"net.ipv6.conf.{scope}.{key}") == value, (scope, key)
    assert "table inet v6gap {" in server.ruleset()
    expected = set(COVERED_SERVER)
    if "net.ipv6.conf.*.dad_transmits = 0" in want["/etc/sysctl.d/60-v6gap.conf"]:
        expected.add("V6G-NDP-07")  # covered once the rendered file closes every knob it judges
    assert covered_in(done.stdout) == expected
    # An audit of its own, the way a user runs it, agrees on every covered check.
    audit = server.lab.exec("server", [sys.executable, "-m", "v6gap", "audit", "--format", "json"])
    findings = {f["id"]: f for f in json.loads(audit.stdout)["findings"]}
    assert {i: findings[i]["status"] for i in expected} == dict.fromkeys(expected, "pass")
    assert server.reaches() and server.lab.ping("client", server.lab.addr("server", 6))

    [backup_id] = list_backups(str(server.root))
    manifest = server.manifest(backup_id)
    assert manifest.state == "pending" and timer_alive(
        backup_path(str(server.root), backup_id), manifest
    )
    again = server.apply()
    assert again.returncode == 0 and again.stdout.startswith("nothing to change: "), again.stdout
    assert list_backups(str(server.root)) == [backup_id]  # no new backup, no new timer

    confirmed = server.v6gap("confirm")
    assert confirmed.returncode == 0 and "timer stopped" in confirmed.stdout, confirmed.stderr
    assert server.manifest(backup_id).state == "confirmed"
    assert process_starttime(manifest.timer.pid if manifest.timer else 0) is None
    assert "table inet v6gap {" in server.ruleset()

    rolled = server.v6gap("rollback", backup_id)
    assert rolled.returncode == 0, rolled.stderr
    after = {k: v for k, v in tree(server.root).items() if not k.startswith("var/lib/v6gap")}
    assert after == before_files
    assert server.ruleset() == before_ruleset
    assert server.sysctls() == before_sysctls
    iptables_after = server.lab.exec("server", ["iptables-nft-save"], check=True).stdout

    def rules(dump: str) -> list[str]:  # no comments, no packet counters
        return [re.sub(r" \[\d+:\d+\]$", "", ln) for ln in dump.splitlines() if ln[:1] != "#"]

    assert rules(iptables_after) == rules(iptables_before)


def test_timer_rolls_back_after_the_terminal_is_gone(server: Server, tmp_path: Path) -> None:
    """A policy that cuts the management connection, applied from a session that is then
    killed: the timer alone restores files, sysctls and ruleset, and the client gets back in."""
    shutil.rmtree(server.root)
    server.root.mkdir()  # an empty root: the main /etc/nftables.conf is v6gap's to write
    server.policy.write_text(CUT)
    before_ruleset, before_sysctls = server.ruleset(), server.sysctls()
    assert server.reaches()
    refused = server.apply()
    assert refused.returncode == 2 and "--override listener-blocked" in refused.stderr
    assert list(server.root.iterdir()) == []  # refused: nothing written

    out = tmp_path / "apply.out"
    argv = [sys.executable, "-m", "v6gap", "harden", "apply", "--policy", str(server.policy),
            "--root", str(server.root), "--confirm-timeout", "8",
            "--override", "listener-blocked"]  # fmt: skip
    inside = shlex.join(exec_argv(server.lab.ns("server"), argv))
    shell = f"{inside} >{shlex.quote(str(out))} 2>&1; sleep 600"
    session = subprocess.Popen(["sh", "-c", shell], start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while "rollback at" not in (out.read_text() if out.exists() else ""):
            assert session.poll() is None and time.monotonic() < deadline, out.read_text()
            time.sleep(0.1)
        assert not server.reaches()  # the new ruleset is live: the connection is cut
    finally:
        os.killpg(session.pid, signal.SIGKILL)  # the terminal, its shell and all in it
        session.wait()
    [backup_id] = list_backups(str(server.root))
    manifest = wait_for_state(backup_path(str(server.root), backup_id), "rolled-back", 90)
    assert manifest.state == "rolled-back", manifest.history
    assert [p.name for p in server.root.iterdir()] == ["var"]  # created files and dirs removed
    assert server.ruleset() == before_ruleset
    assert server.sysctls() == before_sysctls
    assert server.reaches()
    late = server.v6gap("confirm")
    assert late.returncode == 2 and f"latest backup {backup_id}: rolled-back" in late.stderr


def test_nft_refusing_midway_leaves_the_previous_state(server: Server) -> None:
    """Another program owns a `table inet v6gap` (nft's owner flag): the kernel refuses our
    transaction after files and sysctls went in, and apply puts them back."""
    owner = server.lab.popen("server", ["nft", "-i"], stdin=subprocess.PIPE)
    assert owner.stdin is not None
    try:
        owner.stdin.write(b"add table inet v6gap { flags owner; }\n")
        owner.stdin.flush()
        deadline = time.monotonic() + 10
        while "flags owner" not in server.ruleset():
            assert time.monotonic() < deadline, "nft -i did not create the owned table"
            time.sleep(0.1)
        before_files, before_ruleset, before_sysctls = (
            tree(server.root), server.ruleset(), server.sysctls(),
        )  # fmt: skip
        done = server.apply()
        assert done.returncode == 2, done.stdout + done.stderr
        assert done.stderr.count("\n") == 1 and "Operation not permitted" in done.stderr
        assert "the previous files and sysctls are back" in done.stderr
        after = {k: v for k, v in tree(server.root).items() if not k.startswith("var/lib/v6gap")}
        assert after == before_files
        assert server.sysctls() == before_sysctls
        assert server.ruleset() == before_ruleset
        [backup_id] = list_backups(str(server.root))
        assert server.manifest(backup_id).state == "failed"
    finally:
        owner.stdin.close()
        owner.wait(timeout=10)


@pytest.mark.parametrize("profile", sorted(COVERED_BY_PROFILE))
def test_every_profile_passes_the_checks_it_covers(server: Server, profile: str) -> None:
    server.policy.write_text(f"profile: {profile}\nrouters: [fe80::1]\n{KEEP}")
    before = server.ruleset()
    # The image's /etc/hosts maps localhost to ::1: preflight refuses `disabled` for that.
    done = server.apply("--override", "ipv6-loopback-in-use")
    assert done.returncode == 0, done.stdout + done.stderr
    assert covered_in(done.stdout) == COVERED_BY_PROFILE[profile]
    rolled = server.v6gap("rollback")
    assert rolled.returncode == 0, rolled.stderr
    assert server.ruleset() == before
    # `disabled` deleted the static IPv6 address with disable_ipv6: the rollback re-adds it.
    assert server.lab.addr("server", 6) in server.lab.exec("server", ["ip", "-6", "addr"]).stdout
    assert server.reaches()
