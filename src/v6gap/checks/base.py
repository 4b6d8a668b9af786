"""What a check is: metadata plus a pure function from a ``Context`` to a ``Result``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Optional

from v6gap.model import Profile, Severity, Status, Subject

ALL_PROFILES = frozenset(Profile)


@dataclass(frozen=True)
class CheckMeta:
    id: str
    title: str
    severity: Severity
    seed: str  # the seed section the check comes from
    remediation: str
    profiles: frozenset[Profile] = ALL_PROFILES
    # Skip with the reason when IPv6 is off in the kernel (ipv6.disable=1): the sysctls are gone.
    needs_ipv6: bool = True
    references: tuple[str, ...] = ()  # related checks, the issue: after the seed and CIS ones


@dataclass(frozen=True)
class Result:
    status: Status
    reason: str = ""
    subjects: tuple[Subject, ...] = ()
    evidence: tuple[str, ...] = ()
    remediation: Optional[str] = None  # overrides the metadata's when the fix depends on the host


def passed(reason: str, evidence: Iterable[str] = ()) -> Result:
    return Result(Status.PASS, reason, evidence=tuple(evidence))


def failed(
    reason: str,
    subjects: Iterable[Subject] = (),
    evidence: Iterable[str] = (),
    remediation: Optional[str] = None,
) -> Result:
    return Result(Status.FAIL, reason, tuple(subjects), tuple(evidence), remediation)


def unknown(reason: str, evidence: Iterable[str] = ()) -> Result:
    return Result(Status.UNKNOWN, reason, evidence=tuple(evidence))


def skipped(reason: str) -> Result:
    return Result(Status.SKIP, reason)


def info(reason: str, subjects: Iterable[Subject] = (), evidence: Iterable[str] = ()) -> Result:
    return Result(Status.INFO, reason, tuple(subjects), tuple(evidence))


@dataclass(frozen=True)
class Check:
    meta: CheckMeta
    # (Context) -> Result; the probe checks take a ``ProbeEvidence`` instead.
    evaluate: Callable[..., Result] = field(repr=False)
