"""What the probe checks judge: one probe run, its parity rows and the expectations asked."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Tuple

from v6gap.model import Subject
from v6gap.probe.model import ProbeRun
from v6gap.probe.parity import Expectation, Row, build_rows

REFERENCES = ("issue 6: v6gap probe",)


@dataclass(frozen=True)
class ProbeEvidence:
    """A probe run as the checks see it. ``origin`` says where the packets came from
    ("namespace v6g-attacker-x"), for evidence such as "confirmed by a connection from …"."""

    run: ProbeRun
    expectations: Tuple[Expectation, ...] = ()
    ports_note: str = ""
    origin: str = "this host"
    rows: Tuple[Row, ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.rows:
            object.__setattr__(self, "rows", tuple(build_rows(self.run)))

    @property
    def both_families(self) -> bool:
        return bool(self.run.targets.ipv4 and self.run.targets.ipv6)


def states_text(row: Row) -> str:
    return ", ".join(f"{a} {s}" for a, s in row.states.items())


def exposed_subjects(evidence: ProbeEvidence, row: Row, family: str) -> Tuple[Subject, ...]:
    """One subject per address of ``family`` on which ``row``'s port may be reached."""
    targets = evidence.run.targets
    addresses = targets.ipv6 if family == "ipv6" else targets.ipv4
    return tuple(
        Subject(kind="port", family=family, proto=row.proto, port=row.port, address=a)
        for a in addresses
        if row.states.get(a) in ("open", "open|filtered")
    )
