"""``--root``: image trees shaped like Ubuntu, Debian and RHEL, judged on what they will boot with.

The whole path a user takes: the real collectors read the tree, the snapshot is validated, every
check runs. Runtime facts do not exist in an image, so those checks must be unknown, never pass.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from v6gap import __version__
from v6gap.checks.run import run_checks
from v6gap.collect.snapshot import collect_root
from v6gap.model import Finding, Profile, Report, Status
from v6gap.snapshot_io import from_data

ROOTS = Path(__file__).resolve().parents[2] / "fixtures" / "roots"


def audit_root(name: str, profile: str = "server") -> Report:
    snap = from_data(collect_root(str(ROOTS / name), __version__), name)
    return run_checks(snap, Profile(profile))


def finding(report: Report, check_id: str) -> Finding:
    return next(f for f in report.findings if f.id == check_id)


@pytest.mark.parametrize("name", ["ubuntu-22.04", "debian-12", "rhel-9"])
def test_stock_images_take_router_advertisements(name: str) -> None:
    """No stock image sets accept_ra = 0: the kernel default 1 fails NDP-01 under server."""
    report = audit_root(name)
    ndp01 = finding(report, "V6G-NDP-01")
    assert ndp01.status is Status.FAIL
    assert {s.name for s in ndp01.subjects} == {
        "net.ipv6.conf.all.accept_ra",
        "net.ipv6.conf.default.accept_ra",
    }
    assert any("(kernel default)" in e for e in ndp01.evidence)
    assert report.target.source == "root"


@pytest.mark.parametrize("name", ["ubuntu-22.04", "debian-12", "rhel-9", "hardened"])
def test_runtime_only_facts_are_unknown_in_an_image(name: str) -> None:
    report = audit_root(name)
    for check_id in ("V6G-STATE-05", "V6G-EXP-01", "V6G-EXP-03", "V6G-TUN-02", "V6G-FW-01"):
        assert finding(report, check_id).status is Status.UNKNOWN, check_id
    assert finding(report, "V6G-STATE-02").status is Status.SKIP


def test_ubuntu_ufw_sysctl_file_wins_for_redirects() -> None:
    """ufw is enabled, so /etc/ufw/sysctl.conf applies after systemd's files."""
    ndp02 = finding(audit_root("ubuntu-22.04"), "V6G-NDP-02")
    assert ndp02.status is Status.PASS
    assert any("/etc/ufw/sysctl.conf" in e for e in ndp02.evidence), ndp02.evidence


def test_debian_redirects_fail_from_kernel_default() -> None:
    ndp02 = finding(audit_root("debian-12"), "V6G-NDP-02")
    assert ndp02.status is Status.FAIL


def test_hardened_image_glob_and_explicit_override() -> None:
    report = audit_root("hardened")
    assert finding(report, "V6G-NDP-02").status is Status.PASS
    assert finding(report, "V6G-NDP-05").status is Status.PASS
    ndp01 = finding(report, "V6G-NDP-01")
    assert ndp01.status is Status.FAIL  # the explicit eth1 line beats the glob
    assert [s.name for s in ndp01.subjects] == ["net.ipv6.conf.eth1.accept_ra"]
    assert any("/etc/sysctl.d/70-uplink.conf:2" in e for e in ndp01.evidence)
    ndp07 = finding(report, "V6G-NDP-07")
    assert [s.name for s in ndp07.subjects] == ["net.ipv6.conf.eth1.autoconf"]


def test_seed_location_sysctl_conf_disables_ipv6() -> None:
    state03 = finding(audit_root("disable-sysctl-conf", "disabled"), "V6G-STATE-03")
    assert state03.status is Status.PASS
    assert any(e.startswith("/etc/sysctl.conf:2") for e in state03.evidence), state03.evidence


def test_seed_location_modprobe_d_local_conf_is_recognised() -> None:
    """Effective only when IPv6 is a module, which the image does not tell: unknown, not pass."""
    report = audit_root("disable-modprobe-local", "disabled")
    state03 = finding(report, "V6G-STATE-03")
    assert state03.status is Status.UNKNOWN
    assert any("/etc/modprobe.d/local.conf:1 options ipv6 disable=1" in e for e in state03.evidence)
    assert any("local.conf" in e for e in finding(report, "V6G-STATE-01").evidence)


def test_seed_location_modprobe_conf_is_recognised_as_having_no_effect() -> None:
    report = audit_root("disable-modprobe-conf", "disabled")
    state03 = finding(report, "V6G-STATE-03")
    assert state03.status is Status.FAIL
    assert any(
        "/etc/modprobe.conf:1" in e and "kmod does not read this file" in e
        for e in state03.evidence
    ), state03.evidence


def test_kernel_command_line_in_grub_turns_ipv6_off() -> None:
    report = audit_root("disable-grub", "disabled")
    assert finding(report, "V6G-STATE-03").status is Status.PASS
    for f in report.findings:
        assert f.status in (Status.PASS, Status.SKIP, Status.INFO), f
    assert "ipv6.disable=1" in finding(report, "V6G-NDP-02").reason


def test_ipv6_disabled_image_fails_under_server_only_where_it_should() -> None:
    """Under server a disabled-IPv6 image still passes the NDP checks (skip: IPv6 absent)."""
    report = audit_root("disable-grub", "server")
    assert finding(report, "V6G-NDP-01").status is Status.SKIP
    assert finding(report, "V6G-STATE-03").status is Status.SKIP


@pytest.mark.parametrize("name", sorted(p.name for p in ROOTS.iterdir() if p.is_dir()))
@pytest.mark.parametrize("profile", ["server", "disabled", "slaac-host", "router", "k8s-node"])
def test_no_check_crashes_on_any_image_or_profile(name: str, profile: str) -> None:
    """A crashing check reports unknown rather than sinking the audit: none may crash here."""
    for f in audit_root(name, profile).findings:
        assert "failed internally" not in f.reason, (f.id, f.reason)
