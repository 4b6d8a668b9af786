"""Runs the checks over a snapshot and assembles the report."""

from __future__ import annotations

from typing import Iterable, Optional

from v6gap import __version__
from v6gap.checks.base import Check, Result, skipped, unknown
from v6gap.checks.context import Context
from v6gap.checks.registry import all_checks
from v6gap.checks.suggest import suggest_profiles
from v6gap.compliance import cis_references
from v6gap.model import (
    REPORT_SCHEMA,
    Finding,
    Profile,
    Report,
    Snapshot,
    Source,
    Status,
    Target,
    Tool,
)


def evaluate(check: Check, ctx: Context) -> Result:
    """One check's result, with the profile and kernel-level skips applied."""
    meta = check.meta
    if ctx.profile not in meta.profiles:
        allowed = ", ".join(sorted(p.value for p in meta.profiles))
        return skipped(f"does not apply to profile {ctx.profile.value} (applies to: {allowed})")
    if meta.needs_ipv6 and ctx.ipv6_off_in_kernel:
        return skipped(ctx.ipv6_off_in_kernel)
    try:
        result: Result = check.evaluate(ctx)
    except Exception as exc:  # a bug in one check must not sink the audit, nor pass
        return unknown(f"the check failed internally ({type(exc).__name__}: {exc}); please report")
    return result


def to_finding(check: Check, result: Result) -> Finding:
    meta = check.meta
    return Finding(
        id=meta.id,
        title=meta.title,
        status=result.status,
        severity=meta.severity,
        subjects=result.subjects,
        evidence=result.evidence,
        remediation=result.remediation if result.remediation is not None else meta.remediation,
        references=(f"seed: {meta.seed}", *cis_references(meta.id)),
        reason=result.reason,
    )


def run_checks(
    snapshot: Snapshot,
    profile: Profile,
    *,
    source: Optional[Source] = None,
    checks: Optional[Iterable[Check]] = None,
) -> Report:
    """Judge ``snapshot`` under ``profile``: one finding per check, in catalogue order."""
    ctx = Context(snapshot, profile)
    findings = tuple(to_finding(c, evaluate(c, ctx)) for c in (checks or all_checks()))
    summary = {s.value: 0 for s in Status}
    for f in findings:
        summary[f.status.value] += 1
    return Report(
        schema=REPORT_SCHEMA,
        tool=Tool(name="v6gap", version=__version__),
        target=Target(
            hostname=snapshot.hostname, source=source or snapshot.source, profile=profile.value
        ),
        summary=summary,
        findings=findings,
        suggestions=tuple(suggest_profiles(ctx)),
    )
