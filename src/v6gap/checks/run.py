"""Runs the checks over a snapshot (and a probe's evidence, when given); assembles the report."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Optional, Sequence

from v6gap import __version__
from v6gap.checks.base import Check, Result, skipped, unknown
from v6gap.checks.context import Context
from v6gap.checks.registry import all_checks, probe_checks
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

if TYPE_CHECKING:
    from v6gap.checks.probe import ProbeEvidence

# The profile a probe-only report names: the probe judges packets, not a host's role.
PROBE_PROFILE = "probe"


def _guarded(check: Check, judged: object) -> Result:
    try:
        result: Result = check.evaluate(judged)
    except Exception as exc:  # a bug in one check must not sink the audit, nor pass
        return unknown(f"the check failed internally ({type(exc).__name__}: {exc}); please report")
    return result


def evaluate(check: Check, ctx: Context) -> Result:
    """One check's result, with the profile and kernel-level skips applied."""
    meta = check.meta
    if ctx.profile not in meta.profiles:
        allowed = ", ".join(sorted(p.value for p in meta.profiles))
        return skipped(f"does not apply to profile {ctx.profile.value} (applies to: {allowed})")
    if meta.needs_ipv6 and ctx.ipv6_off_in_kernel:
        return skipped(ctx.ipv6_off_in_kernel)
    return _guarded(check, ctx)


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
        references=(f"seed: {meta.seed}", *cis_references(meta.id), *meta.references),
        reason=result.reason,
    )


def probe_findings(evidence: ProbeEvidence) -> tuple[Finding, ...]:
    """One finding per V6G-PROBE-* check, judged from ``evidence`` alone."""
    return tuple(to_finding(c, _guarded(c, evidence)) for c in probe_checks())


def assemble_report(
    findings: Sequence[Finding], target: Target, suggestions: Iterable[str] = ()
) -> Report:
    summary = {s.value: 0 for s in Status}
    for f in findings:
        summary[f.status.value] += 1
    return Report(
        schema=REPORT_SCHEMA,
        tool=Tool(name="v6gap", version=__version__),
        target=target,
        summary=summary,
        findings=tuple(findings),
        suggestions=tuple(suggestions),
    )


def run_checks(
    snapshot: Snapshot,
    profile: Profile,
    *,
    source: Optional[Source] = None,
    checks: Optional[Iterable[Check]] = None,
    probe: Optional[ProbeEvidence] = None,
) -> Report:
    """Judge ``snapshot`` under ``profile``: one finding per check, in catalogue order. With
    ``probe``, the V6G-PROBE-* findings follow, and packets confirm or contradict the host's."""
    ctx = Context(snapshot, profile)
    findings = tuple(to_finding(c, evaluate(c, ctx)) for c in (checks or all_checks()))
    if probe is not None:
        from v6gap.checks.probe._corroborate import corroborate

        findings = corroborate(findings, probe) + probe_findings(probe)
    target = Target(
        hostname=snapshot.hostname, source=source or snapshot.source, profile=profile.value
    )
    return assemble_report(findings, target, suggest_profiles(ctx))


def run_probe_checks(
    evidence: ProbeEvidence, *, hostname: Optional[str] = None, source: Source = "live"
) -> Report:
    """The probe's findings alone as a ``v6gap.report/1`` report (``v6gap probe``)."""
    name = hostname or " ".join(evidence.run.targets.addresses)
    return assemble_report(probe_findings(evidence), Target(name, source, PROBE_PROFILE))
