"""Targets: names and addresses the user named, resolved to addresses; never a range."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterable, List, Optional, Sequence, Tuple, Union

from v6gap.errors import InputError

if TYPE_CHECKING:
    from v6gap.model import Snapshot

IPAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]
Resolver = Callable[[str], Sequence[Tuple[int, str]]]
_FAMILY = {4: int(socket.AF_INET), 6: int(socket.AF_INET6)}


@dataclass(frozen=True)
class Targets:
    """The addresses to probe, by family, in the order they were found."""

    ipv4: Tuple[str, ...] = ()
    ipv6: Tuple[str, ...] = ()

    @property
    def addresses(self) -> Tuple[str, ...]:
        return self.ipv4 + self.ipv6

    def family_of(self, address: str) -> str:
        return "ipv6" if address in self.ipv6 else "ipv4"


def getaddrinfo_resolver(name: str) -> Sequence[Tuple[int, str]]:
    """(family, address) for every A and AAAA record of ``name``."""
    try:
        infos = socket.getaddrinfo(name, None, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise InputError(f"target {name!r}: cannot resolve: {exc.strerror}") from None
    return [(int(fam), str(sa[0])) for fam, _, _, _, sa in infos]


def _literal(text: str) -> Optional[IPAddress]:
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None


def _refuse_range(text: str) -> None:
    if "/" in text or "*" in text or "," in text:
        raise InputError(
            f"target {text!r}: ranges and prefixes are never probed; name each address"
        )
    host = text.split("%", 1)[0]
    if "-" in host and _literal(host.split("-", 1)[0]) is not None:
        raise InputError(f"target {text!r}: address ranges are never probed; name each address")


def _check_address(text: str, addr: IPAddress) -> None:
    if addr.is_multicast or addr.is_unspecified:
        raise InputError(f"target {text!r}: multicast and unspecified addresses are not probed")
    if isinstance(addr, ipaddress.IPv4Address) and str(addr).endswith(".255"):
        raise InputError(f"target {text!r}: looks like a broadcast address; name a host")


def resolve_targets(names: Iterable[str], resolver: Resolver = getaddrinfo_resolver) -> Targets:
    """Addresses for each TARGET (an address, or a name: all its A and AAAA records)."""
    v4: List[str] = []
    v6: List[str] = []
    for name in names:
        _refuse_range(name)
        literal = _literal(name)
        found: Sequence[Tuple[int, str]]
        if literal is not None:
            _check_address(name, literal)
            scope = "%" + name.split("%", 1)[1] if "%" in name else ""
            found = [(_FAMILY[literal.version], f"{literal}{scope}")]
        else:
            found = resolver(name)
            if not found:
                raise InputError(f"target {name!r}: no A or AAAA record")
        for family, address in found:
            bucket = v6 if family == socket.AF_INET6 else v4
            if address not in bucket:
                bucket.append(address)
    if not v4 and not v6:
        raise InputError("no target: name at least one address or host name")
    return Targets(tuple(v4), tuple(v6))


def self_targets(snapshot: Snapshot) -> Targets:
    """Every global address of a host: IPv6 as ``global_ipv6`` sees it, and every IPv4 address
    that is neither loopback nor link-local, in interface order."""
    from v6gap.analysis.addresses import global_ipv6

    v4: List[str] = []
    for iface in snapshot.interfaces:
        for addr in iface.addresses:
            if addr.family != "ipv4" or addr.scope != "global":
                continue
            ip = _literal(addr.address)
            if ip is None or ip.is_loopback or ip.is_link_local or addr.address in v4:
                continue
            v4.append(addr.address)
    v6: List[str] = []
    for _, addr in global_ipv6(snapshot):
        if addr.address not in v6:
            v6.append(addr.address)
    return Targets(tuple(v4), tuple(v6))


def parse_sources(values: Iterable[str]) -> Tuple[str, ...]:
    """``--source`` values: one literal address per family (``fe80::1%eth0`` keeps its scope)."""
    seen: dict[int, str] = {}
    for text in values:
        addr = _literal(text)
        if addr is None:
            raise InputError(f"--source {text!r}: not an IP address")
        if addr.is_multicast or addr.is_unspecified:
            raise InputError(f"--source {text!r}: multicast and unspecified addresses cannot send")
        if addr.version in seen:
            raise InputError(
                f"--source {text!r}: IPv{addr.version} source already given ({seen[addr.version]})"
            )
        seen[addr.version] = text
    return tuple(seen.values())


def merge_targets(*groups: Targets) -> Targets:
    """The union of target groups, first occurrence kept."""
    v4 = dict.fromkeys(a for g in groups for a in g.ipv4)
    v6 = dict.fromkeys(a for g in groups for a in g.ipv6)
    return Targets(tuple(v4), tuple(v6))
