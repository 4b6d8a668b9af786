"""STATE-01: the IPv6 status report (always ``info``), on snapshot data."""

from __future__ import annotations

import pytest

from tests.unit.checks.helpers import conf, config, judge
from v6gap.checks.state import ipv6_status
from v6gap.model import Status, Subject

CHECK = ipv6_status.CHECK


INTERFACES = [
    {
        "name": "lo",
        "index": 1,
        "up": True,
        "addresses": [{"family": "ipv6", "address": "::1", "prefixlen": 128, "scope": "host"}],
    },
    {
        "name": "eth0",
        "index": 2,
        "up": True,
        "addresses": [
            {"family": "ipv4", "address": "192.0.2.10", "prefixlen": 24},
            {"family": "ipv6", "address": "2001:db8::10", "prefixlen": 64},
            {"family": "ipv6", "address": "fe80::10", "prefixlen": 64, "scope": "link"},
        ],
    },
]


def test_ipv6_on_names_every_scope_and_address() -> None:
    sysctl = conf(
        {
            "all": {"disable_ipv6": "0"},
            "default": {"disable_ipv6": "0"},
            "eth0": {"disable_ipv6": "1"},
            "lo": {"disable_ipv6": "0"},
        }
    )
    result = judge(
        CHECK,
        sysctl=sysctl,
        ipv6_proc=True,
        interfaces=INTERFACES,
        kernel_config={"CONFIG_IPV6": "y"},
    )
    assert result.status is Status.INFO
    assert result.reason == "IPv6 is on (all, default, lo)"
    assert result.subjects == (
        Subject(kind="interface", name="all", value="IPv6 on"),
        Subject(kind="interface", name="default", value="IPv6 on"),
        Subject(kind="interface", name="eth0", value="IPv6 off"),
        Subject(kind="interface", name="lo", value="IPv6 on"),
    )
    assert "IPv6 is present in the running kernel (/proc/sys/net/ipv6 exists)" in result.evidence
    assert "CONFIG_IPV6=y: IPv6 is built into the kernel" in result.evidence
    assert "net.ipv6.conf.eth0.disable_ipv6 = 1 (running)" in result.evidence
    assert "no boot configuration file sets net.ipv6.conf.all.disable_ipv6" in result.evidence
    assert "3 IPv6 addresses configured" in result.evidence
    assert "eth0 2001:db8::10/64 scope global" in result.evidence
    assert "eth0 fe80::10/64 scope link" in result.evidence
    assert not any("192.0.2.10" in e for e in result.evidence)


def test_ipv6_off_on_every_scope_with_module_option_evidence() -> None:
    sysctl = conf({s: {"disable_ipv6": "1"} for s in ("all", "default", "lo", "eth0")})
    result = judge(
        CHECK,
        sysctl=sysctl,
        ipv6_proc=True,
        **config({"/etc/modprobe.d/ipv6.conf": "options ipv6 disable=1\n"}),
    )
    assert result.status is Status.INFO
    assert result.reason == "IPv6 is off on all, default and every interface"
    assert {s.value for s in result.subjects} == {"IPv6 off"}
    assert [s.name for s in result.subjects] == ["all", "default", "eth0", "lo"]
    # Neither CONFIG_IPV6 nor modules.builtin: the module option may do nothing; say so.
    assert any(
        e.startswith("/etc/modprobe.d/ipv6.conf:1 options ipv6 disable=1: effective only if")
        for e in result.evidence
    ), result.evidence
    assert "0 IPv6 addresses configured" in result.evidence


def test_ipv6_off_in_the_kernel_is_reported_not_skipped() -> None:
    result = judge(
        CHECK,
        ipv6_proc=False,
        cmdline="BOOT_IMAGE=/vmlinuz ro ipv6.disable=1",
        modules_builtin=["ipv6"],
    )
    assert result.status is Status.INFO
    assert result.reason == "IPv6 is off in the kernel"
    assert result.subjects == ()
    assert result.evidence[0] == (
        "IPv6 is off in the kernel (ipv6.disable=1 on /proc/cmdline): no IPv6 sysctls exist"
    )
    assert "ipv6 is listed in modules.builtin: built into the kernel" in result.evidence


@pytest.mark.parametrize("profile", ["server", "disabled", "slaac-host", "router", "k8s-node"])
def test_reported_under_every_profile(profile: str) -> None:
    result = judge(CHECK, profile, sysctl=conf({"all": {"disable_ipv6": "0"}}), ipv6_proc=True)
    assert result.status is Status.INFO
    assert result.reason == "IPv6 is on (all)"


def test_image_reports_the_boot_values_and_the_file_that_sets_them() -> None:
    result = judge(
        CHECK,
        source="root",
        **config(
            {
                "/etc/sysctl.d/60-noipv6.conf": (
                    "net.ipv6.conf.all.disable_ipv6 = 1\nnet.ipv6.conf.default.disable_ipv6 = 1\n"
                )
            }
        ),
    )
    assert result.status is Status.INFO
    assert result.reason == "IPv6 is off on all, default and every interface"
    assert [s.name for s in result.subjects] == ["all", "default"]
    assert "image: status at boot from its configuration files" in result.evidence
    assert (
        "net.ipv6.conf.all.disable_ipv6 = 1 "
        "(/etc/sysctl.d/60-noipv6.conf:1 net.ipv6.conf.all.disable_ipv6 = 1)"
    ) in result.evidence
    # An image has no running addresses: no address count is claimed.
    assert not any("addresses configured" in e for e in result.evidence)


def test_image_with_ipv6_disable_on_the_grub_command_line() -> None:
    grub = {"/etc/default/grub": 'GRUB_CMDLINE_LINUX="quiet ipv6.disable=1"\n'}
    result = judge(CHECK, source="root", **config(grub))
    assert result.status is Status.INFO
    assert result.reason == "IPv6 is off in the kernel"
    assert result.subjects == ()
    assert (
        "ipv6.disable=1 on the boot command line (/etc/default/grub:1): IPv6 will not exist"
        in result.evidence
    )
    assert "ipv6.disable=1 in /etc/default/grub:1" in result.evidence


def test_unread_running_state_is_not_reported_as_off() -> None:
    result = judge(
        CHECK,
        unavailable={"sysctl": "permission denied", "interfaces": "netlink: permission denied"},
    )
    assert result.status is Status.INFO
    assert "running state not collected (sysctl: permission denied)" in result.evidence
    assert "off" not in result.reason, result.reason
    assert "0 IPv6 addresses configured" not in result.evidence
