"""Port specifications: ``22,80,1000-2000``, the built-in common ports, or all of them."""

from __future__ import annotations

from typing import Iterable, List, Tuple

from v6gap.errors import InputError

ALL_PORTS: Tuple[int, ...] = tuple(range(1, 65536))

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
