"""A first policy from what a host runs now, so that the first plan cuts nothing in use."""

from __future__ import annotations

import ipaddress

from v6gap.harden.owner import container_evidence, container_prefixes
from v6gap.harden.policy import POLICY_SCHEMA, Forward, Ndp, Policy, Service
from v6gap.harden.render import detect_routers
from v6gap.model import Profile, Snapshot

TUNNEL_KINDS = {"sit", "ipip", "ip6tnl", "gre", "ip6gre", "gretap", "ip6gretap", "fou"}
# The addresses of the tunnel mechanisms TUN-02 names: 6to4 and Teredo (ISATAP by its IID).
TUNNEL_NETS = tuple(ipaddress.IPv6Network(n) for n in ("2002::/16", "2001::/32"))


def _network_facing(address: str) -> bool:
    try:
        return not ipaddress.ip_address(address.split("%")[0]).is_loopback
    except ValueError:  # "*" and the like: bound to every address
        return True


def listening_services(snapshot: Snapshot) -> tuple[Service, ...]:
    """One service per (proto, port) a non-loopback socket listens on, sorted."""
    seen = sorted(
        {(s.proto, s.port, s.process or "") for s in snapshot.sockets if _network_facing(s.address)}
    )
    services: dict[tuple[str, int], Service] = {}
    for proto, port, process in seen:
        if (proto, port) not in services and 1 <= port <= 65535:
            services[(proto, port)] = Service(port=port, proto=proto, name=process)
    return tuple(services.values())


def slaac_evidence(snapshot: Snapshot) -> list[str]:
    """What Router Advertisements configured: routes (proto ra) and SLAAC addresses."""
    found = [
        f"route {r.dst} via {r.gateway or '-'} dev {r.dev or '-'} proto ra"
        for r in snapshot.routes
        if r.family == "ipv6" and r.proto == "ra"
    ]
    return found + [
        f"{i.name} {a.address}/{a.prefixlen} ({', '.join(a.flags)})"
        for i in snapshot.interfaces
        for a in i.addresses
        if a.family == "ipv6" and a.scope == "global" and "mngtmpaddr" in a.flags
    ]


def tunnel_evidence(snapshot: Snapshot) -> list[str]:
    """Tunnels that carry traffic: tunnel interfaces up with addresses, tunnel addresses."""
    found = []
    for iface in snapshot.interfaces:
        carried = [a for a in iface.addresses if a.scope != "link"]
        tunnel_kind = (iface.kind or "") in TUNNEL_KINDS
        tunnelled = [a for a in carried if _tunnel_address(a.address)]
        if iface.up and ((tunnel_kind and carried) or tunnelled):
            shown = ", ".join(f"{a.address}/{a.prefixlen}" for a in (tunnelled or carried))
            found.append(f"{iface.name} ({iface.kind or 'device'}, up): {shown}")
    return found


def _tunnel_address(text: str) -> bool:
    try:
        address = ipaddress.IPv6Address(text.split("%")[0])
    except ValueError:
        return False
    isatap = (int(address) >> 32) & 0xFFFFFFFF in (0x00005EFE, 0x02005EFE)
    return isatap or any(address in net for net in TUNNEL_NETS)


def guess_profile(snapshot: Snapshot) -> Profile:
    sysctl = snapshot.sysctl
    if snapshot.ipv6_proc is False or sysctl.get("net.ipv6.conf.all.disable_ipv6") == "1":
        return Profile.DISABLED
    if container_evidence(snapshot):  # forwarding pod/container traffic is its job
        return Profile.K8S_NODE
    if sysctl.get("net.ipv6.conf.all.forwarding") == "1":
        return Profile.ROUTER
    if slaac_evidence(snapshot):
        return Profile.SLAAC_HOST
    return Profile.SERVER


def _ndp(snapshot: Snapshot) -> Ndp:
    try:
        values = [int(snapshot.sysctl[f"net.ipv6.neigh.default.gc_thresh{i}"]) for i in (1, 2, 3)]
    except (KeyError, ValueError):
        return Ndp()
    in_use = sum(1 for n in snapshot.neighbours if n.family == "ipv6")
    if values[0] < values[1] < values[2] and values[2] >= in_use:
        return Ndp(gc_thresh1=values[0], gc_thresh2=values[1], gc_thresh3=values[2])
    return Ndp()


def policy_from_snapshot(snapshot: Snapshot) -> Policy:
    # The same evidence preflight judges, so that the first plan is not refused.
    tunnels = bool(tunnel_evidence(snapshot))
    profile = guess_profile(snapshot)
    pods = container_prefixes(snapshot) if profile is Profile.K8S_NODE else ()
    return Policy(
        profile=profile,
        forward=Forward(pod_prefixes=pods),
        services=listening_services(snapshot),
        routers=tuple(detect_routers(snapshot)),
        tunnels_used=tunnels,
        ndp=_ndp(snapshot),
        schema=POLICY_SCHEMA,
    )
