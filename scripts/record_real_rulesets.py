"""Record the rulesets real ufw and firewalld make, inside a throw-away lab namespace (root).

    sudo .venv/bin/python scripts/record_real_rulesets.py [CASE …]

Each case builds a ``pair`` lab (``v6g-server-<id>``, ``v6g-client-<id>``), runs the real tool
in the server namespace only, records what the host would show there (``nft -j list ruleset``,
``nft list ruleset`` and the four ``*-save`` dumps) into
``tests/fixtures/rulesets/real-tools/CASE/``, and tears the lab down, even on failure. The
machine's own firewall and /etc are never written:

* ufw runs under ``ip netns exec``, which binds ``/etc/netns/NS/ufw`` (a copy of the installed
  ``/etc/ufw``) over ``/etc/ufw``, so ``ufw --force enable`` writes only the copy; its
  ``IPT_SYSCTL`` keys are all ``net.*``, per network namespace.
* firewalld runs with ``--nofork --nopid --system-config TMP`` (a copy of
  ``/etc/firewalld/firewalld.conf``) on a private ``dbus-daemon`` listening on an abstract socket,
  which exists only inside the namespace; this is how firewalld's own testsuite runs it.

The host's ``nft list ruleset`` and save dumps are compared before and after: any change fails.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator, Optional, Sequence

from v6gap.errors import LabError
from v6gap.lab import Lab
from v6gap.lab.scenarios import pair

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "rulesets" / "real-tools"
SERVER = "server"
DUMPS = {
    "nft.json": ["nft", "-j", "list", "ruleset"],
    "nft.txt": ["nft", "list", "ruleset"],
    "iptables-save.txt": ["iptables-save"],
    "ip6tables-save.txt": ["ip6tables-save"],
    "iptables-legacy-save.txt": ["iptables-legacy-save"],
    "ip6tables-legacy-save.txt": ["ip6tables-legacy-save"],
}
HOST_DUMPS = ("nft.txt", "iptables-save.txt", "ip6tables-save.txt")
# ufw commands run after `ufw --force enable`, per case.
UFW_CASES: dict[str, list[list[str]]] = {
    "ufw-default": [],
    # An IPv4-only allow (a source prefix of one family) beside a dual-stack one.
    "ufw-rules": [
        ["allow", "22/tcp"],
        ["allow", "from", "198.51.100.0/24", "to", "any", "port", "8080", "proto", "tcp"],
    ],
}
DBUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <auth>EXTERNAL</auth>
  <listen>{address}</listen>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
"""
FIREWALLD_START_TIMEOUT = 90.0
RUN_DIR = "/run/firewalld"


def host_firewall() -> dict[str, str]:
    """The machine's own ruleset as text, to prove it did not change."""

    def run(argv: Sequence[str]) -> str:
        done = subprocess.run(list(argv), capture_output=True, text=True, timeout=60)
        return done.stdout if done.returncode == 0 else f"exit {done.returncode}: {done.stderr}"

    # The save headers carry no timestamp worth comparing; drop comment lines.
    return {
        name: "\n".join(line for line in run(DUMPS[name]).splitlines() if not line.startswith("#"))
        for name in HOST_DUMPS
    }


def dumps(lab: Lab, host: str) -> dict[str, str]:
    """What the host shows inside its namespace, as the audit's collector reads it."""
    out: dict[str, str] = {}
    for name, argv in DUMPS.items():
        done = lab.exec(host, argv, timeout=120)
        if done.returncode != 0:
            raise LabError(f"{' '.join(argv)} in {host}: {done.stderr.strip()}")
        out[name] = done.stdout
    return out


def tool_versions() -> dict[str, str]:
    """Debian package versions of the tools that made the rulesets."""
    packages = ("ufw", "firewalld", "nftables", "iptables", "python3-nftables")
    versions = {}
    for package in packages:
        done = subprocess.run(
            ["dpkg-query", "-W", "-f", "${Version}", package], capture_output=True, text=True
        )
        versions[package] = done.stdout.strip() if done.returncode == 0 else "not installed"
    return versions


# --------------------------------------------------------------------------- ufw


def ufw_ruleset(lab: Lab, host: str, commands: Sequence[Sequence[str]]) -> dict[str, str]:
    """Enable ufw with its installed default rules (plus ``commands``) in ``host``."""
    if shutil.which("ufw") is None:
        raise LabError("ufw is not installed (scripts/install-system-deps.sh installs it)")
    # ip netns exec binds /etc/netns/NS/ufw over /etc/ufw: ufw writes only this copy.
    for path in sorted(Path("/etc/ufw").rglob("*")):
        if path.is_file():
            lab.write_file(host, f"ufw/{path.relative_to('/etc/ufw')}", path.read_text())
    for argv in (["ufw", "--force", "enable"], *(["ufw", *c] for c in commands)):
        done = lab.exec(host, argv, timeout=120)
        if done.returncode != 0:
            raise LabError(f"{' '.join(argv)}: {done.stderr.strip() or done.stdout.strip()}")
    return dumps(lab, host)


# --------------------------------------------------------------------------- firewalld


def _wait_running(lab: Lab, host: str, env: Sequence[str], proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + FIREWALLD_START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise LabError(f"firewalld exited with status {proc.returncode}")
        state = lab.exec(host, ["env", *env, "firewall-cmd", "--state"], timeout=30)
        if state.stdout.strip() == "running":
            return
        time.sleep(0.5)
    raise LabError(f"firewalld did not report running within {FIREWALLD_START_TIMEOUT:.0f} s")


def firewalld_ruleset(lab: Lab, host: str) -> dict[str, str]:
    """Start firewalld (nftables backend, default zone) in ``host`` and record its ruleset."""
    with running_firewalld(lab, host):
        return dumps(lab, host)


@contextlib.contextmanager
def running_firewalld(lab: Lab, host: str) -> Iterator[None]:
    """firewalld running in ``host`` with its default configuration, stopped on the way out."""
    for tool in ("firewalld", "firewall-cmd", "dbus-daemon"):
        if shutil.which(tool) is None:
            raise LabError(f"{tool} is not installed (scripts/install-system-deps.sh installs it)")
    # firewalld makes an empty /run/firewalld even with --nopid: remove it if it makes it here.
    made_run_dir = not os.path.exists(RUN_DIR)
    try:
        with (
            tempfile.TemporaryDirectory(prefix="v6g-firewalld-") as tmp,
            _firewalld(lab, host, Path(tmp)),
        ):
            yield
    finally:
        if made_run_dir and os.path.isdir(RUN_DIR) and not os.listdir(RUN_DIR):
            os.rmdir(RUN_DIR)


@contextlib.contextmanager
def _firewalld(lab: Lab, host: str, tmp: Path) -> Iterator[None]:
    # An abstract socket belongs to the network namespace: nothing outside can reach it.
    address = f"unix:abstract=v6g-firewalld-{secrets.token_hex(4)}"
    config = tmp / "dbus.conf"
    config.write_text(DBUS_CONFIG.format(address=address))
    system_config = tmp / "etc"
    system_config.mkdir()
    shutil.copy("/etc/firewalld/firewalld.conf", system_config / "firewalld.conf")
    log = tmp / "firewalld.log"
    bus = lab.popen(
        host, ["dbus-daemon", "--nofork", "--nopidfile", "--nosyslog", f"--config-file={config}"]
    )
    env = [f"DBUS_SYSTEM_BUS_ADDRESS={address}"]
    argv = ["firewalld", "--nofork", "--nopid", "--system-config", str(system_config)]
    daemon = lab.popen(host, ["env", *env, *argv, "--log-target", "file", "--log-file", str(log)])
    try:
        try:
            _wait_running(lab, host, env, daemon)
        except LabError as exc:
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise LabError(f"{exc}; firewalld log: {tail}") from None
        yield
    finally:
        for proc in (daemon, bus):
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# --------------------------------------------------------------------------- cases


def record(case: str, suffix: Optional[str] = None) -> dict[str, str]:
    """Produce one case's dumps in a fresh lab; the host's firewall must not change."""
    before = host_firewall()
    with Lab(pair("client", SERVER), suffix=suffix) as lab:
        if case in UFW_CASES:
            recorded = ufw_ruleset(lab, SERVER, UFW_CASES[case])
        elif case == "firewalld-default":
            recorded = firewalld_ruleset(lab, SERVER)
        else:
            raise LabError(f"unknown case {case!r}")
    if host_firewall() != before:
        raise LabError("the machine's own firewall changed while recording: investigate")
    return recorded


CASES = (*UFW_CASES, "firewalld-default")


def main(argv: Sequence[str]) -> int:
    if os.geteuid() != 0:
        print("record_real_rulesets: run as root (lab namespaces)", file=sys.stderr)
        return 2
    chosen = list(argv) or list(CASES)
    for case in chosen:
        recorded = record(case)
        folder = FIXTURES / case
        folder.mkdir(exist_ok=True)
        for name, text in recorded.items():
            (folder / name).write_text(text)
        print(f"{case}: {len(recorded['nft.txt'].splitlines())} lines of nft ruleset")
    for package, version in tool_versions().items():
        print(f"{package} {version}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
