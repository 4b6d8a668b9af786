"""The address plan: documentation prefixes only, host numbers that read the same in both."""

from __future__ import annotations

import ipaddress

import pytest

from v6gap.errors import LabError
from v6gap.lab.plan import SEGMENTS, segment
from v6gap.lab.validate import is_lab_network


def test_first_segment() -> None:
    seg = segment(1)
    assert str(seg.ipv6) == "2001:db8:1::/64"
    assert str(seg.ipv4) == "192.0.2.0/26"
    assert seg.v6(10) == "2001:db8:1::10/64"
    assert seg.v4(10) == "192.0.2.10/26"
    v6, v4 = seg.addresses("eth0", 50)
    assert (v6.ifname, v6.cidr, v4.cidr) == ("eth0", "2001:db8:1::50/64", "192.0.2.50/26")


@pytest.mark.parametrize(
    "index,v4,v6",
    [
        (2, "192.0.2.64/26", "2001:db8:2::/64"),
        (5, "198.51.100.0/26", "2001:db8:5::/64"),
        (12, "203.0.113.192/26", "2001:db8:c::/64"),
    ],
)
def test_segments(index: int, v4: str, v6: str) -> None:
    seg = segment(index)
    assert (str(seg.ipv4), str(seg.ipv6)) == (v4, v6)


def test_every_segment_is_documentation_and_disjoint() -> None:
    nets = [segment(i).ipv4 for i in range(1, SEGMENTS + 1)]
    for i in range(1, SEGMENTS + 1):
        seg = segment(i)
        assert is_lab_network(seg.ipv4) and is_lab_network(seg.ipv6)
        for host in (1, 62):
            assert ipaddress.ip_interface(seg.v4(host)).network == seg.ipv4
            assert ipaddress.ip_interface(seg.v6(host)).network == seg.ipv6
    assert len({str(n) for n in nets}) == SEGMENTS
    assert not any(a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1 :])


@pytest.mark.parametrize("index", [0, SEGMENTS + 1])
def test_segment_out_of_range(index: int) -> None:
    with pytest.raises(LabError, match="segment"):
        segment(index)


@pytest.mark.parametrize("host", [0, 63])
def test_host_out_of_range(host: int) -> None:
    with pytest.raises(LabError, match="host number"):
        segment(1).v4(host)
