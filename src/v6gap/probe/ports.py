"""Port specifications: ``22,80,1000-2000``, the built-in common ports, or all of them."""

from __future__ import annotations

import os
from typing import Dict, Iterable, List, Optional, Tuple

from v6gap.errors import InputError

ALL_PORTS: Tuple[int, ...] = tuple(range(1, 65536))
# nmap's service table: "name<TAB>port/proto<TAB>open-frequency[<TAB># comment]". Read at run
# time when installed (package nmap-common); never copied into v6gap.
NMAP_SERVICES = "/usr/share/nmap/nmap-services"
BUILTIN_SOURCE = "the built-in list"

# Common service ports, most common first (web, remote access, mail, databases, admin consoles).
# Data, not logic: ``--top N`` takes the first N.
TOP_TCP_PORTS: Tuple[int, ...] = (
    80, 443, 22, 21, 25, 3389, 110, 445, 139, 143, 53, 135, 3306, 8080, 1723, 111, 995, 993,
    5900, 1025, 587, 8888, 199, 1720, 465, 548, 113, 81, 6001, 10000, 514, 5060, 179, 1026, 2000,
    8443, 8000, 32768, 554, 26, 1433, 49152, 2001, 515, 8008, 49154, 1027, 5666, 646, 5000, 5631,
    631, 49153, 8081, 2049, 88, 79, 5800, 106, 2121, 1110, 49155, 6000, 513, 990, 5357, 427,
    49156, 543, 544, 5101, 144, 7, 389, 8009, 3128, 444, 9999, 5009, 7070, 5190, 3000, 5432,
    1900, 3986, 13, 1029, 9, 5051, 6646, 49157, 1028, 873, 1755, 2717, 4899, 9100, 119, 37,
    # databases, caches, queues and orchestration that turn up on dual-stack servers
    6379, 27017, 9200, 9300, 11211, 5672, 15672, 9090, 9091, 2379, 2380, 6443, 10250, 10255,
    8500, 8200, 9092, 2181, 5984, 7001, 8086, 3000, 9000, 9418, 50000,
)  # fmt: skip


def top_ports(count: int) -> Tuple[int, ...]:
    """The ``count`` most common service ports (duplicates removed, order kept)."""
    unique = tuple(dict.fromkeys(TOP_TCP_PORTS))
    if not 1 <= count <= len(unique):
        raise InputError(f"--top {count}: choose 1..{len(unique)} (the built-in list's size)")
    return unique[:count]


def parse_port_spec(spec: str) -> Tuple[int, ...]:
    """``"22,80,1000-2000"`` -> sorted unique ports; ``InputError`` naming the bad part."""
    ports: List[int] = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            raise InputError(f"port list {spec!r}: empty element")
        low_s, sep, high_s = part.partition("-")
        try:
            low = int(low_s)
            high = int(high_s) if sep else low
        except ValueError:
            raise InputError(f"port list {spec!r}: {part!r} is not a port or a range") from None
        if not (1 <= low <= 65535 and 1 <= high <= 65535):
            raise InputError(f"port list {spec!r}: {part!r} is outside 1-65535")
        if high < low:
            raise InputError(f"port list {spec!r}: range {part!r} runs backwards")
        ports.extend(range(low, high + 1))
    return tuple(sorted(set(ports)))


def merge_ports(*groups: Iterable[int]) -> Tuple[int, ...]:
    """The union of port groups, sorted."""
    return tuple(sorted({p for g in groups for p in g}))


def parse_nmap_services(text: str) -> Tuple[int, ...]:
    """TCP ports of an nmap-services table, most often open first (ties: lower port first)."""
    frequency: Dict[int, float] = {}
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) < 3:
            continue
        port_s, _, proto = fields[1].partition("/")
        if proto != "tcp":
            continue
        try:
            port, freq = int(port_s), float(fields[2])
        except ValueError:
            continue
        if 1 <= port <= 65535:
            frequency[port] = max(freq, frequency.get(port, 0.0))
    return tuple(sorted(frequency, key=lambda p: (-frequency[p], p)))


def ranked_top_ports(
    count: int, services: Optional[str] = NMAP_SERVICES
) -> Tuple[Tuple[int, ...], str]:
    """Up to ``count`` of the most often open TCP ports and where the ranking came from: nmap's
    installed service table when readable, else the built-in list (all of it when ``count`` is
    larger: the caller says how many it got)."""
    if not 1 <= count <= len(ALL_PORTS):
        raise InputError(f"--top {count}: choose 1..{len(ALL_PORTS)}")
    ranked: Tuple[int, ...] = ()
    if services and os.path.isfile(services):
        try:
            with open(services, encoding="utf-8", errors="replace") as fh:
                ranked = parse_nmap_services(fh.read())
        except OSError:
            ranked = ()
    if ranked:
        return ranked[:count], f"{services} (ranked by open frequency)"
    builtin = tuple(dict.fromkeys(TOP_TCP_PORTS))
    missing = f"{services} not found" if services else "no nmap-services"
    return builtin[:count], f"{BUILTIN_SOURCE} ({missing})"
