"""procs.py on a recorded Debian 12 tree, live and as an image."""

from __future__ import annotations

from pathlib import Path

from v6gap.collect.host import Host
from v6gap.collect.procs import collect_processes, parse_comms

from .treehost import RECORDED, TreeHost

DEBIAN = RECORDED / "debian12"
DEBIAN_BINARIES = (
    "/usr/sbin/miredo",
    "/usr/bin/dockerd",
    "/usr/sbin/nft",
    "/usr/sbin/iptables",
    "/usr/sbin/sshd",
)


def test_parse_comms_sorted_unique() -> None:
    assert parse_comms(["sshd\n", "miredo\n", "sshd\n", "\n", "kworker/0:1-events\n"]) == (
        "kworker/0:1-events",
        "miredo",
        "sshd",
    )


def test_live_processes_and_binaries() -> None:
    fields, missing = collect_processes(TreeHost(DEBIAN))
    assert missing == {}
    assert fields["processes"] == (
        "kthreadd", "miredo", "nginx", "sshd", "systemd", "systemd-journal",
    )  # fmt: skip
    assert fields["binaries"] == DEBIAN_BINARIES  # KNOWN_BINARIES order


def test_image_has_binaries_but_no_processes() -> None:
    fields, missing = collect_processes(Host(root=str(DEBIAN)))
    assert fields == {"binaries": DEBIAN_BINARIES}
    assert missing == {"processes": "image: no running system"}


def test_no_proc_is_reported(tmp_path: Path) -> None:
    fields, missing = collect_processes(TreeHost(tmp_path))
    assert fields == {"binaries": ()}
    assert missing["processes"].endswith("(mount /proc)")
