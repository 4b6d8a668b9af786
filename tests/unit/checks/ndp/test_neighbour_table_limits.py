"""NDP-05: neighbour table limits set at boot, consistent, and above the neighbours in use."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.checks.helpers import judge
from v6gap.checks.ndp import neighbour_table_limits
from v6gap.model import Status, Subject

CHECK = neighbour_table_limits.CHECK
PREFIX = "net.ipv6.neigh.default."
NEIGH_CONF = "/etc/sysctl.d/60-neigh.conf"
NETNS_NOTE = "neighbour table limits are host-wide: read from the initial network namespace"


def limits(t1: int, t2: int, t3: int) -> dict[str, str]:
    return {
        f"{PREFIX}gc_thresh1": str(t1),
        f"{PREFIX}gc_thresh2": str(t2),
        f"{PREFIX}gc_thresh3": str(t3),
    }


def boot_file(text: str) -> dict[str, Any]:
    """``files`` and ``dirs`` holding one /etc/sysctl.d file."""
    return {"files": {NEIGH_CONF: {"text": text}}, "dirs": {"/etc/sysctl.d": ["60-neigh.conf"]}}


def set_at_boot(t1: int = 1024, t2: int = 2048, t3: int = 4096) -> dict[str, Any]:
    values = {1: t1, 2: t2, 3: t3}
    return boot_file("".join(f"{PREFIX}gc_thresh{n} = {v}\n" for n, v in values.items()))


def neighbours(count: int, family: str = "ipv6") -> list[dict[str, Any]]:
    if family == "ipv6":
        return [
            {"family": "ipv6", "address": f"2001:db8::{i:x}", "dev": "eth0", "state": "REACHABLE"}
            for i in range(1, count + 1)
        ]
    return [
        {"family": "ipv4", "address": f"192.0.2.{i}", "dev": "eth0", "state": "REACHABLE"}
        for i in range(1, count + 1)
    ]


def test_set_at_boot_and_consistent_passes() -> None:
    result = judge(
        CHECK, sysctl=limits(1024, 2048, 4096), neighbours=neighbours(3), **set_at_boot()
    )
    assert result.status is Status.PASS
    assert result.reason == "limits set at boot and consistent (1024/2048/4096)"
    assert result.evidence == (
        f"{PREFIX}gc_thresh1 = 1024 (running)",
        f"{PREFIX}gc_thresh2 = 2048 (running)",
        f"{PREFIX}gc_thresh3 = 4096 (running)",
        "3 IPv6 neighbour entries in use",
    )


def test_inconsistent_thresholds_fail() -> None:
    result = judge(CHECK, sysctl=limits(2048, 1024, 4096), **set_at_boot(2048, 1024, 4096))
    assert result.status is Status.FAIL
    assert (
        result.reason == "inconsistent: gc_thresh1 2048 < gc_thresh2 1024 < gc_thresh3 4096 fails"
    )
    assert result.subjects == (
        Subject(kind="sysctl", name=f"{PREFIX}gc_thresh*", value="2048/1024/4096"),
    )


@pytest.mark.parametrize("values", [(512, 512, 1024), (128, 1024, 1024)], ids=["t1=t2", "t2=t3"])
def test_equal_thresholds_are_inconsistent(values: tuple[int, int, int]) -> None:
    result = judge(CHECK, sysctl=limits(*values), **set_at_boot(*values))
    assert result.status is Status.FAIL
    assert result.subjects[0].name == f"{PREFIX}gc_thresh*"


def test_gc_thresh3_below_the_neighbours_in_use_fails() -> None:
    result = judge(CHECK, sysctl=limits(2, 4, 8), neighbours=neighbours(9), **set_at_boot(2, 4, 8))
    assert result.status is Status.FAIL
    assert result.reason == "9 neighbours in use reach gc_thresh3 8"
    assert result.subjects == (Subject(kind="sysctl", name=f"{PREFIX}gc_thresh3", value="8"),)
    assert "9 IPv6 neighbour entries in use" in result.evidence


def test_only_ipv6_neighbours_count() -> None:
    result = judge(
        CHECK, sysctl=limits(2, 4, 8), neighbours=neighbours(20, "ipv4"), **set_at_boot(2, 4, 8)
    )
    assert result.status is Status.PASS
    assert "0 IPv6 neighbour entries in use" in result.evidence


def test_running_at_kernel_defaults_but_unset_at_boot_fails() -> None:
    result = judge(CHECK, sysctl=limits(128, 512, 1024))
    assert result.status is Status.FAIL
    assert result.reason == (
        "not set by any boot configuration file: gc_thresh1, gc_thresh2, gc_thresh3"
    )
    assert [s.name for s in result.subjects] == [
        f"{PREFIX}gc_thresh1",
        f"{PREFIX}gc_thresh2",
        f"{PREFIX}gc_thresh3",
    ]


def test_only_the_unset_keys_are_named() -> None:
    files = boot_file(f"{PREFIX}gc_thresh3 = 4096\n")
    result = judge(CHECK, sysctl=limits(128, 512, 4096), **files)
    assert result.status is Status.FAIL
    assert [s.name for s in result.subjects] == [f"{PREFIX}gc_thresh1", f"{PREFIX}gc_thresh2"]


def test_slash_spelling_in_the_boot_file_counts() -> None:
    files = boot_file(
        "net/ipv6/neigh/default/gc_thresh1 = 1024\n"
        "net.ipv6.neigh.default.gc_thresh2=2048\n"
        "-net.ipv6.neigh.default.gc_thresh3 = 4096\n"
    )
    assert judge(CHECK, sysctl=limits(1024, 2048, 4096), **files).status is Status.PASS


def test_netns_note_is_part_of_the_evidence() -> None:
    result = judge(
        CHECK,
        source="netns",
        netns="v6g-test",
        sysctl=limits(1024, 2048, 4096),
        sysctl_notes={"net.ipv6.neigh.default": NETNS_NOTE},
        **set_at_boot(),
    )
    assert result.status is Status.PASS
    assert NETNS_NOTE in result.evidence


def test_image_judges_the_boot_values() -> None:
    result = judge(CHECK, source="root", **set_at_boot())
    assert result.status is Status.PASS
    assert result.evidence == (
        f"{PREFIX}gc_thresh1 = 1024 ({NEIGH_CONF}:1 {PREFIX}gc_thresh1 = 1024)",
        f"{PREFIX}gc_thresh2 = 2048 ({NEIGH_CONF}:2 {PREFIX}gc_thresh2 = 2048)",
        f"{PREFIX}gc_thresh3 = 4096 ({NEIGH_CONF}:3 {PREFIX}gc_thresh3 = 4096)",
    )


def test_image_without_a_file_fails_on_kernel_defaults() -> None:
    result = judge(CHECK, source="root")
    assert result.status is Status.FAIL
    assert f"{PREFIX}gc_thresh3 = 1024 (kernel default)" in result.evidence
    assert len(result.subjects) == 3


def test_sysctl_not_read_is_unknown() -> None:
    result = judge(CHECK, unavailable={"sysctl": "permission denied"}, **set_at_boot())
    assert result.status is Status.UNKNOWN
    assert "sysctl: permission denied" in result.reason


def test_a_limit_not_collected_is_unknown() -> None:
    """In a namespace the keys do not exist; without the initial namespace's values: unknown."""
    result = judge(
        CHECK,
        source="netns",
        sysctl={},
        sysctl_notes={"net.ipv6.neigh.default": "absent in this network namespace"},
        **set_at_boot(),
    )
    assert result.status is Status.UNKNOWN
    assert result.reason == f"{PREFIX}gc_thresh1 was not collected"


def test_a_limit_that_is_not_a_number_is_unknown() -> None:
    sysctl = {**limits(1024, 2048, 4096), f"{PREFIX}gc_thresh2": "lots"}
    result = judge(CHECK, sysctl=sysctl, **set_at_boot())
    assert result.status is Status.UNKNOWN
    assert "'lots'" in result.reason


def test_boot_files_not_read_with_consistent_limits_is_unknown() -> None:
    result = judge(CHECK, sysctl=limits(1024, 2048, 4096), unavailable={"files": "denied"})
    assert result.status is Status.UNKNOWN
    assert (
        "boot configuration not collected: cannot tell whether the limits are set"
        in result.evidence
    )


def test_boot_files_not_read_does_not_hide_an_inconsistency() -> None:
    result = judge(CHECK, sysctl=limits(4096, 2048, 1024), unavailable={"files": "denied"})
    assert result.status is Status.FAIL


@pytest.mark.parametrize("profile", ["server", "disabled", "slaac-host", "router", "k8s-node"])
def test_applies_to_every_profile(profile: str) -> None:
    assert judge(CHECK, profile, sysctl=limits(128, 512, 1024)).status is Status.FAIL


def test_kernel_without_ipv6_skips() -> None:
    result = judge(CHECK, ipv6_proc=False, cmdline="ro ipv6.disable=1")
    assert result.status is Status.SKIP


def test_neighbours_not_read_is_not_a_pass() -> None:
    result = judge(
        CHECK,
        sysctl=limits(1024, 2048, 4096),
        unavailable={"neighbours": "netlink: permission denied"},
        **set_at_boot(),
    )
    assert result.status is Status.UNKNOWN
    assert not any("0 IPv6 neighbour entries" in e for e in result.evidence)
