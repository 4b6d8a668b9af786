"""V6G-FW-10: one firewall authority, not several fighting over the host.

Four conflicts are judged, each to fail, pass or unknown on its own:

* iptables-legacy tables with rules while nftables (native or iptables-nft) has rules too: both
  run, in an order neither tool shows, and each tool's listing hides the other's rules;
* ufw enabled (``ENABLED=yes`` in /etc/ufw/ufw.conf) with ``IPV6=no`` in /etc/default/ufw:
  ufw then writes no IPv6 rules at all;
* firewalld running (or its ``firewalld`` table present) beside nftables tables it does not own;
* Docker with ``"ipv6": true`` in /etc/docker/daemon.json but no ip6tables management.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Optional

from v6gap.checks.base import Check, CheckMeta, Result, failed, passed, unknown
from v6gap.checks.context import Context
from v6gap.collect.files import UFW_CONF, UFW_DEFAULT, shell_assignments, ufw_enabled
from v6gap.model import Severity, Subject

DOCKER_JSON = "/etc/docker/daemon.json"
# Docker Engine 27.0 made ip6tables default to true and dropped its "experimental" flag
# (moby/moby#47747, docker/docs#20026); from 20.10 to 26.x it defaulted to false.
DOCKER_IP6TABLES_DEFAULT = "ip6tables defaults to true from Docker 27.0, to false before"
DOCKER_V6_CHAINS = frozenset({"DOCKER", "DOCKER-FORWARD", "DOCKER-USER"})

META = CheckMeta(
    id="V6G-FW-10",
    title="One firewall authority",
    severity=Severity.HIGH,
    seed="Firewall gaps",
    remediation=(
        "Keep one authority. iptables-legacy beside nftables: move the legacy rules "
        "(iptables-legacy-save | iptables-restore-translate) and flush them: "
        "sudo iptables-legacy -F; sudo ip6tables-legacy -F. ufw: set IPV6=yes in "
        "/etc/default/ufw, then sudo ufw reload. firewalld: put hand-written rules into "
        "firewalld (zones, policies, or direct rules) and delete the foreign tables. Docker: set "
        '"ip6tables": true in /etc/docker/daemon.json, then sudo systemctl restart docker.'
    ),
)


@dataclass
class Part:
    status: str  # fail, pass, unknown
    evidence: list[str] = field(default_factory=list)
    subjects: list[Subject] = field(default_factory=list)
    reason: str = ""


def _legacy_vs_nft(ctx: Context) -> Part:
    fw = ctx.firewall
    legacy = [t for t in fw.tables_of("iptables-legacy") if t.in_use]
    nft = [t for t in fw.tables_of("nftables", "iptables-nft") if t.in_use]
    evidence = [t.describe() for t in legacy + nft]
    if legacy and nft:
        subjects = [
            Subject(kind="firewall", name="iptables-legacy"),
            Subject(kind="firewall", name="nftables"),
        ]
        return Part("fail", evidence, subjects, "iptables-legacy and nftables both hold rules")
    legacy_seen = fw.seen("iptables-legacy IPv4", "iptables-legacy IPv6")
    nft_seen = fw.seen("nftables")
    if (not legacy and legacy_seen) or (not nft and nft_seen):
        return Part("pass", evidence or ["iptables-legacy and nftables do not both hold rules"])
    return Part("unknown", evidence, reason="legacy/nftables: " + "; ".join(fw.unseen()))


def _shell_vars(ctx: Context, path: str) -> tuple[Optional[list[tuple[str, str, int]]], str]:
    """(name, value, line) of a sourced shell file's assignments; (None, why) when unreadable."""
    fact = ctx.snapshot.files.get(path)
    if fact is None:
        missing = ctx.snapshot.missing("files")
        return (None, missing) if missing else ([], "")
    if fact.text is None:
        return None, f"{path}: {fact.error or 'unreadable'}"
    return shell_assignments(fact.text, {}), ""


def _ufw(ctx: Context) -> Part:
    conf, why = _shell_vars(ctx, UFW_CONF)
    if conf is None:
        return Part("unknown", reason=f"ufw: {why}")
    enabled = ufw_enabled(conf)
    if enabled is None:
        return Part("pass", [f"ufw not enabled ({UFW_CONF} has no ENABLED=yes)"])
    defaults, why = _shell_vars(ctx, UFW_DEFAULT)
    if defaults is None:
        return Part("unknown", reason=f"ufw: {why}")
    ipv6 = {name: (value, line) for name, value, line in defaults}.get("IPV6")
    where = f"{UFW_CONF}:{enabled} ENABLED=yes"
    if ipv6 is not None and ipv6[0] != "yes":
        evidence = [where, f"{UFW_DEFAULT}:{ipv6[1]} IPV6={ipv6[0]}"]
        subjects = [Subject(kind="file", name=UFW_DEFAULT, value=f"IPV6={ipv6[0]}")]
        return Part("fail", evidence, subjects, "ufw is enabled with IPV6=no: no IPv6 rules")
    state = f"IPV6={ipv6[0]}" if ipv6 else "IPV6 unset (ufw's default is yes)"
    return Part("pass", [where, f"{UFW_DEFAULT}: {state}"])


def _firewalld(ctx: Context) -> Part:
    fw = ctx.firewall
    nft_seen = fw.seen("nftables")
    own = [t for t in fw.tables if t.authority == "nftables" and t.name == "firewalld"]
    running = "firewalld" in ctx.snapshot.processes
    if not running and not own:
        if ctx.snapshot.missing("processes") and not nft_seen:
            return Part("unknown", reason="firewalld: neither processes nor nftables were read")
        return Part("pass", ["firewalld not running"])
    others = [t for t in fw.tables_of("nftables") if t.in_use and t.name != "firewalld"]
    evidence = ["firewalld is running" if running else "firewalld's nftables table exists"]
    if others:
        evidence += [t.describe() for t in others]
        subjects = [
            Subject(kind="firewall", name=f"{t.family} {t.name}", value="not firewalld's")
            for t in others
        ]
        return Part("fail", evidence, subjects, "firewalld runs beside tables it does not own")
    if not nft_seen:
        return Part("unknown", evidence, reason="firewalld: " + "; ".join(fw.unseen()))
    return Part("pass", [*evidence, "no nftables table besides firewalld's holds rules"])


def _docker_config(ctx: Context) -> tuple[Optional[dict[str, Any]], str]:
    fact = ctx.snapshot.files.get(DOCKER_JSON)
    if fact is None:
        return {}, ""
    if fact.text is None:
        return None, f"{DOCKER_JSON}: {fact.error or 'unreadable'}"
    try:
        data = json.loads(fact.text)
    except (ValueError, RecursionError) as exc:
        return None, f"{DOCKER_JSON} is not valid JSON ({exc})"
    return (data, "") if isinstance(data, dict) else (None, f"{DOCKER_JSON} is not an object")


def _docker(ctx: Context) -> Part:
    config, why = _docker_config(ctx)
    if config is None:
        return Part("unknown", reason=f"docker: {why}")
    if config.get("ipv6") is not True:
        return Part("pass", [f'{DOCKER_JSON} does not set "ipv6": true'])
    subject = Subject(kind="file", name=DOCKER_JSON, value='"ipv6": true')
    ip6tables = config.get("ip6tables")
    if ip6tables is False:
        evidence = [f'{DOCKER_JSON}: "ipv6": true, "ip6tables": false']
        return Part("fail", evidence, [subject], "Docker publishes IPv6 ports without ip6tables")
    if ip6tables is True:
        return Part("pass", [f'{DOCKER_JSON}: "ipv6": true, "ip6tables": true'])
    managed = [
        t.describe()
        for t in ctx.firewall.tables
        if t.family == "ip6" and (t.name == "docker-bridges" or DOCKER_V6_CHAINS & set(t.chains))
    ]
    evidence = [f'{DOCKER_JSON}: "ipv6": true, "ip6tables" unset ({DOCKER_IP6TABLES_DEFAULT})']
    if managed:
        return Part("pass", [*evidence, *managed])
    processes = ctx.snapshot.missing("processes")
    if processes:
        return Part(
            "unknown", evidence, reason=f"docker: cannot tell which default applies ({processes})"
        )
    if "dockerd" not in ctx.snapshot.processes:
        return Part("pass", [*evidence, "dockerd is not running"])
    if not ctx.firewall.seen("nftables", "iptables-legacy IPv6"):
        unseen = "; ".join(ctx.firewall.unseen("ipv6"))
        return Part("unknown", evidence, reason=f"docker: IPv6 rules not all read ({unseen})")
    return Part(
        "fail",
        [*evidence, "dockerd runs and no Docker chain exists for IPv6"],
        [subject],
        "Docker has IPv6 on but manages no IPv6 firewall rules",
    )


def evaluate(ctx: Context) -> Result:
    parts = [_legacy_vs_nft(ctx), _ufw(ctx), _firewalld(ctx), _docker(ctx)]
    evidence = [e for p in parts for e in p.evidence]
    failing = [p for p in parts if p.status == "fail"]
    if failing:
        subjects = [s for p in failing for s in p.subjects]
        return failed("; ".join(p.reason for p in failing), subjects, evidence)
    undecided = [p for p in parts if p.status == "unknown"]
    if undecided:
        return unknown("; ".join(p.reason for p in undecided), evidence)
    return passed("one firewall authority", evidence)


CHECK = Check(META, evaluate)
