"""V6G-TUN-03: no Teredo client (miredo) installed or running."""

from __future__ import annotations

from v6gap.checks.base import Check, CheckMeta, Result, failed, passed, unknown
from v6gap.checks.context import Context
from v6gap.checks.tun._tunnels import TEREDO_INTERFACE
from v6gap.model import Severity, Subject

MIREDO_BINARY = "/usr/sbin/miredo"
MIREDO_CONFIGS = ("/etc/miredo.conf", "/etc/miredo/miredo.conf")

META = CheckMeta(
    id="V6G-TUN-03",
    title="No Teredo client (miredo)",
    severity=Severity.MEDIUM,
    seed="Tunnel-based bypass",
    remediation=(
        "sudo systemctl disable --now miredo\n"
        "sudo apt-get purge miredo  # RHEL/Fedora: sudo dnf remove miredo"
    ),
)


def evaluate(ctx: Context) -> Result:
    snap = ctx.snapshot
    evidence: list[str] = []
    subjects: list[Subject] = []
    if MIREDO_BINARY in snap.binaries:
        evidence.append(f"{MIREDO_BINARY} is installed")
        subjects.append(Subject(kind="program", name="miredo", value="installed"))
    for path in MIREDO_CONFIGS:
        fact = snap.files.get(path)
        if fact is not None and fact.error is None:
            evidence.append(f"{path} exists")
            if not subjects:
                subjects.append(Subject(kind="file", name=path, value="miredo configuration"))
    running = "miredo" in snap.processes
    if running:
        evidence.append("a process named miredo is running")
        subjects.append(Subject(kind="program", name="miredo", value="running"))
    teredo_if = [i.name for i in snap.interfaces if i.name == TEREDO_INTERFACE]
    if teredo_if:
        evidence.append(f"interface {TEREDO_INTERFACE} exists (miredo's default tunnel device)")
    if subjects:
        state = "running" if running else "installed"
        return failed(f"a Teredo client is {state}", subjects, evidence)
    evidence.append(f"no {MIREDO_BINARY}, no {' or '.join(MIREDO_CONFIGS)}")
    if not ctx.is_image:
        missing = snap.missing("processes")
        if missing:
            return unknown(
                f"miredo is not installed, but running processes are unknown ({missing})", evidence
            )
        evidence.append("no process named miredo")
    return passed("no Teredo client installed or running", evidence)


CHECK = Check(META, evaluate)
