"""Judging the families against each other: per (proto, port) the state on every address.

Exposure decides the verdict: ``open`` exposes, ``open|filtered`` may expose, ``closed`` and
``filtered`` do not. A family's exposure is the widest of its addresses; ``ipv6-wider`` means
some address over IPv6 exposes a port more than every IPv4 address does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Literal, Mapping, Optional, Sequence, Tuple

from v6gap.probe.icmp import ERROR_PORT, UNTESTABLE
from v6gap.probe.model import IcmpTest, Observation, ProbeRun, Proto, State

SCHEMA = "v6gap.probe/1"
Verdict = Literal["parity", "ipv6-wider", "ipv4-wider"]
EXPOSURE: Mapping[str, int] = {"closed": 0, "filtered": 0, "open|filtered": 1, "open": 2}
_VERDICT_ORDER: Mapping[str, int] = {"ipv6-wider": 0, "ipv4-wider": 1, "parity": 2}


@dataclass(frozen=True)
class Row:
    proto: Proto
    port: int
    states: Mapping[str, State]
    reasons: Mapping[str, str]  # "reject EHOSTUNREACH", "no-answer", … for the text table
    verdict: Verdict

    @property
    def uniform(self) -> bool:
        return len(set(self.states.values())) <= 1

    @property
    def exposed(self) -> bool:
        return any(EXPOSURE[s] > 0 for s in self.states.values())


def family_exposure(states: Mapping[str, State], addresses: Sequence[str]) -> Optional[int]:
    known = [EXPOSURE[states[a]] for a in addresses if a in states]
    return max(known) if known else None


def verdict_of(states: Mapping[str, State], ipv4: Sequence[str], ipv6: Sequence[str]) -> Verdict:
    """Compare the widest exposure of each family; a family with no address compares equal."""
    v4, v6 = family_exposure(states, ipv4), family_exposure(states, ipv6)
    if v4 is None or v6 is None or v4 == v6:
        return "parity"
    return "ipv6-wider" if v6 > v4 else "ipv4-wider"


def _reason(o: Observation) -> str:
    return f"{o.reason} {o.detail}".strip()


def build_rows(run: ProbeRun) -> List[Row]:
    """One row per (proto, port): IPv6 wider, IPv4 wider, differing states, then the rest."""
    grouped: Dict[Tuple[Proto, int], List[Observation]] = {}
    for o in run.observations:
        grouped.setdefault((o.proto, o.port), []).append(o)
    rows = []
    for (proto, port), observed in grouped.items():
        states = {o.address: o.state for o in observed}
        rows.append(
            Row(
                proto,
                port,
                states,
                {o.address: _reason(o) for o in observed},
                verdict_of(states, run.targets.ipv4, run.targets.ipv6),
            )
        )
    rows.sort(key=lambda r: (_VERDICT_ORDER[r.verdict], r.uniform, r.proto, r.port))
    return rows


def echo_verdict(run: ProbeRun) -> Verdict:
    states: Dict[str, State] = {
        a: ("open" if e.answered else "filtered") for a, e in run.echo.items()
    }
    return verdict_of(states, run.targets.ipv4, run.targets.ipv6)


@dataclass(frozen=True)
class Expectation:
    proto: Proto
    port: int
    expected: Literal["open", "closed"]
    address: str
    actual: State

    @property
    def passed(self) -> bool:
        return (self.actual == "open") == (self.expected == "open")


def check_expectations(
    run: ProbeRun, expect_open: Sequence[int], expect_closed: Sequence[int]
) -> List[Expectation]:
    """The seed script's check list: every address, TCP; "closed" means not open."""
    states = {(o.address, o.proto, o.port): o.state for o in run.observations}
    out = []
    wanted: Tuple[Tuple[Literal["open", "closed"], Sequence[int]], ...] = (
        ("open", expect_open),
        ("closed", expect_closed),
    )
    for expected, ports in wanted:
        for port in ports:
            for address in run.targets.addresses:
                actual = states.get((address, "tcp", port))
                if actual is not None:
                    out.append(Expectation("tcp", port, expected, address, actual))
    return out


def to_json_data(run: ProbeRun, rows: Sequence[Row]) -> Dict[str, Any]:
    """The ``v6gap.probe/1`` document, exactly the shape issue 6 promises; ``icmp`` adds the
    neighbour-solicitation and error tests when they ran, and what cannot be tested from
    outside; ``diagnosis`` (why an address answered nothing at all) only when some address did."""
    doc: Dict[str, Any] = {
        "schema": SCHEMA,
        "targets": {"ipv4": list(run.targets.ipv4), "ipv6": list(run.targets.ipv6)},
        "results": [
            {"proto": r.proto, "port": r.port, "states": dict(r.states), "verdict": r.verdict}
            for r in rows
        ],
        "icmp": {
            "echo": {a: {"answered": e.answered, "rtt_ms": e.rtt_ms} for a, e in run.echo.items()},
            "verdict": echo_verdict(run),
        },
    }
    icmp = doc["icmp"]
    if run.neighbour:
        icmp["neighbour"] = {a: _test(t) for a, t in run.neighbour.items()}
    if run.errors:
        icmp["errors"] = {a: {"port": ERROR_PORT, **_test(t)} for a, t in run.errors.items()}
    if run.echo or run.errors:
        icmp["untestable"] = list(UNTESTABLE)
    if run.diagnosis:
        doc["diagnosis"] = {a: d.to_json() for a, d in run.diagnosis.items()}
    return doc


def _test(test: IcmpTest) -> Dict[str, str]:
    return {"result": test.result, "detail": test.detail}


def ipv6_wider(rows: Sequence[Row]) -> bool:
    return any(r.verdict == "ipv6-wider" for r in rows)
