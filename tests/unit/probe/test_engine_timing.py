"""State classification, adaptive timeouts and the rate cap, without a network."""

from __future__ import annotations

import asyncio
import errno
from types import SimpleNamespace
from typing import Dict, List

import pytest

from v6gap.probe.engine import Job, Outcome, ProbeOptions, Prober, classify_errno
from v6gap.probe.icmp import parse_ping
from v6gap.probe.timing import RateLimiter, RttEstimator


@pytest.mark.parametrize(
    ("proto", "code", "state", "reason", "detail"),
    [
        ("tcp", 0, "open", "syn-ack", ""),
        ("udp", 0, "open", "reply", ""),
        ("tcp", errno.ECONNREFUSED, "closed", "refused", ""),
        ("udp", errno.ECONNREFUSED, "closed", "refused", ""),
        ("tcp", errno.EHOSTUNREACH, "filtered", "reject", "EHOSTUNREACH"),
        ("tcp", errno.EACCES, "filtered", "reject", "EACCES"),
        ("tcp", errno.ENETUNREACH, "filtered", "reject", "ENETUNREACH"),
        ("udp", errno.EACCES, "filtered", "reject", "EACCES"),
        ("tcp", -1, None, "no-answer", ""),  # timeout: retried, never a state by itself
        ("tcp", errno.EADDRNOTAVAIL, None, "no-answer", "EADDRNOTAVAIL"),  # local trouble
    ],
)
def test_classify(proto: str, code: int, state: object, reason: str, detail: str) -> None:
    outcome = classify_errno(proto, code)  # type: ignore[arg-type]
    assert (outcome.state, outcome.reason, outcome.detail) == (state, reason, detail)


def test_timeout_starts_conservative_then_follows_rtt() -> None:
    est = RttEstimator(initial=1.0, floor=0.1, ceiling=3.0)
    assert est.timeout == 1.0 and est.samples == 0
    est.add(0.0001)
    assert est.timeout == 0.1  # the floor
    for _ in range(20):
        est.add(0.05)
    assert est.timeout == pytest.approx(0.2)  # 4 x p90
    for _ in range(100):
        est.add(2.0)
    assert est.timeout == 3.0  # the ceiling
    assert est.samples == 64  # only the recent window counts


def test_rate_limiter_spaces_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    """The waits it asks for, not the clock: 11 starts at 100/s end 0.1 s after the first."""
    slept: List[float] = []

    async def sleep(delay: float) -> None:
        slept.append(delay)

    monkeypatch.setattr(asyncio, "sleep", sleep)
    monkeypatch.setattr("v6gap.probe.timing.time", SimpleNamespace(monotonic=lambda: 100.0))

    async def starts(n: int, rate: float) -> None:
        limiter = RateLimiter(rate)
        for _ in range(n):
            await limiter.wait()

    asyncio.run(starts(11, 100.0))
    assert slept == pytest.approx([0.01 * n for n in range(1, 11)])
    slept.clear()
    asyncio.run(starts(1000, 0))
    assert slept == []  # no cap: never waits


def test_parse_ping() -> None:
    out = (
        "--- 2001:db8:1::2 ping statistics ---\n"
        "3 packets transmitted, 3 received, 0% packet loss, time 404ms\n"
        "rtt min/avg/max/mdev = 0.041/0.052/0.068/0.011 ms\n"
    )
    echo = parse_ping(out)
    assert echo.answered and echo.rtt_ms == 0.052
    lost = "3 packets transmitted, 0 received, 100% packet loss, time 2040ms\n"
    assert not parse_ping(lost).answered
    assert not parse_ping("").answered


def test_only_unanswered_probes_are_retried_and_silence_has_a_state() -> None:
    """A fake attempt: 22 answers at once, 80 on the third try, 81 and udp/53 never."""
    tries: Dict[Job, int] = {}
    answers = {("a", "tcp", 22): 1, ("a", "tcp", 80): 3}

    class FakeProber(Prober):
        async def attempt(self, job: Job) -> Outcome:
            tries[job] = tries.get(job, 0) + 1
            if tries[job] >= answers.get(job, 99):
                return classify_errno(job[1], 0)
            return classify_errno(job[1], -1)

    jobs: List[Job] = [("a", "tcp", 22), ("a", "tcp", 80), ("a", "tcp", 81), ("a", "udp", 53)]
    prober = FakeProber(ProbeOptions(concurrency=2, retries=2), {})
    got = asyncio.run(prober.run(jobs))
    assert [(o.port, o.state, o.reason) for o in got] == [
        (22, "open", "syn-ack"),
        (80, "open", "syn-ack"),
        (81, "filtered", "no-answer"),
        (53, "open|filtered", "no-answer"),
    ]
    assert tries == {jobs[0]: 1, jobs[1]: 3, jobs[2]: 3, jobs[3]: 3}
