"""What a probe saw, as data: one observation per (address, proto, port), echo per address."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Literal, Mapping, Optional, Tuple

from v6gap.probe.targets import Targets

Proto = Literal["tcp", "udp"]
State = Literal["open", "closed", "filtered", "open|filtered"]
STATES: Tuple[State, ...] = ("open", "closed", "filtered", "open|filtered")

# Why a state was given. A reject that comes back as an ICMP error other than port-unreachable
# (host/admin-prohibited) is an answer: "filtered" at once, never a timeout to wait out.
Reason = Literal["syn-ack", "refused", "reject", "reply", "no-answer"]


@dataclass(frozen=True)
class Observation:
    address: str
    proto: Proto
    port: int
    state: State
    reason: Reason
    detail: str = ""  # the errno name behind a reject: EHOSTUNREACH, EACCES, ENETUNREACH


@dataclass(frozen=True)
class Echo:
    """ICMP / ICMPv6 echo to one address."""

    answered: bool
    rtt_ms: Optional[float] = None
    error: str = ""


@dataclass(frozen=True)
class ProbeRun:
    """Everything one probe saw; crosses the pipe from a namespace child as ``to_data``."""

    targets: Targets
    observations: Tuple[Observation, ...]
    echo: Mapping[str, Echo] = field(default_factory=dict)
    elapsed_s: float = 0.0

    def to_data(self) -> Dict[str, Any]:
        return {
            "targets": {"ipv4": list(self.targets.ipv4), "ipv6": list(self.targets.ipv6)},
            "observations": [
                [o.address, o.proto, o.port, o.state, o.reason, o.detail] for o in self.observations
            ],
            "echo": {a: [e.answered, e.rtt_ms, e.error] for a, e in self.echo.items()},
            "elapsed_s": self.elapsed_s,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> ProbeRun:
        targets = Targets(tuple(data["targets"]["ipv4"]), tuple(data["targets"]["ipv6"]))
        observations = tuple(
            Observation(str(a), p, int(port), s, r, str(d))
            for a, p, port, s, r, d in data["observations"]
        )
        echo = {
            str(a): Echo(bool(ok), None if rtt is None else float(rtt), str(err))
            for a, (ok, rtt, err) in data["echo"].items()
        }
        return cls(targets, observations, echo, float(data["elapsed_s"]))
