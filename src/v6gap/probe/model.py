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
class IcmpTest:
    """One ICMP test beyond echo on one address: what came back, and why that means what it says.

    ``result``: neighbour discovery ``answered`` / ``no-answer`` / ``off-link``; an error probe
    ``port-unreachable`` / ``reject`` (another ICMP error) / ``reply`` (the port is open: no
    error to expect) / ``no-answer``; either ``unknown`` when it could not be sent.
    """

    result: str
    detail: str = ""


LinkVerdict = Literal["broken-at-link", "filtered", "off-link", "unknown"]


@dataclass(frozen=True)
class LinkDiagnosis:
    """What the probing namespace knew about a silent address at the link."""

    verdict: LinkVerdict
    family: str
    neighbour: str  # the NUD state(s) seen ("failed", "reachable", …) or "missing"
    message: str
    via: Optional[str] = None  # the gateway, when the address is not on-link

    def to_json(self) -> Dict[str, Any]:
        data: Dict[str, Any] = {
            "verdict": self.verdict,
            "family": self.family,
            "neighbour": self.neighbour,
            "message": self.message,
        }
        if self.via:
            data["via"] = self.via
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LinkDiagnosis:
        via = data.get("via")
        return cls(
            data["verdict"],
            str(data["family"]),
            str(data["neighbour"]),
            str(data["message"]),
            None if via is None else str(via),
        )


@dataclass(frozen=True)
class ProbeRun:
    """Everything one probe saw; crosses the pipe from a namespace child as ``to_data``."""

    targets: Targets
    observations: Tuple[Observation, ...]
    echo: Mapping[str, Echo] = field(default_factory=dict)
    elapsed_s: float = 0.0
    # Why a silent address was silent, read from the probing namespace's neighbour table.
    diagnosis: Mapping[str, LinkDiagnosis] = field(default_factory=dict)
    # ICMPv6 beyond echo: neighbour solicitation answered (IPv6 addresses); an ICMP error back
    # from a UDP probe of a closed port (every address, so the families can be compared).
    neighbour: Mapping[str, IcmpTest] = field(default_factory=dict)
    errors: Mapping[str, IcmpTest] = field(default_factory=dict)

    def to_data(self) -> Dict[str, Any]:
        return {
            "targets": {"ipv4": list(self.targets.ipv4), "ipv6": list(self.targets.ipv6)},
            "observations": [
                [o.address, o.proto, o.port, o.state, o.reason, o.detail] for o in self.observations
            ],
            "echo": {a: [e.answered, e.rtt_ms, e.error] for a, e in self.echo.items()},
            "elapsed_s": self.elapsed_s,
            "diagnosis": {a: d.to_json() for a, d in self.diagnosis.items()},
            "neighbour": {a: [t.result, t.detail] for a, t in self.neighbour.items()},
            "errors": {a: [t.result, t.detail] for a, t in self.errors.items()},
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
        diagnosis = {
            str(a): LinkDiagnosis.from_json(d) for a, d in data.get("diagnosis", {}).items()
        }
        tests = {
            key: {str(a): IcmpTest(str(r), str(d)) for a, (r, d) in data.get(key, {}).items()}
            for key in ("neighbour", "errors")
        }
        return cls(
            targets,
            observations,
            echo,
            float(data["elapsed_s"]),
            diagnosis,
            tests["neighbour"],
            tests["errors"],
        )
