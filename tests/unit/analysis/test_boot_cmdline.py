"""Kernel command line parsing and where the boot configuration sets ipv6.disable."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import make_snapshot
from tests.unit.analysis.roots import root_snapshot
from v6gap.analysis.boot_cmdline import (
    boot_cmdline_ipv6_disable,
    boot_cmdline_param,
    boot_cmdline_sources,
    disables_ipv6,
    effective_boot_params,
    kernel_param,
    parse_cmdline,
    runtime_ipv6_disable,
)


def test_parse_cmdline_words_quotes_and_init_args() -> None:
    text = (
        "BOOT_IMAGE=/vmlinuz-6.1.0 root=UUID=abc ro quiet ipv6.disable=0 "
        'dyndbg="file x.c +p" "acpi_osi=Windows 2020" splash ipv6.disable=1 '
        "-- single ipv6.disable=0\n"
    )
    params = parse_cmdline(text)
    assert params["root"] == "UUID=abc"
    assert params["ro"] == "" and params["quiet"] == ""
    assert params["dyndbg"] == "file x.c +p"
    assert params["acpi_osi"] == "Windows 2020"
    assert params["ipv6.disable"] == "1"  # the last one before "--" wins
    assert "single" not in params


def test_kernel_param_treats_dash_and_underscore_alike() -> None:
    params = parse_cmdline("ipv6.disable-ipv6=1 net.ifnames=0")
    assert kernel_param(params, "ipv6.disable_ipv6") == "1"
    assert kernel_param(params, "ipv6.disable") is None


@pytest.mark.parametrize(
    ("value", "off"),
    [
        ("1", True),
        ("0", False),
        ("2", True),
        ("0x1", True),
        ("01", True),
        ("00", False),
        ("yes", False),
        ("", False),
        ("1 ", False),
        ("-1", True),
        ("08", False),
    ],
)
def test_disables_ipv6_reads_a_c_integer(value: str, off: bool) -> None:
    assert disables_ipv6(value) is off


def test_grub_seed_place() -> None:
    assert boot_cmdline_ipv6_disable(root_snapshot("disable-grub")) == ("1", "/etc/default/grub:4")


def test_grub_d_appending_to_grub_cmdline_linux_is_credited() -> None:
    snapshot = root_snapshot("edge-cases")
    assert boot_cmdline_ipv6_disable(snapshot) == ("1", "/etc/default/grub.d/60-ipv6.cfg:1")
    # a parameter that stayed put since /etc/default/grub is credited there
    assert boot_cmdline_param(snapshot, "console") == ("ttyS0", "/etc/default/grub:3")
    assert boot_cmdline_param(snapshot, "net.ifnames") == (
        "0",
        "/etc/default/grub.d/70-more.cfg:1",
    )


def test_ubuntu_cloud_image_default_line_comes_from_grub_d() -> None:
    snapshot = root_snapshot("ubuntu-22.04")
    assert boot_cmdline_ipv6_disable(snapshot) is None
    assert boot_cmdline_param(snapshot, "console") == (
        "ttyS0",
        "/etc/default/grub.d/50-cloudimg-settings.cfg:11",
    )
    assert boot_cmdline_param(snapshot, "splash") is None  # replaced by the cloud image's line


def test_kernel_cmdline_file_comes_first() -> None:
    snapshot = root_snapshot("rhel-9")
    sources = boot_cmdline_sources(snapshot)
    assert [s.source for s in sources] == ["/etc/kernel/cmdline", "/etc/default/grub:6"]
    assert boot_cmdline_param(snapshot, "root") == ("/dev/mapper/rhel-root", "/etc/kernel/cmdline")
    assert boot_cmdline_param(snapshot, "rd.lvm.lv") == ("rhel/swap", "/etc/kernel/cmdline")
    assert boot_cmdline_ipv6_disable(snapshot) is None


def test_authority_order_and_merged_params() -> None:
    snapshot = make_snapshot(
        files={
            "/etc/kernel/cmdline": {"text": "root=/dev/sda1 ipv6.disable=0\n"},
            "/etc/default/grub": {
                "text": 'GRUB_CMDLINE_LINUX="ipv6.disable=1 quiet"\n'
                'GRUB_CMDLINE_LINUX_DEFAULT="ipv6.autoconf=0"\n'
            },
        }
    )
    assert boot_cmdline_ipv6_disable(snapshot) == ("0", "/etc/kernel/cmdline")
    merged = effective_boot_params(snapshot)
    assert merged["ipv6.disable"] == "0" and merged["ipv6.autoconf"] == "0"
    assert merged["quiet"] == ""


def test_grub_default_line_wins_over_linux_line() -> None:
    snapshot = make_snapshot(
        files={
            "/etc/default/grub": {
                "text": 'GRUB_CMDLINE_LINUX="ipv6.disable=1"\n'
                'GRUB_CMDLINE_LINUX_DEFAULT="ipv6.disable=0"\n'
            }
        }
    )
    assert boot_cmdline_ipv6_disable(snapshot) == ("0", "/etc/default/grub:2")


def test_nothing_configured() -> None:
    assert boot_cmdline_ipv6_disable(make_snapshot()) is None
    assert boot_cmdline_sources(make_snapshot()) == []


def test_runtime_command_line() -> None:
    assert runtime_ipv6_disable(make_snapshot()) is None
    live = make_snapshot(cmdline="BOOT_IMAGE=/vmlinuz ro ipv6.disable=1 quiet\n")
    assert runtime_ipv6_disable(live) == ("1", "/proc/cmdline")
    assert runtime_ipv6_disable(make_snapshot(cmdline="ro quiet\n")) is None


@given(st.text())
def test_parse_cmdline_never_raises(text: str) -> None:
    for name, value in parse_cmdline(text).items():
        assert isinstance(name, str) and isinstance(value, str)


@given(st.text(alphabet='a=" \t-.\n', max_size=80))
def test_parse_cmdline_never_raises_on_quotes(text: str) -> None:
    parse_cmdline(text)
    disables_ipv6(text)
