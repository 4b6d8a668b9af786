"""Which of a host's addresses the network can reach."""

from __future__ import annotations

import ipaddress

from v6gap.model import Address, Snapshot


def is_global_ipv6(addr: Address) -> bool:
    """Scope global as the kernel reports it, and not loopback/link-local whatever was recorded."""
    if addr.family != "ipv6" or addr.scope != "global":
        return False
    try:
        ip = ipaddress.IPv6Address(addr.address.split("%")[0])
    except ValueError:
        return True  # recorded as global: keep it visible rather than drop it silently
    return not (ip.is_loopback or ip.is_link_local or ip.is_unspecified)


def global_ipv6(snapshot: Snapshot) -> list[tuple[str, Address]]:
    """(interface name, address) for every global IPv6 address, in interface order."""
    return [
        (iface.name, addr)
        for iface in snapshot.interfaces
        for addr in iface.addresses
        if is_global_ipv6(addr)
    ]
