"""STATE-03: under ``disabled``, IPv6 is off everywhere now and after a reboot."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.checks.helpers import conf, config, judge
from v6gap.checks.state import ipv6_disabled
from v6gap.model import Status, Subject

CHECK = ipv6_disabled.CHECK


OFF_NOW = conf({s: {"disable_ipv6": "1"} for s in ("all", "default", "lo", "eth0")})
LOOPBACK_V4_ONLY = [
    {
        "name": "lo",
        "index": 1,
        "up": True,
        "addresses": [{"family": "ipv4", "address": "127.0.0.1", "prefixlen": 8, "scope": "host"}],
    },
    {
        "name": "eth0",
        "index": 2,
        "up": True,
        "addresses": [{"family": "ipv4", "address": "192.0.2.10", "prefixlen": 24}],
    },
]
SYSCTL_CONF_TEXT = (
    "# seed location\nnet.ipv6.conf.all.disable_ipv6 = 1\nnet.ipv6.conf.default.disable_ipv6 = 1\n"
)
# Debian, Ubuntu and RHEL ship this link: /etc/sysctl.conf is applied through it.
PERSISTED = config(
    {
        "/etc/sysctl.conf": SYSCTL_CONF_TEXT,
        "/etc/sysctl.d/99-sysctl.conf": {"link": "../sysctl.conf", "text": SYSCTL_CONF_TEXT},
    }
)
MODULE_OPTION = config({"/etc/modprobe.d/local.conf": "options ipv6 disable=1\n"})
NOT_PERSISTED = Subject(kind="file", name="boot configuration")


def disabled(**fields: Any) -> Any:
    return judge(CHECK, "disabled", **fields)


def test_off_at_run_time_but_not_persisted_fails() -> None:
    result = disabled(sysctl=OFF_NOW, interfaces=LOOPBACK_V4_ONLY)
    assert result.status is Status.FAIL
    assert result.reason == "not persisted: nothing in the boot configuration turns IPv6 off"
    assert result.subjects == (NOT_PERSISTED,)
    assert result.evidence == (
        "no boot configuration file sets net.ipv6.conf.all.disable_ipv6",
        "no boot configuration file sets net.ipv6.conf.default.disable_ipv6",
    )
    assert "60-v6gap-disable-ipv6.conf" in CHECK.meta.remediation


def test_persisted_through_sysctl_conf_link_passes() -> None:
    result = disabled(sysctl=OFF_NOW, interfaces=LOOPBACK_V4_ONLY, **PERSISTED)
    assert result.status is Status.PASS
    assert result.evidence == (
        "/etc/sysctl.conf:2 net.ipv6.conf.all.disable_ipv6 = 1",
        "/etc/sysctl.conf:3 net.ipv6.conf.default.disable_ipv6 = 1",
    )


def test_sysctl_conf_without_the_link_is_not_persisted() -> None:
    files = config({"/etc/sysctl.conf": SYSCTL_CONF_TEXT})
    result = disabled(sysctl=OFF_NOW, interfaces=LOOPBACK_V4_ONLY, **files)
    assert result.status is Status.FAIL
    assert NOT_PERSISTED in result.subjects


def test_persisted_in_sysctl_d_but_one_interface_still_on() -> None:
    sysctl = {**OFF_NOW, "net.ipv6.conf.eth0.disable_ipv6": "0"}
    result = disabled(sysctl=sysctl, interfaces=LOOPBACK_V4_ONLY, **PERSISTED)
    assert result.status is Status.FAIL
    assert result.reason == "IPv6 on at run time: eth0"
    assert result.subjects == (
        Subject(kind="sysctl", name="net.ipv6.conf.eth0.disable_ipv6", value="0"),
    )
    assert "net.ipv6.conf.eth0.disable_ipv6 = 0 (running)" in result.evidence


def test_loopback_counts_as_an_interface() -> None:
    sysctl = {**OFF_NOW, "net.ipv6.conf.lo.disable_ipv6": "0"}
    result = disabled(sysctl=sysctl, interfaces=LOOPBACK_V4_ONLY, **PERSISTED)
    assert result.status is Status.FAIL
    assert [s.name for s in result.subjects] == ["net.ipv6.conf.lo.disable_ipv6"]


def test_ipv6_addresses_present_fail() -> None:
    interfaces = [
        {
            "name": "eth0",
            "index": 2,
            "addresses": [
                {"family": "ipv6", "address": "fe80::10", "prefixlen": 64, "scope": "link"}
            ],
        }
    ]
    result = disabled(sysctl=OFF_NOW, interfaces=interfaces, **PERSISTED)
    assert result.status is Status.FAIL
    assert result.reason == "1 IPv6 addresses present"
    assert result.subjects == (
        Subject(kind="address", name="eth0", family="ipv6", address="fe80::10"),
    )
    assert "eth0: fe80::10/64" in result.evidence


def test_no_proc_sys_net_ipv6_with_ipv6_disable_on_cmdline_passes() -> None:
    result = disabled(ipv6_proc=False, cmdline="BOOT_IMAGE=/vmlinuz ro ipv6.disable=1 quiet")
    assert result.status is Status.PASS
    assert result.evidence == (
        "IPv6 is off in the kernel (ipv6.disable=1 on /proc/cmdline): no IPv6 sysctls exist",
    )


def test_ipv6_disable_in_grub_persists() -> None:
    files = config({"/etc/default/grub": 'GRUB_CMDLINE_LINUX="ipv6.disable=1"\n'})
    result = disabled(sysctl=OFF_NOW, interfaces=LOOPBACK_V4_ONLY, **files)
    assert result.status is Status.PASS
    assert "ipv6.disable=1 in /etc/default/grub:1" in result.evidence


def test_module_option_with_ipv6_built_in_has_no_effect() -> None:
    result = disabled(
        sysctl=OFF_NOW,
        interfaces=LOOPBACK_V4_ONLY,
        kernel_config={"CONFIG_IPV6": "y"},
        **MODULE_OPTION,
    )
    assert result.status is Status.FAIL
    assert result.subjects == (NOT_PERSISTED,)
    assert (
        "/etc/modprobe.d/local.conf:1 options ipv6 disable=1: NO effect, CONFIG_IPV6=y: IPv6 is "
        "built into the kernel; use ipv6.disable=1 or the sysctls"
    ) in result.evidence


def test_module_option_with_ipv6_a_module_is_effective() -> None:
    result = disabled(
        sysctl=OFF_NOW,
        interfaces=LOOPBACK_V4_ONLY,
        kernel_config={"CONFIG_IPV6": "m"},
        **MODULE_OPTION,
    )
    assert result.status is Status.PASS
    assert (
        "/etc/modprobe.d/local.conf:1 options ipv6 disable=1: effective, CONFIG_IPV6=m: IPv6 is "
        "a module"
    ) in result.evidence


def test_module_option_with_modules_builtin_listing_ipv6() -> None:
    result = disabled(
        sysctl=OFF_NOW, interfaces=LOOPBACK_V4_ONLY, modules_builtin=["ipv6"], **MODULE_OPTION
    )
    assert result.status is Status.FAIL
    assert any("NO effect, ipv6 is listed in modules.builtin" in e for e in result.evidence)


def test_module_option_without_knowing_the_kernel_build_is_unknown() -> None:
    result = disabled(sysctl=OFF_NOW, interfaces=LOOPBACK_V4_ONLY, **MODULE_OPTION)
    assert result.status is Status.UNKNOWN
    assert "could not tell whether this kernel builds it in" in result.reason
    assert any("effective only if IPv6 is a module" in e for e in result.evidence)


def test_seed_location_modprobe_conf_is_never_read() -> None:
    files = config({"/etc/modprobe.conf": "options ipv6 disable=1\n"})
    result = disabled(
        sysctl=OFF_NOW, interfaces=LOOPBACK_V4_ONLY, kernel_config={"CONFIG_IPV6": "m"}, **files
    )
    assert result.status is Status.FAIL
    assert (
        "/etc/modprobe.conf:1 options ipv6 disable=1 (kmod never reads /etc/modprobe.conf: this "
        "line has no effect (use modprobe.d)): NO effect, kmod does not read this file"
    ) in result.evidence


def test_image_persisted_in_sysctl_d_passes_without_runtime_facts() -> None:
    files = config(
        {
            "/etc/sysctl.d/60-noipv6.conf": (
                "net.ipv6.conf.all.disable_ipv6 = 1\nnet.ipv6.conf.default.disable_ipv6 = 1\n"
            )
        }
    )
    result = judge(CHECK, "disabled", source="root", **files)
    assert result.status is Status.PASS
    assert "/etc/sysctl.d/60-noipv6.conf:1 net.ipv6.conf.all.disable_ipv6 = 1" in result.evidence


@pytest.mark.parametrize("profile", ["server", "slaac-host", "router", "k8s-node"])
def test_other_profiles_skip(profile: str) -> None:
    result = judge(CHECK, profile, sysctl=conf({"all": {"disable_ipv6": "0"}}))
    assert result.status is Status.SKIP
    assert "applies to: disabled" in result.reason


def test_sysctl_not_read_is_unknown() -> None:
    result = disabled(unavailable={"sysctl": "permission denied (run as root)"}, **PERSISTED)
    assert result.status is Status.UNKNOWN
    assert "sysctl: permission denied" in result.reason


def test_files_not_read_is_unknown() -> None:
    result = disabled(sysctl=OFF_NOW, unavailable={"files": "permission denied (run as root)"})
    assert result.status is Status.UNKNOWN
    assert "files: permission denied" in result.reason


def test_addresses_not_read_is_not_a_pass() -> None:
    result = disabled(
        sysctl=OFF_NOW, unavailable={"interfaces": "netlink: permission denied"}, **PERSISTED
    )
    assert result.status is Status.UNKNOWN
    assert "interfaces: netlink: permission denied" in result.reason


def test_running_values_not_collected_is_not_a_pass() -> None:
    result = disabled(sysctl={}, ipv6_proc=True, interfaces=LOOPBACK_V4_ONLY, **PERSISTED)
    assert result.status is Status.UNKNOWN


def test_all_alone_persists_because_it_spreads_to_default() -> None:
    files = config({"/etc/sysctl.d/60-noipv6.conf": "net.ipv6.conf.all.disable_ipv6 = 1\n"})
    result = disabled(sysctl=OFF_NOW, interfaces=LOOPBACK_V4_ONLY, **files)
    assert result.status is Status.PASS, result.evidence


def test_image_line_turning_an_interface_back_on_fails() -> None:
    files = config(
        {
            "/etc/sysctl.d/60-noipv6.conf": (
                "net.ipv6.conf.all.disable_ipv6 = 1\n"
                "net.ipv6.conf.default.disable_ipv6 = 1\n"
                "net.ipv6.conf.eth0.disable_ipv6 = 0\n"
            )
        }
    )
    result = judge(CHECK, "disabled", source="root", **files)
    assert result.status is Status.FAIL
    assert [s.name for s in result.subjects] == ["net.ipv6.conf.eth0.disable_ipv6"]


def test_kernel_parameter_disable_ipv6_persists() -> None:
    files = config({"/etc/default/grub": 'GRUB_CMDLINE_LINUX="ipv6.disable_ipv6=1"\n'})
    result = disabled(
        sysctl=OFF_NOW, interfaces=LOOPBACK_V4_ONLY, cmdline="ro ipv6.disable_ipv6=1", **files
    )
    assert result.status is Status.PASS, result.evidence
