"""The lab's address plan: segment N gets one IPv6 /64 and one IPv4 /26, documentation only.

Host number H reads the same in both families: segment 1 host 10 is ``2001:db8:1::10/64`` and
``192.0.2.10/26``. The three IPv4 documentation /24s give 12 segments of 62 hosts.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Tuple

from v6gap.errors import LabError
from v6gap.lab.scenario import Address

_V4_BLOCKS = ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")
V4_SEGMENT_PREFIXLEN = 26
V6_SEGMENT_PREFIXLEN = 64
SEGMENTS = len(_V4_BLOCKS) * 4
MAX_HOST = 62


@dataclass(frozen=True)
class Segment:
    index: int  # 1-based
    ipv6: ipaddress.IPv6Network
    ipv4: ipaddress.IPv4Network

    def v6(self, host: int) -> str:
        """``2001:db8:N::H/64``: H is written in decimal digits so it matches the IPv4 one."""
        _check_host(host)
        addr = ipaddress.IPv6Address(f"{self.ipv6.network_address}{host}")
        return f"{addr}/{self.ipv6.prefixlen}"

    def v4(self, host: int) -> str:
        _check_host(host)
        return f"{self.ipv4.network_address + host}/{self.ipv4.prefixlen}"

    def addresses(self, ifname: str, host: int) -> Tuple[Address, Address]:
        """Both static addresses of host number ``host`` on ``ifname``."""
        return (Address(ifname, self.v6(host)), Address(ifname, self.v4(host)))


def _check_host(host: int) -> None:
    if not 1 <= host <= MAX_HOST:
        raise LabError(f"host number {host} out of 1..{MAX_HOST} for a lab segment")


def segment(index: int) -> Segment:
    """Segment ``index`` (1..12) of the plan."""
    if not 1 <= index <= SEGMENTS:
        raise LabError(f"segment {index} out of 1..{SEGMENTS}")
    block = ipaddress.IPv4Network(_V4_BLOCKS[(index - 1) // 4])
    v4 = list(block.subnets(new_prefix=V4_SEGMENT_PREFIXLEN))[(index - 1) % 4]
    v6 = ipaddress.IPv6Network(f"2001:db8:{index:x}::/{V6_SEGMENT_PREFIXLEN}")
    return Segment(index, v6, v4)
