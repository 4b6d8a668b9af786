"""Probe evidence for ``v6gap audit``: the audited host's own addresses, reached from another
namespace, on its listeners' ports plus the common ones."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional, Tuple

from v6gap.errors import InputError
from v6gap.probe import ports
from v6gap.probe.targets import Targets, self_targets

if TYPE_CHECKING:
    from v6gap.checks.probe import ProbeEvidence
    from v6gap.model import Snapshot

DEFAULT_TOP = 100


@dataclass(frozen=True)
class ProbePlan:
    targets: Targets
    tcp: Tuple[int, ...]
    udp: Tuple[int, ...]
    note: str


def listener_ports(snapshot: Snapshot) -> Tuple[Tuple[int, ...], Tuple[int, ...]]:
    """(TCP, UDP) ports the host listens on from the network (loopback-only sockets left out)."""
    from v6gap.checks.exp._listeners import is_loopback

    tcp = {s.port for s in snapshot.sockets if s.proto == "tcp" and not is_loopback(s)}
    udp = {s.port for s in snapshot.sockets if s.proto == "udp" and not is_loopback(s)}
    return tuple(sorted(tcp)), tuple(sorted(udp))


def plan_for(
    snapshot: Snapshot,
    port_spec: Optional[str] = None,
    services: Optional[str] = ports.NMAP_SERVICES,
) -> ProbePlan:
    """Every global address of the audited host; its listeners' ports (so packets can confirm
    V6G-EXP-03) plus ``port_spec``, or the most common TCP ports when none is given."""
    targets = self_targets(snapshot)
    if not targets.addresses:
        raise InputError(f"--probe-from-netns: {snapshot.hostname} has no global address to probe")
    tcp, udp = listener_ports(snapshot)
    if port_spec is not None:
        extra = ports.parse_port_spec(port_spec)
        note = f"ports: the host's {len(tcp)} TCP listener port(s) and --probe-ports {port_spec}"
    else:
        extra, source = ports.ranked_top_ports(DEFAULT_TOP, services)
        note = (
            f"ports: the host's {len(tcp)} TCP listener port(s) and the {len(extra)} most "
            f"common TCP ports, from {source}"
        )
    if udp:
        note += f"; UDP: the listener port(s) {', '.join(map(str, udp))}"
    return ProbePlan(targets, ports.merge_ports(tcp, extra), udp, note)


def probe_evidence(snapshot: Snapshot, netns: str, port_spec: Optional[str]) -> ProbeEvidence:
    """Probe the audited host from netns ``netns`` (a forked child: this process sends nothing)."""
    from v6gap.checks.probe import ProbeEvidence
    from v6gap.probe.run import probe_from_netns

    plan = plan_for(snapshot, port_spec)
    run = probe_from_netns(netns, plan.targets, plan.tcp, plan.udp)
    return ProbeEvidence(run, ports_note=plan.note, origin=f"namespace {netns}")
