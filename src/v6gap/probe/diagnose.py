"""Broken is not filtered: why an address answered nothing at all, from the probing side.

A target whose firewall drops neighbour solicitations (``policy drop`` without ICMPv6 135/136)
is unreachable over IPv6 while IPv4 works (ARP is not in the ``inet`` family): every probe then
fails locally with EHOSTUNREACH ("address unreachable") or times out. The neighbour table of the
namespace that probed tells the two apart: an on-link target whose entry is INCOMPLETE, FAILED
or missing never answered a neighbour solicitation (broken at the link); one that resolved
answered at the link and dropped everything else (filtered).
"""

from __future__ import annotations

import ipaddress
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from v6gap.probe.model import LinkDiagnosis, ProbeRun

# Observation reasons that only the target can give: it is alive and reachable.
TARGET_ANSWERS = frozenset({"syn-ack", "refused", "reply"})
UNRESOLVED = frozenset({"incomplete", "failed", "missing", "none"})


def silent_addresses(run: ProbeRun) -> List[str]:
    """Addresses that gave no answer only the target could give: no open or closed port, no
    UDP reply or port-unreachable, no echo reply (rejects may be the local stack's "address
    unreachable")."""
    heard = {o.address for o in run.observations if o.reason in TARGET_ANSWERS}
    heard |= {a for a, e in run.echo.items() if e.answered}
    heard |= {a for a, t in run.errors.items() if t.result in ("port-unreachable", "reply")}
    return [a for a in run.targets.addresses if a not in heard]


def _bare(address: str) -> str:
    return address.split("%", 1)[0]


def route_for(address: str, routes: Sequence[Mapping[str, Any]]) -> Optional[Mapping[str, Any]]:
    """The longest-prefix route of ``address`` among ``routes`` (main-table unicast routes)."""
    ip = ipaddress.ip_address(_bare(address))
    best: Optional[Tuple[int, Mapping[str, Any]]] = None
    family = "ipv6" if ip.version == 6 else "ipv4"
    for route in routes:
        if route.get("family", family) != family:
            continue
        dst = str(route.get("dst", ""))
        if dst == "default":
            net = ipaddress.ip_network("::/0" if ip.version == 6 else "0.0.0.0/0")
        else:
            try:
                net = ipaddress.ip_network(dst, strict=False)
            except ValueError:
                continue
        if net.version != ip.version or ip not in net:
            continue
        if best is None or net.prefixlen > best[0]:
            best = (net.prefixlen, route)
    return best[1] if best else None


def neighbour_state(address: str, neighbours: Sequence[Mapping[str, Any]]) -> str:
    """The NUD state of ``address`` in the table ("missing" when there is no entry)."""
    ip = ipaddress.ip_address(_bare(address))
    for n in neighbours:
        try:
            if ipaddress.ip_address(_bare(str(n.get("address", "")))) == ip:
                return str(n.get("state") or "none")
        except ValueError:
            continue
    return "missing"


def _resolved(state: str) -> bool:
    return not set(state.split("|")) <= UNRESOLVED


def diagnose(
    address: str,
    family: str,
    neighbours: Sequence[Mapping[str, Any]],
    routes: Sequence[Mapping[str, Any]],
) -> LinkDiagnosis:
    """Broken at the link, or filtered, for one silent address (pure: tables as collected)."""
    on_link = "%" in address or ipaddress.ip_address(_bare(address)).is_link_local
    via: Optional[str] = None
    if not on_link:
        route = route_for(address, routes)
        if route is None:
            return LinkDiagnosis(
                "unknown", family, "missing", f"{address} answered nothing: no route to it here"
            )
        via = route.get("gateway")
        on_link = via is None
    if not on_link:
        state = neighbour_state(str(via), neighbours)
        if not _resolved(state):
            return LinkDiagnosis(
                "off-link",
                family,
                state,
                f"{address} answered nothing: its gateway {via} did not resolve at the link "
                f"(neighbour {state})",
                str(via),
            )
        return LinkDiagnosis(
            "off-link",
            family,
            state,
            f"{address} answered nothing: not on-link (via {via}), so filtered and broken "
            "cannot be told apart from here",
            str(via),
        )
    state = neighbour_state(address, neighbours)
    if _resolved(state):
        return LinkDiagnosis(
            "filtered",
            family,
            state,
            f"{address} answered at the link (neighbour {state}) but to no probe: "
            "everything is dropped (filtered), the link works",
        )
    if family == "ipv6":
        message = (
            f"IPv6 broken at the link: no neighbour advertisement from {address}; likely cause: "
            "the target's firewall drops neighbour solicitations (V6G-FW-04)"
        )
    else:
        message = (
            f"IPv4 broken at the link: no ARP reply from {address}; the host is down or not "
            "on this link"
        )
    return LinkDiagnosis("broken-at-link", family, state, message)


def read_tables() -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    """(neighbours, routes) of the current network namespace, read with rtnetlink."""
    from v6gap.collect.netlink import parse_netlink_dump, read_netlink

    parsed = parse_netlink_dump(*read_netlink())
    return parsed["neighbours"], parsed["routes"]


def diagnose_run(run: ProbeRun) -> Dict[str, LinkDiagnosis]:
    """A diagnosis for every silent address of ``run``, read in the namespace that probed."""
    silent = silent_addresses(run)
    if not silent:
        return {}
    try:
        neighbours, routes = read_tables()
    except (OSError, ValueError) as exc:
        return {
            a: LinkDiagnosis(
                "unknown",
                run.targets.family_of(a),
                "unknown",
                f"{a} answered nothing; the neighbour table could not be read: {exc}",
            )
            for a in silent
        }
    return {a: diagnose(a, run.targets.family_of(a), neighbours, routes) for a in silent}
