"""Ruleset lint: the checks that judge a firewall ruleset alone, on any ruleset.

One list for ``v6gap firewall lint`` and for what ``harden apply`` promises its table decides.
"""

from __future__ import annotations

from typing import Any, Optional

from v6gap.checks.base import Check
from v6gap.checks.context import Context
from v6gap.checks.registry import all_checks
from v6gap.checks.run import assemble_report, evaluate, to_finding
from v6gap.firewall.model import Ruleset
from v6gap.model import SNAPSHOT_SCHEMA, Profile, Report, Snapshot, Source, Target

LINT_CHECKS = (
    "V6G-FW-04",
    "V6G-FW-05",
    "V6G-FW-06",
    "V6G-FW-07",
    "V6G-FW-08",
    "V6G-FW-09",
    "V6G-FW-11",
    "V6G-FW-12",
    "V6G-TUN-04",
)
FORWARDING = "net.ipv6.conf.all.forwarding"
LINT_ASSUMPTIONS = (
    "V6G-FW-12 judges the forward path as if IPv6 forwarding were on",
    "V6G-TUN-04 judges protocol 41 and UDP 3544 as if no tunnel were in use",
)


def lint_checks() -> tuple[Check, ...]:
    return tuple(c for c in all_checks() if c.meta.id in LINT_CHECKS)


def lint_snapshot(
    firewall_part: Any, unavailable: dict[str, str], hostname: str, source: Source = "snapshot"
) -> Snapshot:
    """A snapshot holding only a firewall: what the lint's checks read, and nothing else.

    IPv6 forwarding is set on so that FW-12 judges the forward path; no interface or process
    exists, so TUN-04 takes every tunnel as unused.
    """
    return Snapshot(
        schema=SNAPSHOT_SCHEMA,
        source=source,
        hostname=hostname,
        tool_version="",
        collected_at="",
        ipv6_proc=True,
        sysctl={FORWARDING: "1"},
        firewall=firewall_part,
        unavailable={k: v for k, v in unavailable.items() if k == "nft" or k.endswith("-save")},
    )


def lint_report(
    snapshot: Snapshot, profile: Profile, nft_ruleset: Optional[Ruleset] = None
) -> Report:
    """The lint checks over a ``lint_snapshot`` (and ``nft_ruleset``: see ``Context``); no
    profile suggestions (there is no host)."""
    ctx = Context(snapshot, profile, nft_ruleset)
    findings = [to_finding(c, evaluate(c, ctx)) for c in lint_checks()]
    return assemble_report(findings, Target(snapshot.hostname, snapshot.source, profile.value))
