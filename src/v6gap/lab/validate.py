"""Decide, before anything is created, whether a scenario may be built.

Addresses come only from the documentation prefixes (RFC 3849, RFC 5737), or from addresses
derived from them (6to4 ``2002:c000:02xx::/48`` of 192.0.2.x, Teredo with a documentation server
and client), or IPv6 link-local. Nothing routes out of the lab: no default route, no route to a
prefix outside those.
"""

from __future__ import annotations

import ipaddress
import posixpath
import re
from typing import List, Optional, Set, Union

from v6gap.errors import LabError
from v6gap.lab.scenario import LOOPBACK, Host, Scenario, family_of

IPAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]
IPNetwork = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]

DOC_V4 = tuple(
    ipaddress.IPv4Network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")
)
DOC_V6 = ipaddress.IPv6Network("2001:db8::/32")
SIX_TO_FOUR = ipaddress.IPv6Network("2002::/16")
TEREDO = ipaddress.IPv6Network("2001::/32")
LINK_LOCAL = ipaddress.IPv6Network("fe80::/10")
DOC_TEXT = "2001:db8::/32, 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24"

HOST_NAME = re.compile(r"^[a-z][a-z0-9]{0,11}$")
SCENARIO_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
ROLE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
IFNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,14}$")  # no dots: they would split sysctl keys
KIND = re.compile(r"^[a-z0-9]{1,16}$")
SYSCTL_KEY = re.compile(r"^net(\.[A-Za-z0-9_-]+)+$")
PER_IF_SYSCTL = re.compile(r"^net\.ipv[46]\.(conf|neigh)\.([^.]+)\.")
FILE_PART = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+@-]*$")
COMM = re.compile(r"^[A-Za-z0-9_.:-]{1,15}$")
SUFFIX = re.compile(r"^[a-z0-9]{1,12}$")
WILDCARDS = {"::", "0.0.0.0", "::1", "127.0.0.1"}


def _embedded_v4_is_doc(v4: int) -> bool:
    return any(ipaddress.IPv4Address(v4) in net for net in DOC_V4)


def is_lab_address(ip: IPAddress) -> bool:
    """A documentation address, or an IPv6 address derived only from documentation IPv4."""
    if isinstance(ip, ipaddress.IPv4Address):
        return any(ip in net for net in DOC_V4)
    if ip in DOC_V6:
        return True
    if ip in SIX_TO_FOUR:
        return _embedded_v4_is_doc((int(ip) >> 80) & 0xFFFFFFFF)
    if ip in TEREDO:
        server = (int(ip) >> 64) & 0xFFFFFFFF
        client = ~int(ip) & 0xFFFFFFFF
        return _embedded_v4_is_doc(server) and _embedded_v4_is_doc(client)
    return False


def is_lab_network(net: IPNetwork) -> bool:
    """A network wholly inside the lab's address space (6to4 at /48 or longer, Teredo /64)."""
    if isinstance(net, ipaddress.IPv4Network):
        return any(net.subnet_of(doc) for doc in DOC_V4)
    if net.subnet_of(DOC_V6):
        return True
    if net.subnet_of(SIX_TO_FOUR) and net.prefixlen >= 48:
        return is_lab_address(net.network_address)
    if net.subnet_of(TEREDO) and net.prefixlen >= 64:
        # the client part lives in the low bits: judge the server part only for a network
        return _embedded_v4_is_doc((int(net.network_address) >> 64) & 0xFFFFFFFF)
    return False


def _fail(scenario: Scenario, message: str) -> LabError:
    return LabError(f"scenario {scenario.name!r}: {message}")


def validate_suffix(suffix: str) -> str:
    if not SUFFIX.match(suffix):
        raise LabError(f"lab suffix {suffix!r} must be 1-12 lowercase letters or digits")
    return suffix


def validate(scenario: Scenario) -> None:
    """Raise ``LabError`` (one line) for the first thing that makes the scenario unbuildable."""
    if not SCENARIO_NAME.match(scenario.name):
        raise _fail(scenario, "name must be lowercase letters, digits, '-' or '_'")
    if not scenario.hosts:
        raise _fail(scenario, "no hosts")
    seen: Set[str] = set()
    for host in scenario.hosts:
        if not HOST_NAME.match(host.name):
            raise _fail(
                scenario,
                f"host name {host.name!r} must be 1-12 lowercase letters or digits, "
                "starting with a letter",
            )
        if host.name in seen:
            raise _fail(scenario, f"duplicate host {host.name!r}")
        seen.add(host.name)
        if not ROLE.match(host.role):
            raise _fail(scenario, f"host {host.name!r}: bad role {host.role!r}")
    _validate_links(scenario, seen)
    used_ips: Set[str] = set()
    for host in scenario.hosts:
        _validate_host(scenario, host, used_ips)


def _validate_links(scenario: Scenario, hosts: Set[str]) -> None:
    for link in scenario.links:
        for end in (link.a, link.b):
            if end not in hosts:
                raise _fail(scenario, f"link {link.a}-{link.b}: unknown host {end!r}")
        if link.a == link.b:
            raise _fail(scenario, f"link {link.a}-{link.b}: a link joins two different hosts")
        if link.mtu is not None and not 68 <= link.mtu <= 65535:
            raise _fail(scenario, f"link {link.a}-{link.b}: mtu {link.mtu} out of 68..65535")
        if link.loss_percent is not None and not 0 <= link.loss_percent <= 100:
            raise _fail(scenario, f"link {link.a}-{link.b}: loss must be 0..100 percent")
        if link.delay_ms is not None and link.delay_ms < 0:
            raise _fail(scenario, f"link {link.a}-{link.b}: negative delay")
    for le in scenario.link_ends():
        if not IFNAME.match(le.ifname) or le.ifname == LOOPBACK:
            raise _fail(
                scenario,
                f"host {le.host!r}: interface name {le.ifname!r} must be 1-15 letters, "
                "digits, '-' or '_' (no dots), not 'lo'",
            )


def _validate_host(scenario: Scenario, host: Host, used_ips: Set[str]) -> None:
    where = f"host {host.name!r}"
    names = scenario.interfaces_of(host.name)
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise _fail(scenario, f"{where}: interface {dupes[0]!r} defined twice")
    link_ends = {e.ifname for e in scenario.link_ends() if e.host == host.name}
    enslaved: Set[str] = set()
    for iface in host.interfaces:
        if not IFNAME.match(iface.name) or iface.name == LOOPBACK:
            raise _fail(scenario, f"{where}: bad interface name {iface.name!r}")
        if not KIND.match(iface.kind):
            raise _fail(scenario, f"{where}: bad interface kind {iface.kind!r}")
        if iface.ports and iface.kind != "bridge":
            raise _fail(scenario, f"{where}: only a bridge has ports ({iface.name})")
        for port in iface.ports:
            if port not in link_ends:
                raise _fail(scenario, f"{where}: bridge {iface.name} port {port!r} is no link")
            if port in enslaved:
                raise _fail(scenario, f"{where}: {port!r} is in two bridges")
            enslaved.add(port)
        for token in iface.args:
            ip = _parse_ip(token)
            if ip is not None and not (is_lab_address(ip) or ip in LINK_LOCAL):
                raise _fail(scenario, f"{where}: {iface.name} uses {token}, outside {DOC_TEXT}")
    for addr in host.addresses:
        _validate_address(scenario, where, names, addr.ifname, addr.cidr, used_ips)
    for route in host.routes:
        _validate_route(scenario, where, names, route.dest, route.via, route.ifname)
    for key, value in host.effective_sysctls().items():
        _validate_sysctl(scenario, where, names, key, value)
    for path in host.files:
        _validate_file_path(scenario, where, path)
    _validate_listeners(scenario, host)
    fw = host.firewall
    if fw is not None and fw.iptables_backend not in ("nft", "legacy"):
        raise _fail(scenario, f"{where}: iptables backend must be 'nft' or 'legacy'")


def _parse_ip(text: str) -> Optional[IPAddress]:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _validate_address(
    scenario: Scenario, where: str, names: tuple[str, ...], ifname: str, cidr: str, used: Set[str]
) -> None:
    if ifname not in names:
        raise _fail(scenario, f"{where}: address {cidr} on unknown interface {ifname!r}")
    if "/" not in cidr:
        raise _fail(scenario, f"{where}: address {cidr} needs a prefix length")
    try:
        iface = ipaddress.ip_interface(cidr)
    except ValueError:
        raise _fail(scenario, f"{where}: {cidr!r} is not an address") from None
    link_local = isinstance(iface, ipaddress.IPv6Interface) and iface.ip in LINK_LOCAL
    if not link_local and not is_lab_network(iface.network):
        raise _fail(scenario, f"{where}: address {cidr} is outside {DOC_TEXT}")
    key = str(iface.ip)
    if not link_local:
        if key in used:
            raise _fail(scenario, f"{where}: address {key} is used twice")
        used.add(key)


def _validate_route(
    scenario: Scenario,
    where: str,
    names: tuple[str, ...],
    dest: str,
    via: str,
    ifname: Optional[str],
) -> None:
    try:
        net = ipaddress.ip_network(dest, strict=True)
    except ValueError:
        raise _fail(scenario, f"{where}: route destination {dest!r} is not a prefix") from None
    if not is_lab_network(net):
        raise _fail(scenario, f"{where}: route to {dest} leaves the lab (allowed: {DOC_TEXT})")
    gw = _parse_ip(via)
    if gw is None or gw.version != net.version:
        raise _fail(
            scenario,
            f"{where}: route to {dest}: gateway {via!r} is not an address of the same family",
        )
    if isinstance(gw, ipaddress.IPv6Address) and gw in LINK_LOCAL:
        if ifname is None:
            raise _fail(scenario, f"{where}: route to {dest} via link-local {via} needs ifname")
    elif not is_lab_address(gw):
        raise _fail(scenario, f"{where}: route to {dest}: gateway {via} is outside {DOC_TEXT}")
    if ifname is not None and ifname not in names:
        raise _fail(scenario, f"{where}: route to {dest} on unknown interface {ifname!r}")


def _validate_sysctl(
    scenario: Scenario, where: str, names: tuple[str, ...], key: str, value: str
) -> None:
    if not SYSCTL_KEY.match(key):
        raise _fail(scenario, f"{where}: sysctl {key!r}: only net.* keys (namespaced) may be set")
    m = PER_IF_SYSCTL.match(key)
    if m and m.group(2) not in ("all", "default") and m.group(2) not in names:
        raise _fail(scenario, f"{where}: sysctl {key} names unknown interface {m.group(2)!r}")
    if not value or any(c.isspace() and c != " " for c in value):
        raise _fail(scenario, f"{where}: sysctl {key}: bad value {value!r}")


def _validate_file_path(scenario: Scenario, where: str, path: str) -> None:
    parts = path.split("/")
    if (
        path.startswith("/")
        or posixpath.normpath(path) != path
        or not all(FILE_PART.match(p) for p in parts)
    ):
        raise _fail(scenario, f"{where}: file {path!r} must be a plain path relative to /etc")


def _validate_listeners(scenario: Scenario, host: Host) -> None:
    where = f"host {host.name!r}"
    own = {a.ip for a in host.addresses}
    seen: Set[tuple[str, str, int]] = set()
    for lst in host.listeners:
        if lst.proto not in ("tcp", "udp"):
            raise _fail(scenario, f"{where}: listener protocol must be tcp or udp")
        ip = _parse_ip(lst.address)
        if ip is None or (lst.address not in WILDCARDS and str(ip) not in own):
            raise _fail(
                scenario,
                f"{where}: listener address {lst.address!r} must be ::, 0.0.0.0, ::1, "
                "127.0.0.1 or one of the host's addresses",
            )
        if not 0 <= lst.port <= 65535:
            raise _fail(scenario, f"{where}: listener port {lst.port} out of 0..65535")
        if lst.name and not COMM.match(lst.name):
            raise _fail(scenario, f"{where}: listener name {lst.name!r}: 1-15 plain characters")
        if lst.v6only is not None and family_of(lst.address) != "ipv6":
            raise _fail(scenario, f"{where}: v6only only applies to IPv6 listeners")
        key = (lst.proto, str(ip), lst.port)
        if lst.port and key in seen:
            raise _fail(scenario, f"{where}: listener {lst.label()} defined twice")
        seen.add(key)


def lab_addresses(scenario: Scenario) -> List[str]:
    """Every static address of the scenario (for reports and tests)."""
    return [a.cidr for h in scenario.hosts for a in h.addresses]
