"""V6G-STATE-04: under profile ``disabled``, nothing depends on ::1 that would break.

Two kinds of dependency are decidable from a snapshot: a listener bound only to ::1, and
``localhost`` resolving to ::1 first (an ``::1 … localhost`` line in /etc/hosts, which RFC 6724's
default policy prefers over 127.0.0.1 unless gai.conf raises ``::ffff:0:0/96``).
"""

from __future__ import annotations

import re

from v6gap.checks.base import Check, CheckMeta, Result, failed, passed, unknown
from v6gap.checks.context import Context
from v6gap.model import Profile, Severity, Subject

META = CheckMeta(
    id="V6G-STATE-04",
    title="Nothing depends on the IPv6 loopback (::1)",
    severity=Severity.HIGH,
    seed="Option 1: Disable IPv6 When Not Needed",
    remediation=(
        "Bind the listed services to 127.0.0.1 (e.g. PostgreSQL listen_addresses = '127.0.0.1'), "
        "and keep localhost on IPv4: remove 'localhost' from the ::1 line of /etc/hosts, or add "
        "'precedence ::ffff:0:0/96 100' to /etc/gai.conf; or keep IPv6 on lo only "
        "(net.ipv6.conf.lo.disable_ipv6 = 0)"
    ),
    profiles=frozenset({Profile.DISABLED}),
    needs_ipv6=False,
)

_V4_FIRST = re.compile(r"^\s*precedence\s+::ffff:0:0/96\s+(\d+)", re.MULTILINE)


def _localhost_on_v6(ctx: Context) -> list[tuple[str, int]]:
    """(line, number) of /etc/hosts lines that name localhost for ::1."""
    hosts = ctx.snapshot.files.get("/etc/hosts")
    if hosts is None or hosts.text is None:
        return []
    hits = []
    for number, raw in enumerate(hosts.text.splitlines(), start=1):
        fields = raw.split("#", 1)[0].split()
        if (
            len(fields) >= 2
            and fields[0] in ("::1", "0:0:0:0:0:0:0:1")
            and ("localhost" in fields[1:])
        ):
            hits.append((raw.strip(), number))
    return hits


def _ipv4_preferred(ctx: Context) -> bool:
    gai = ctx.snapshot.files.get("/etc/gai.conf")
    if gai is None or gai.text is None:
        return False
    return any(int(m) > 50 for m in _V4_FIRST.findall(gai.text))


def evaluate(ctx: Context) -> Result:
    snap = ctx.snapshot
    subjects: list[Subject] = []
    evidence: list[str] = []
    problems: list[str] = []
    if ctx.is_image or snap.missing("sockets"):
        evidence.append(f"listeners not checked: {snap.missing('sockets') or 'image'}")
    else:
        # A service that also listens on 127.0.0.1 (or on every IPv4 address) keeps working.
        on_v4 = {
            (s.proto, s.port)
            for s in snap.sockets
            if s.family == "ipv4" and (s.address.startswith("127.") or s.address == "0.0.0.0")
        }
        on_lo6 = [
            s
            for s in snap.sockets
            if s.family == "ipv6" and s.address == "::1" and (s.proto, s.port) not in on_v4
        ]
        for s in on_lo6:
            subjects.append(
                Subject(
                    kind="port",
                    family="ipv6",
                    proto=s.proto,
                    port=s.port,
                    address="::1",
                    process=s.process,
                )
            )
            evidence.append(f"{s.proto} [::1]:{s.port} ({s.process or 'unknown process'})")
        if on_lo6:
            problems.append(f"{len(on_lo6)} listeners bound only to ::1")
    hosts = _localhost_on_v6(ctx)
    if hosts and not _ipv4_preferred(ctx):
        problems.append("localhost resolves to ::1 first")
        for line, number in hosts:
            subjects.append(Subject(kind="file", name=f"/etc/hosts:{number}", value=line))
            evidence.append(f"/etc/hosts:{number} {line}")
    elif hosts:
        evidence.append("/etc/gai.conf prefers IPv4-mapped addresses: localhost stays on 127.0.0.1")
    if problems:
        return failed("; ".join(problems), subjects, evidence)
    hosts_fact = snap.files.get("/etc/hosts")
    if hosts_fact is not None and hosts_fact.error:
        return unknown(f"/etc/hosts could not be read ({hosts_fact.error})", evidence)
    if not ctx.is_image and snap.missing("sockets"):
        return unknown(f"listeners could not be read ({snap.missing('sockets')})", evidence)
    return passed("no listener on ::1 alone and localhost resolves to 127.0.0.1 first", evidence)


CHECK = Check(META, evaluate)
