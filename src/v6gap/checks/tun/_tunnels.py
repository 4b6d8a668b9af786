"""What the TUN checks share: which interfaces and addresses are IPv6 transition tunnels.

Interface kinds are rtnetlink's ``IFLA_INFO_KIND``. Judged: the kinds that carry IPv6 by design
(sit: 6in4/6to4/6rd/ISATAP; ip6tnl; ip6gre/ip6gretap/ip6erspan; vti6) and the IPv4 GRE kinds
once they carry an IPv6 address that is not link-local (the kernel gives GRE devices a
link-local address of their own). ipip carries IPv4 only; WireGuard, VXLAN and friends are
deliberate VPNs and overlays, not IPv6 transition tunnels.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Optional

from v6gap.model import Address, Interface, Snapshot, Subject

V6_TUNNEL_KINDS = frozenset({"sit", "ip6tnl", "ip6gre", "ip6gretap", "ip6erspan", "vti6"})
V4_TUNNEL_KINDS = frozenset({"gre", "gretap", "erspan"})
# Devices a tunnel module creates when it loads: down, they carry nothing.
FALLBACK_DEVICES = frozenset(
    {"sit0", "ip6tnl0", "ip6gre0", "ip6_vti0", "gre0", "gretap0", "erspan0"}
)
SIT_KINDS = frozenset({"sit"})  # protocol 41 (6in4, 6to4, ISATAP) rides on IPv4
TEREDO_INTERFACE = "teredo"  # miredo's default InterfaceName

SIX_TO_FOUR = ipaddress.IPv6Network("2002::/16")
TEREDO = ipaddress.IPv6Network("2001::/32")  # exactly 2001:0000::/32 (RFC 4380)
ISATAP_IIDS = (b"\x00\x00\x5e\xfe", b"\x02\x00\x5e\xfe")  # RFC 5214: local and universal


def tunnel_address_kind(address: str) -> Optional[str]:
    """``6to4``, ``Teredo`` or ``ISATAP`` for an address of that form, else None."""
    try:
        ip = ipaddress.IPv6Address(address.split("%", 1)[0])
    except ValueError:
        return None
    if ip in SIX_TO_FOUR:
        return "6to4"
    if ip in TEREDO:
        return "Teredo"
    if ip.packed[8:12] in ISATAP_IIDS:
        return "ISATAP"
    return None


def _carries_ipv6(iface: Interface) -> bool:
    return any(
        a.family == "ipv6" and not ipaddress.IPv6Address(a.address.split("%")[0]).is_link_local
        for a in iface.addresses
        if _valid_v6(a.address)
    )


def _valid_v6(address: str) -> bool:
    try:
        ipaddress.IPv6Address(address.split("%")[0])
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class TunnelUse:
    """The tunnels a host uses now, and the inert fallback devices seen beside them."""

    interfaces: tuple[Interface, ...]
    addresses: tuple[tuple[Interface, Address, str], ...]  # (interface, address, kind)
    inert: tuple[str, ...]  # evidence for fallback devices that are down and carry nothing

    @property
    def any(self) -> bool:
        return bool(self.interfaces or self.addresses)

    @property
    def protocol_41(self) -> bool:
        """Some tunnel rides on IPv4 protocol 41 (sit: 6in4, 6to4, ISATAP)."""
        return any(i.kind in SIT_KINDS for i in self.interfaces) or any(
            kind in ("6to4", "ISATAP") for _, _, kind in self.addresses
        )

    @property
    def teredo(self) -> bool:
        return any(kind == "Teredo" for _, _, kind in self.addresses) or any(
            i.name == TEREDO_INTERFACE for i in self.interfaces
        )

    def subjects(self) -> list[Subject]:
        found = [
            Subject(kind="interface", name=i.name, value=i.kind or "tun") for i in self.interfaces
        ]
        found += [
            Subject(kind="address", name=i.name, family="ipv6", address=a.address, value=kind)
            for i, a, kind in self.addresses
        ]
        return found

    def evidence(self) -> list[str]:
        lines = [
            f"interface {i.name}: kind {i.kind or 'tun'}, {'up' if i.up else 'down'}, "
            f"addresses {', '.join(a.address for a in i.addresses) or 'none'}"
            for i in self.interfaces
        ]
        lines += [
            f"{i.name}: {a.address}/{a.prefixlen} is a {kind} address"
            for i, a, kind in self.addresses
        ]
        return lines + list(self.inert)


def tunnel_use(snapshot: Snapshot) -> TunnelUse:
    """Tunnel interfaces and tunnel-form addresses among the snapshot's interfaces."""
    tunnels: list[Interface] = []
    inert: list[str] = []
    addresses: list[tuple[Interface, Address, str]] = []
    for iface in snapshot.interfaces:
        is_tunnel = (
            iface.kind in V6_TUNNEL_KINDS
            or (iface.kind in V4_TUNNEL_KINDS and _carries_ipv6(iface))
            or (iface.name == TEREDO_INTERFACE and iface.kind in (None, "tun"))
        )
        if is_tunnel and iface.name in FALLBACK_DEVICES and not iface.up:
            inert.append(
                f"interface {iface.name}: fallback device the {iface.kind} module created, down "
                "(carries nothing; V6G-TUN-01 judges the module)"
            )
        elif is_tunnel:
            tunnels.append(iface)
        for addr in iface.addresses:
            kind = tunnel_address_kind(addr.address) if addr.family == "ipv6" else None
            if kind:
                addresses.append((iface, addr, kind))
    return TunnelUse(tuple(tunnels), tuple(addresses), tuple(inert))
