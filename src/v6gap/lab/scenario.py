"""A lab scenario as data: hosts, the links between them and what runs on each host.

Everything here is frozen and pure; ``validate`` (in ``validate.py``) decides whether a scenario
may be built, and ``build.Lab`` builds it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import ipaddress
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Dict, Literal, Mapping, Optional, Tuple, Union

Proto = Literal["tcp", "udp"]
Backend = Literal["nft", "legacy"]
FamilyArg = Union[Literal["ipv4", "ipv6"], int]

LOOPBACK = "lo"


def family_of(address: str) -> Literal["ipv4", "ipv6"]:
    """``ipv4`` or ``ipv6`` for an address, with or without a prefix length."""
    return "ipv6" if ":" in address else "ipv4"


def normalize_family(family: FamilyArg) -> Literal["ipv4", "ipv6"]:
    """Accept ``"ipv4"``/``"ipv6"`` or ``4``/``6``."""
    if family in ("ipv4", 4):
        return "ipv4"
    if family in ("ipv6", 6):
        return "ipv6"
    raise ValueError(f"family must be ipv4, ipv6, 4 or 6, not {family!r}")


def _freeze(obj: Any, *names: str) -> None:
    """Turn list arguments into tuples and dicts into read-only mappings (frozen dataclasses)."""
    for name in names:
        value = getattr(obj, name)
        if isinstance(value, Mapping):
            frozen: Any = MappingProxyType({str(k): str(v) for k, v in value.items()})
        elif isinstance(value, (list, tuple)):
            frozen = tuple(value)
        else:
            continue
        object.__setattr__(obj, name, frozen)


@dataclass(frozen=True)
class Address:
    """A static address on one of the host's interfaces; IPv6 ones are added with ``nodad``."""

    ifname: str
    cidr: str  # "2001:db8:1::10/64", "192.0.2.10/26"

    @property
    def family(self) -> Literal["ipv4", "ipv6"]:
        return family_of(self.cidr)

    @property
    def ip(self) -> str:
        """The address without its prefix length."""
        return self.cidr.split("/", 1)[0]


@dataclass(frozen=True)
class Route:
    """A route to another lab network; never a default route, never a route out of the lab."""

    dest: str  # a documentation prefix: "2001:db8:2::/64", "198.51.100.0/26"
    via: str  # a lab address (fe80:: needs ``ifname``)
    ifname: Optional[str] = None

    @property
    def family(self) -> Literal["ipv4", "ipv6"]:
        return family_of(self.dest)


@dataclass(frozen=True)
class Listener:
    """A socket a small python3 process keeps open; TCP accepts and answers a banner, UDP echoes.

    ``v6only`` only applies to IPv6 sockets: ``True`` IPv6 only, ``False`` dual-stack (IPv4 clients
    appear as ``::ffff:a.b.c.d``), ``None`` the namespace's ``net.ipv6.bindv6only`` (0: dual-stack).
    Port 0 takes an ephemeral port; the started listener reports the real one. ``name``, when
    given, becomes the process name (``comm``, at most 15 characters) that audits show.
    """

    proto: Proto
    address: str  # "::", "0.0.0.0", "::1", or an address of the host
    port: int
    v6only: Optional[bool] = None
    name: str = ""

    @property
    def family(self) -> Literal["ipv4", "ipv6"]:
        return family_of(self.address)

    def label(self) -> str:
        addr = f"[{self.address}]" if self.family == "ipv6" else self.address
        extra = "" if self.v6only is None else (" v6only" if self.v6only else " dual-stack")
        named = f" ({self.name})" if self.name else ""
        return f"{self.proto} {addr}:{self.port}{extra}{named}"


@dataclass(frozen=True)
class Firewall:
    """Rules loaded inside the host's namespace once its interfaces are up.

    ``nft``: text for ``nft -f -``. ``iptables`` / ``ip6tables``: text for ``iptables-restore`` /
    ``ip6tables-restore`` through the ``iptables_backend`` (``nft`` or ``legacy``).
    """

    nft: Optional[str] = None
    iptables: Optional[str] = None
    ip6tables: Optional[str] = None
    iptables_backend: Backend = "nft"


@dataclass(frozen=True)
class Interface:
    """An extra interface made inside the host: ``ip link add name NAME type KIND ARGS``.

    ``bridge`` enslaves ``ports`` (link ends of this host); ``tun``/``tap`` use ``ip tuntap``.
    Which kinds exist depends on the kernel (``netns.probe_link_kinds``).
    """

    name: str
    kind: str
    args: Tuple[str, ...] = ()
    ports: Tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _freeze(self, "args", "ports")


@dataclass(frozen=True)
class Host:
    """One namespace. ``files`` are paths relative to /etc (written to /etc/netns/NS/)."""

    name: str
    role: str = "host"
    addresses: Tuple[Address, ...] = ()
    routes: Tuple[Route, ...] = ()
    sysctls: Mapping[str, Union[str, int]] = field(default_factory=dict)  # values become str
    files: Mapping[str, str] = field(default_factory=dict)
    listeners: Tuple[Listener, ...] = ()
    firewall: Optional[Firewall] = None
    interfaces: Tuple[Interface, ...] = ()
    forwarding: bool = False  # net.ipv4.ip_forward and net.ipv6.conf.all.forwarding, inside only

    def __post_init__(self) -> None:
        _freeze(self, "addresses", "routes", "sysctls", "files", "listeners", "interfaces")

    def effective_sysctls(self) -> Dict[str, str]:
        """The sysctls to write, forwarding included (explicit keys win)."""
        out: Dict[str, str] = {}
        if self.forwarding:
            out["net.ipv4.ip_forward"] = "1"
            out["net.ipv6.conf.all.forwarding"] = "1"
        out.update({k: str(v) for k, v in self.sysctls.items()})
        return out

    def addresses_of(self, family: FamilyArg, ifname: Optional[str] = None) -> Tuple[Address, ...]:
        fam = normalize_family(family)
        return tuple(
            a for a in self.addresses if a.family == fam and (ifname is None or a.ifname == ifname)
        )


@dataclass(frozen=True)
class Link:
    """A veth pair between hosts ``a`` and ``b``; ends default to ``eth0``, ``eth1``… per host.

    ``loss_percent``/``delay_ms`` need the netem qdisc (not in every kernel).
    """

    a: str
    b: str
    a_if: Optional[str] = None
    b_if: Optional[str] = None
    mtu: Optional[int] = None
    loss_percent: Optional[float] = None
    delay_ms: Optional[float] = None


@dataclass(frozen=True)
class LinkEnd:
    """One side of a resolved link: ``host``'s ``ifname`` faces ``peer``'s ``peer_ifname``."""

    host: str
    ifname: str
    peer: str
    peer_ifname: str
    link: Link


@dataclass(frozen=True)
class Scenario:
    name: str
    hosts: Tuple[Host, ...]
    links: Tuple[Link, ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        _freeze(self, "hosts", "links")

    def host(self, name: str) -> Host:
        for h in self.hosts:
            if h.name == name:
                return h
        raise KeyError(name)

    def host_names(self) -> Tuple[str, ...]:
        return tuple(h.name for h in self.hosts)

    def with_host(self, name: str, **changes: Any) -> Scenario:
        """A copy with one host's fields replaced: ``s.with_host("server", listeners=(...))``."""
        self.host(name)  # KeyError for an unknown host
        hosts = tuple(
            dataclasses.replace(h, **changes) if h.name == name else h for h in self.hosts
        )
        return dataclasses.replace(self, hosts=hosts)

    def add_hosts(self, *hosts: Host, links: Tuple[Link, ...] = ()) -> Scenario:
        return dataclasses.replace(
            self, hosts=self.hosts + tuple(hosts), links=self.links + tuple(links)
        )

    def link_ends(self) -> Tuple[LinkEnd, ...]:
        """Both ends of every link, with default interface names filled in (``eth0``, …)."""
        taken: Dict[str, set[str]] = {}
        for link in self.links:
            for host, name in ((link.a, link.a_if), (link.b, link.b_if)):
                taken.setdefault(host, set())
                if name:
                    taken[host].add(name)

        def next_name(host: str) -> str:
            n = 0
            while f"eth{n}" in taken[host]:
                n += 1
            taken[host].add(f"eth{n}")
            return f"eth{n}"

        ends = []
        for link in self.links:
            a_if = link.a_if or next_name(link.a)
            b_if = link.b_if or next_name(link.b)
            ends.append(LinkEnd(link.a, a_if, link.b, b_if, link))
            ends.append(LinkEnd(link.b, b_if, link.a, a_if, link))
        return tuple(ends)

    def interfaces_of(self, host: str) -> Tuple[str, ...]:
        """Every interface the host will have: ``lo``, link ends, extra interfaces."""
        names = [LOOPBACK]
        names += [e.ifname for e in self.link_ends() if e.host == host]
        with contextlib.suppress(KeyError):
            names += [i.name for i in self.host(host).interfaces]
        return tuple(names)


def interface_network(cidr: str) -> Union[ipaddress.IPv4Network, ipaddress.IPv6Network]:
    """The connected network of an interface address (``192.0.2.10/26`` -> ``192.0.2.0/26``)."""
    return ipaddress.ip_interface(cidr).network
