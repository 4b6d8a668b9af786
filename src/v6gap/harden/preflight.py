"""Preflight: the seed's failure modes, judged before anything is written.

Contract shared by ``harden plan`` and ``harden apply``: each refusal names the reason and the
code that overrides it (``--override CODE``, repeatable). Pure: every input is data.

What a refusal means: applying the artefacts would break something the snapshot shows in use.
Data that could not be read is a refusal too (the reason says what was not read): preflight
cannot promise "nothing breaks" about what it did not see. An image (``--root``) runs nothing,
so the refusals about running state do not apply to it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Callable, Optional, Union

import msgspec

from v6gap.checks.context import Context
from v6gap.checks.run import evaluate
from v6gap.checks.state.loopback_dependencies import CHECK as LOOPBACK_DEPENDENCIES
from v6gap.firewall.model import TCP, Ruleset
from v6gap.harden.init import listening_services, slaac_evidence, tunnel_evidence
from v6gap.harden.owner import container_evidence
from v6gap.harden.policy import Policy, Service
from v6gap.harden.render import FORWARDING_PROFILES, Artefact, known_routers
from v6gap.model import Profile, Snapshot, Status

IPAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]

# Every refusal code, so that ``--override`` can refuse a mistyped one (a test keeps it true).
CODES = (
    "ipv6-loopback-in-use",
    "slaac-in-use",
    "router-not-allowed",
    "tunnel-in-use",
    "listener-blocked",
    "ssh-session-dropped",
    "container-forwarding",
    "forwarding-in-use",
)


class Refusal(msgspec.Struct, frozen=True):
    code: str  # stable, kebab-case: what ``--override CODE`` names
    reason: str  # one line: what would break, and the evidence


class Session(msgspec.Struct, frozen=True):
    """The management connection running the command (from ``$SSH_CONNECTION``), if any."""

    client: str
    client_port: int
    server: str
    server_port: int


def parse_ssh_connection(value: Optional[str]) -> Optional[Session]:
    """``$SSH_CONNECTION`` ("client cport server sport") as a Session; None when absent or bad."""
    if not value:
        return None
    parts = value.split()
    if len(parts) != 4 or not parts[1].isdigit() or not parts[3].isdigit():
        return None
    return Session(parts[0], int(parts[1]), parts[2], int(parts[3]))


def preflight(
    policy: Policy,
    snapshot: Snapshot,
    artefacts: tuple[Artefact, ...],
    session: Optional[Session] = None,
    *,
    ruleset: Optional[Ruleset] = None,
) -> tuple[Refusal, ...]:
    """Every refusal for applying ``artefacts`` (rendered from ``policy``) to this host.

    ``ruleset``: the rendered ruleset as the engine reads it (e.g. ``read_nft_text`` on the
    rendered file, with the tables that stay beside it); given, the SSH session is judged by
    the engine on it instead of on the policy's services."""
    found: list[Refusal] = []
    for judge in _JUDGES:
        found += judge(policy, snapshot)
    if session is not None and policy.profile is not Profile.DISABLED:
        found += _session(policy, session, ruleset)
    return tuple(found)


# --------------------------------------------------------------------------- IPv6 off


def _loopback(policy: Policy, snapshot: Snapshot) -> list[Refusal]:
    """Profile disabled turns IPv6 off on lo too: whatever uses ::1 breaks (STATE-04's facts)."""
    if policy.profile is not Profile.DISABLED:
        return []
    result = evaluate(LOOPBACK_DEPENDENCIES, Context(snapshot, Profile.DISABLED))
    if result.status is Status.PASS:
        return []
    what = result.reason if result.status is Status.FAIL else f"cannot tell: {result.reason}"
    return _refuse(
        "ipv6-loopback-in-use", f"disabling IPv6 breaks ::1 users: {what}", result.evidence
    )


# --------------------------------------------------------------------------- RAs


def _slaac(policy: Policy, snapshot: Snapshot) -> list[Refusal]:
    """Profiles other than slaac-host set accept_ra=0: addresses and routes from RAs expire."""
    if policy.profile in (Profile.SLAAC_HOST, Profile.DISABLED) or snapshot.source == "root":
        return []
    evidence = slaac_evidence(snapshot)
    if not evidence:
        return _unseen(
            snapshot, "slaac-in-use", "whether RAs configure the host", "routes", "interfaces"
        )
    return _refuse(
        "slaac-in-use",
        f"profile {policy.profile.value} sets accept_ra=0 but the host is configured by "
        "Router Advertisements; these expire",
        evidence,
    )


def _router_guard(policy: Policy, snapshot: Snapshot) -> list[Refusal]:
    """slaac-host: the RA guard accepts only ``routers``; the router in use must be one."""
    if policy.profile is not Profile.SLAAC_HOST or snapshot.source == "root":
        return []
    allowed = set(known_routers(policy, snapshot))
    if not allowed:  # no router named or known: the guard accepts any link-local source
        return []
    unseen = _unseen(snapshot, "router-not-allowed", "which router is in use", "routes")
    if unseen:
        return unseen
    cut = []
    for route in snapshot.routes:
        if route.family != "ipv6" or route.dst != "default" or not route.gateway:
            continue
        gateway = _address(route.gateway)
        if gateway is not None and gateway.is_link_local and str(gateway) not in allowed:
            cut.append(f"default via {gateway} dev {route.dev or '-'} proto {route.proto or '-'}")
    if not cut:
        return []
    return _refuse(
        "router-not-allowed",
        f"the RA guard accepts only {', '.join(sorted(allowed))}: it drops the router in use",
        cut,
    )


# --------------------------------------------------------------------------- tunnels


def _tunnels(policy: Policy, snapshot: Snapshot) -> list[Refusal]:
    """tunnels_used: false blocks the modules and the ruleset drops their packets."""
    if policy.tunnels_used or snapshot.source == "root":
        return []
    evidence = tunnel_evidence(snapshot)
    if not evidence:
        return _unseen(snapshot, "tunnel-in-use", "whether a tunnel is up", "interfaces")
    return _refuse("tunnel-in-use", "tunnels_used is false but a tunnel carries traffic", evidence)


# --------------------------------------------------------------------------- listeners


def _listeners(policy: Policy, snapshot: Snapshot) -> list[Refusal]:
    """A network-facing listener the ruleset would drop (listen sockets count as in use)."""
    if policy.profile is Profile.DISABLED or snapshot.source == "root":
        return []
    unseen = _unseen(snapshot, "listener-blocked", "which listeners the ruleset cuts", "sockets")
    if unseen:
        return unseen
    cut = [
        f"{s.proto}/{s.port} ({s.name or 'unknown process'})"
        for s in listening_services(snapshot)
        if not any(a.proto == s.proto and a.port == s.port for a in policy.services)
    ]
    if not cut:
        return []
    return _refuse("listener-blocked", "the ruleset drops listeners that run now", cut, ", ", 8)


def _session(policy: Policy, session: Session, ruleset: Optional[Ruleset]) -> list[Refusal]:
    """The SSH session's client must be able to reconnect through the rendered input chain.

    Without a ruleset, judged on the policy's services: in the rendered input chain the only
    accepts of new TCP connections are the service rules (the rest is loopback, conntrack's
    established/related, and ICMP), and a lab test judges the loaded ruleset with the engine
    to keep the two in agreement. The running session itself survives on conntrack's
    established state; a reconnect, or a new session to confirm, would not.
    """
    client = _address(session.client)
    if client is None:
        return _refuse(
            "ssh-session-dropped", f"$SSH_CONNECTION client {session.client!r} is not an address"
        )
    if isinstance(client, ipaddress.IPv6Address) and client.ipv4_mapped is not None:
        client = client.ipv4_mapped  # a dual-stack sshd sees IPv4 clients as ::ffff:a.b.c.d
    if client.is_loopback:
        return []
    where = (
        f"the SSH session running this command ($SSH_CONNECTION {session.client} "
        f"{session.client_port} {session.server} {session.server_port})"
    )
    if ruleset is not None:
        return _session_by_engine(ruleset, client, session.server_port, where)
    allowing = [s for s in policy.services if _admits(s, "tcp", session.server_port, client)]
    if allowing:
        return []
    return _refuse(
        "ssh-session-dropped",
        f"no service admits tcp/{session.server_port} from {client}, {where}: a reconnect "
        "would be dropped",
    )


def _session_by_engine(ruleset: Ruleset, client: IPAddress, port: int, where: str) -> list[Refusal]:
    from v6gap.firewall.parity import explain  # the engine, only when a ruleset is given

    family = "ipv6" if client.version == 6 else "ipv4"
    decision = explain(ruleset, family, TCP, dport=port, saddr=str(client))
    if decision.verdict == "accept":
        return []
    what = "dropped" if decision.verdict == "drop" else f"{decision.verdict} (cannot promise)"
    return _refuse(
        "ssh-session-dropped",
        f"a reconnect to tcp/{port} from {client}, {where}, is {what}",
        decision.trace[-2:],
    )


def _admits(service: Service, proto: str, port: int, client: IPAddress) -> bool:
    if service.proto != proto or service.port != port:
        return False
    if not service.sources:
        return True
    return any(
        client in ipaddress.ip_network(p) for p in service.sources if _same_family(p, client)
    )


def _same_family(prefix: str, address: IPAddress) -> bool:
    return ipaddress.ip_network(prefix).version == address.version


# --------------------------------------------------------------------------- forwarding


def _containers(policy: Policy, snapshot: Snapshot) -> list[Refusal]:
    """Docker and Kubernetes forward their containers' traffic through this host.

    v6gap's forward chain drops by default, and a drop in any base chain is final whatever
    Docker's or kube-proxy's chains accept; only k8s-node with ``forward.pod_prefixes`` lets
    that traffic through."""
    if snapshot.source == "root":
        return []
    if policy.profile is Profile.K8S_NODE and policy.forward.pod_prefixes:
        return []
    evidence = container_evidence(snapshot)
    if not evidence:
        return _unseen(
            snapshot, "container-forwarding", "whether containers are routed", "interfaces"
        )
    why = (
        "forwarding off and the forward chain drops"
        if policy.profile not in FORWARDING_PROFILES
        else "the forward chain drops what forward.pod_prefixes does not name"
    )
    return _refuse(
        "container-forwarding", f"containers are routed through this host ({why})", evidence
    )


def _forwarding(policy: Policy, snapshot: Snapshot) -> list[Refusal]:
    """Forwarding on now, turned off (or dropped by the forward chain) by the policy."""
    if policy.profile in FORWARDING_PROFILES or snapshot.source == "root":
        return []
    on = [
        f"{key} = 1"
        for key in ("net.ipv6.conf.all.forwarding", "net.ipv4.ip_forward")
        if snapshot.sysctl.get(key, "").strip() == "1"
    ]
    if not on:
        return _unseen(snapshot, "forwarding-in-use", "whether the host forwards", "sysctl")
    reason = (
        f"the host forwards now; profile {policy.profile.value} turns IPv6 forwarding off and "
        "the inet forward chain drops both families"
    )
    return _refuse("forwarding-in-use", reason, on, ", ")


# --------------------------------------------------------------------------- helpers


def _address(text: str) -> Optional[IPAddress]:
    try:
        return ipaddress.ip_address(text.split("%")[0])
    except ValueError:
        return None


def _unseen(snapshot: Snapshot, code: str, what: str, *sections: str) -> list[Refusal]:
    """A refusal when a section it needs was not read: no promise about what was not seen."""
    missing = snapshot.missing(*sections)
    return _refuse(code, f"cannot tell {what} ({missing})") if missing else []


def _refuse(
    code: str, reason: str, evidence: Sequence[str] = (), sep: str = "; ", most: int = 4
) -> list[Refusal]:
    """One refusal: the reason, then (in parentheses) the first ``most`` pieces of evidence."""
    shown = sep.join(evidence[:most])
    return [Refusal(code, f"{reason} ({shown})" if shown else reason)]


_JUDGES: tuple[Callable[[Policy, Snapshot], list[Refusal]], ...] = (
    _loopback,
    _slaac,
    _router_guard,
    _tunnels,
    _listeners,
    _containers,
    _forwarding,
)
