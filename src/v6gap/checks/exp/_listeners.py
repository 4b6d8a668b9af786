"""What the EXP checks share: the scope of each listening socket, and who is network-facing.

An IPv6 socket on ``::`` with ``IPV6_V6ONLY`` off is dual-stack: it takes IPv4 clients too (as
``::ffff:a.b.c.d``). One bound to a specific IPv6 address is IPv6-only whatever the option says;
one bound to ``::ffff:a.b.c.d`` is in effect an IPv4 listener on that address.
"""

from __future__ import annotations

import ipaddress
from typing import Optional, Union

from v6gap.checks.context import Context
from v6gap.model import Socket, Subject

DUAL_STACK = "dual-stack"
IPV6_ONLY = "IPv6 only"
IPV4_ONLY = "IPv4 only"
LOOPBACK = "loopback"
V6_UNKNOWN = "IPv6 (dual-stack unknown)"


def _ip(address: str) -> Optional[Union[ipaddress.IPv4Address, ipaddress.IPv6Address]]:
    try:
        return ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return None


def _mapped(socket: Socket) -> Optional[ipaddress.IPv4Address]:
    ip = _ip(socket.address)
    return ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None


def is_loopback(socket: Socket) -> bool:
    ip = _ip(socket.address)
    mapped = _mapped(socket)
    return bool((ip is not None and ip.is_loopback) or (mapped is not None and mapped.is_loopback))


def is_wildcard(socket: Socket) -> bool:
    return socket.address in ("::", "0.0.0.0", "*")


def scope(socket: Socket) -> str:
    """IPv4 only, IPv6 only, dual-stack, loopback, or IPv6 with the dual-stack bit unknown."""
    if is_loopback(socket):
        return LOOPBACK
    if socket.family == "ipv4" or _mapped(socket) is not None:
        return IPV4_ONLY
    if socket.address != "::":
        return IPV6_ONLY
    if socket.v6only is None:
        return V6_UNKNOWN
    return IPV6_ONLY if socket.v6only else DUAL_STACK


def describe(socket: Socket) -> str:
    where = f"[{socket.address}]" if socket.family == "ipv6" else socket.address
    owner = (
        f" ({socket.process}, pid {socket.pid})"
        if socket.pid
        else (f" ({socket.process})" if socket.process else " (process unknown)")
    )
    return f"{socket.proto} {where}:{socket.port}{owner}: {scope(socket)}"


def subject(socket: Socket, value: Optional[str] = None) -> Subject:
    return Subject(
        kind="port",
        family=socket.family,
        proto=socket.proto,
        port=socket.port,
        address=socket.address,
        process=socket.process,
        value=value or scope(socket),
    )


def sockets_missing(ctx: Context) -> Optional[str]:
    """Why the listeners cannot be judged (an image has none; collection may have failed)."""
    if ctx.is_image:
        return "image: listening sockets exist only on a running system"
    missing = ctx.snapshot.missing("sockets")
    return f"cannot read the listening sockets ({missing})" if missing else None


def notes(ctx: Context) -> list[str]:
    """Caveats the collector recorded about the sockets (no v6only bit, owners unknown)."""
    return [
        f"{key}: {why}"
        for key, why in sorted(ctx.snapshot.unavailable.items())
        if key.startswith("sockets.")
    ]


def network_facing_v6(sockets: tuple[Socket, ...]) -> list[Socket]:
    """IPv6 sockets that take connections from the network over IPv6 (dual-stack included)."""
    return [s for s in sockets if s.family == "ipv6" and not is_loopback(s) and _mapped(s) is None]
