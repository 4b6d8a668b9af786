"""An image's boot ruleset: what its enabled services load, read from its files (``--root``).

The nft text is loaded by the real nft into a private network namespace (needs root, as the
rest of the suite): this machine's own ruleset must be the same before and after.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Iterator

import pytest

from v6gap import __version__
from v6gap.checks.run import run_checks
from v6gap.collect.boot_firewall import (
    EMPTY_NFT,
    collect_boot_firewall,
    parse_exec_start,
)
from v6gap.collect.firewall import SAVE_COMMANDS
from v6gap.collect.host import Host
from v6gap.collect.snapshot import collect_root
from v6gap.model import Profile, Report, Status
from v6gap.snapshot_io import from_data

ROOTS = Path(__file__).resolve().parents[2] / "fixtures" / "roots"
WANTS = "etc/systemd/system/multi-user.target.wants"
SYSINIT = "etc/systemd/system/sysinit.target.wants"
V4_ONLY = """#!/usr/sbin/nft -f
flush ruleset
include "/etc/nftables.d/*.nft"
"""
V4_TABLE = """table ip filter {
\tchain input {
\t\ttype filter hook input priority filter; policy drop;
\t\tct state established,related accept
\t\ttcp dport 22 accept
\t}
}
"""
INET_DROP = """table inet filter {
\tchain input {
\t\ttype filter hook input priority filter; policy drop;
\t\tct state established,related accept
\t\tmeta l4proto ipv6-icmp accept
\t\ttcp dport 22 accept
\t}
}
"""


@pytest.fixture
def image(tmp_path: Path) -> Iterator[Path]:
    """A copy of the Debian 12 tree with /etc/systemd/system; the host's ruleset is unchanged."""
    before = _host_ruleset()
    root = tmp_path / "image"
    shutil.copytree(ROOTS / "debian-12", root, symlinks=True)
    (root / "etc/systemd/system").mkdir(parents=True)
    yield root
    assert _host_ruleset() == before


def _host_ruleset() -> str:
    return subprocess.run(["nft", "list", "ruleset"], capture_output=True, text=True).stdout


def _enable(root: Path, unit: str, wants: str = SYSINIT) -> None:
    (root / wants).mkdir(parents=True, exist_ok=True)
    os.symlink(f"/lib/systemd/system/{unit}", root / wants / unit)


def _audit(root: Path) -> Report:
    return run_checks(from_data(collect_root(str(root), __version__), "image"), Profile.SERVER)


def _status(report: Report, check_id: str) -> Status:
    return next(f.status for f in report.findings if f.id == check_id)


def _tables(nft_json: object) -> list[tuple[str, str]]:
    assert isinstance(nft_json, str)
    items = json.loads(nft_json)["nftables"]
    return [(i["table"]["family"], i["table"]["name"]) for i in items if "table" in i]


def test_exec_start_names_the_file() -> None:
    debian = "[Service]\nType=oneshot\nExecStart=/usr/sbin/nft -f /etc/nftables.conf\n"
    assert parse_exec_start(debian) == "/etc/nftables.conf"
    rhel = "ExecStart=/sbin/nft -f /etc/sysconfig/nftables.conf\nExecReload=/sbin/nft flush"
    assert parse_exec_start(rhel) == "/etc/sysconfig/nftables.conf"
    assert parse_exec_start("ExecStart=-/usr/sbin/nft --file '/etc/my rules.nft'\n") == (
        "/etc/my rules.nft"
    )
    assert parse_exec_start("ExecStart=/bin/true\n") is None
    assert parse_exec_start("ExecStart=/usr/sbin/nft -f 'unclosed\n") is None


def test_no_firewall_service_means_no_ruleset_at_boot(image: Path) -> None:
    fields, missing = collect_boot_firewall(Host(root=str(image)))
    assert missing == {}
    assert fields["firewall"] == {
        "saves": dict.fromkeys(SAVE_COMMANDS, ""),
        "nft_json": EMPTY_NFT,
        "boot": "no firewall service is enabled in the image",
    }
    report = _audit(image)
    assert _status(report, "V6G-FW-02") is Status.FAIL  # IPv6 input is not filtered at all
    assert _status(report, "V6G-FW-01") is Status.PASS  # and neither is IPv4


def test_enabled_nftables_loads_its_file_with_the_image_includes(image: Path) -> None:
    _enable(image, "nftables.service")
    (image / "etc/nftables.conf").write_text(V4_ONLY)
    (image / "etc/nftables.d").mkdir()
    (image / "etc/nftables.d/10-ipv4.nft").write_text(V4_TABLE)
    fields, missing = collect_boot_firewall(Host(root=str(image)))
    assert missing == {}
    assert _tables(fields["firewall"]["nft_json"]) == [("ip", "filter")]
    assert fields["firewall"]["boot"] == "nftables.service loads /etc/nftables.conf"
    report = _audit(image)  # the seed's headline, found in an image before it ever boots
    assert _status(report, "V6G-FW-01") is Status.FAIL
    assert _status(report, "V6G-FW-02") is Status.FAIL


def test_an_inet_policy_drop_image_is_judged_like_a_host(image: Path) -> None:
    _enable(image, "nftables.service")
    (image / "etc/nftables.conf").write_text("flush ruleset\n" + INET_DROP)
    report = _audit(image)
    # ICMPv6 accepted, ICMP not: the parity check sees it, in an image as on a host.
    assert _status(report, "V6G-FW-03") is Status.FAIL
    for check_id in ("V6G-FW-01", "V6G-FW-02"):
        assert _status(report, check_id) is Status.PASS, check_id
    (image / "etc/nftables.conf").write_text(
        "flush ruleset\n" + INET_DROP.replace("ipv6-icmp accept", "{ icmp, ipv6-icmp } accept")
    )
    assert _status(_audit(image), "V6G-FW-03") is Status.PASS


def test_rhel_unit_names_its_sysconfig_file(image: Path) -> None:
    _enable(image, "nftables.service", WANTS)
    unit = image / "usr/lib/systemd/system/nftables.service"
    unit.parent.mkdir(parents=True)
    unit.write_text("[Service]\nExecStart=/sbin/nft -f /etc/sysconfig/nftables.conf\n")
    (image / "etc/sysconfig").mkdir()
    (image / "etc/sysconfig/nftables.conf").write_text(INET_DROP)
    fields, missing = collect_boot_firewall(Host(root=str(image)))
    assert missing == {}
    assert _tables(fields["firewall"]["nft_json"]) == [("inet", "filter")]
    assert fields["firewall"]["boot"] == "nftables.service loads /etc/sysconfig/nftables.conf"


def test_includes_never_leave_the_image(image: Path, tmp_path: Path) -> None:
    _enable(image, "nftables.service")
    outside = tmp_path / "outside.nft"
    outside.write_text(INET_DROP)
    (image / "etc/nftables.conf").write_text(f'include "../../{outside.name}"\n')
    fields, missing = collect_boot_firewall(Host(root=str(image)))
    assert "nft_json" not in fields["firewall"]
    assert missing["nft"].startswith("image: loading /etc/nftables.conf (by nftables.service): ")
    assert "outside" in missing["nft"]
    assert _status(_audit(image), "V6G-FW-02") is Status.UNKNOWN


def test_broken_nft_text_is_unknown_with_nfts_message(image: Path) -> None:
    _enable(image, "nftables.service")
    (image / "etc/nftables.conf").write_text("table inet filter {\n\tchain input {\n\t\tbogus\n")
    fields, missing = collect_boot_firewall(Host(root=str(image)))
    assert "nft_json" not in fields["firewall"]
    assert "Error" in missing["nft"] and "\n" not in missing["nft"]


@pytest.mark.parametrize(
    ("setup", "owner"),
    [
        ("ufw", "ufw (ENABLED=yes)"),
        ("firewalld", "firewalld"),
        ("netfilter-persistent", "netfilter-persistent (/etc/iptables/rules.v4, rules.v6)"),
    ],
)
def test_tools_that_build_their_ruleset_at_boot_leave_it_unknown(
    image: Path, setup: str, owner: str
) -> None:
    _enable(image, "nftables.service")
    if setup == "ufw":
        (image / "etc/ufw").mkdir()
        (image / "etc/ufw/ufw.conf").write_text("# comment\nENABLED=yes\nLOGLEVEL=low\n")
    else:
        _enable(image, f"{setup}.service", WANTS)
    fields, missing = collect_boot_firewall(Host(root=str(image)))
    assert fields == {}
    assert missing["nft"].startswith(f"image: {owner} builds the boot ruleset")
    assert _status(_audit(image), "V6G-FW-02") is Status.UNKNOWN


def test_ufw_installed_but_disabled_is_no_owner(image: Path) -> None:
    (image / "etc/ufw").mkdir()
    (image / "etc/ufw/ufw.conf").write_text("ENABLED=no\n")
    fields, missing = collect_boot_firewall(Host(root=str(image)))
    assert missing == {} and fields["firewall"]["nft_json"] == EMPTY_NFT
