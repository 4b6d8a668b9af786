"""STATE-02: running IPv6 values against what the boot configuration would set."""

from __future__ import annotations

from typing import Any

from tests.unit.checks.helpers import conf, config, judge
from v6gap.checks.run import to_finding
from v6gap.checks.state import boot_drift
from v6gap.model import Status, Subject

CHECK = boot_drift.CHECK


def running(**scopes: str) -> dict[str, str]:
    """``accept_ra`` per scope (all and default at the kernel's 1 unless given)."""
    values = {"all": "1", "default": "1", **scopes}
    return conf({scope: {"accept_ra": value} for scope, value in values.items()})


def names(result: Any) -> list[str]:
    return [s.name for s in result.subjects]


# --------------------------------------------------------------------------- sysctl files


def test_file_value_differs_from_running_names_the_line() -> None:
    files = config({"/etc/sysctl.d/60-ra.conf": "net.ipv6.conf.all.accept_ra = 0\n"})
    result = judge(CHECK, sysctl=running(), **files)
    assert result.status is Status.FAIL
    assert result.subjects == (
        Subject(kind="sysctl", name="net.ipv6.conf.all.accept_ra", value="1"),
    )
    assert result.evidence == (
        "net.ipv6.conf.all.accept_ra: running 1, boot would set 0 "
        "(/etc/sysctl.d/60-ra.conf:1 net.ipv6.conf.all.accept_ra = 0)",
        "boot configuration read: /etc/sysctl.d/60-ra.conf",
    )
    assert "sudo sysctl --system" in to_finding(CHECK, result).remediation


def test_running_values_persisted_pass() -> None:
    files = config(
        {
            "/etc/sysctl.d/60-ra.conf": (
                "net.ipv6.conf.all.accept_ra = 0\nnet.ipv6.conf.default.accept_ra = 0\n"
            )
        }
    )
    result = judge(CHECK, sysctl=running(all="0", default="0"), **files)
    assert result.status is Status.PASS
    assert result.evidence == ("boot configuration read: /etc/sysctl.d/60-ra.conf",)


def test_glob_line_reaches_the_interface() -> None:
    files = config({"/etc/sysctl.d/60-ra.conf": "net.ipv6.conf.*.accept_ra = 0\n"})
    result = judge(CHECK, sysctl=running(all="0", default="0", eth0="1"), **files)
    assert result.status is Status.FAIL
    assert names(result) == ["net.ipv6.conf.eth0.accept_ra"]
    assert result.evidence[0] == (
        "net.ipv6.conf.eth0.accept_ra: running 1, boot would set 0 "
        "(/etc/sysctl.d/60-ra.conf:1 net.ipv6.conf.*.accept_ra = 0 "
        "(glob, applies to net.ipv6.conf.eth0.accept_ra))"
    )


def test_glob_exclusion_keeps_the_interface_out_of_the_comparison() -> None:
    files = config(
        {
            "/etc/sysctl.d/60-ra.conf": (
                "net.ipv6.conf.*.accept_ra = 0\n-net.ipv6.conf.eth1.accept_ra\n"
            )
        }
    )
    result = judge(CHECK, sysctl=running(all="0", default="0", eth0="0", eth1="1"), **files)
    assert result.status is Status.PASS, result.evidence


def test_explicit_interface_line_beats_the_glob() -> None:
    files = config(
        {
            "/etc/sysctl.d/60-ra.conf": (
                "net.ipv6.conf.*.accept_ra = 0\nnet.ipv6.conf.eth1.accept_ra = 2\n"
            )
        }
    )
    result = judge(CHECK, sysctl=running(all="0", default="0", eth0="0", eth1="0"), **files)
    assert result.status is Status.FAIL
    assert names(result) == ["net.ipv6.conf.eth1.accept_ra"]
    assert "boot would set 2 (/etc/sysctl.d/60-ra.conf:2" in result.evidence[0]


def test_interface_name_with_a_dot_matches_the_slash_spelling() -> None:
    files = config({"/etc/sysctl.d/60-vlan.conf": "net.ipv6.conf.eth0/100.accept_ra = 0\n"})
    result = judge(CHECK, sysctl=running(**{"eth0.100": "1"}), **files)
    assert result.status is Status.FAIL
    assert names(result) == ["net.ipv6.conf.eth0.100.accept_ra"]


# --------------------------------------------------------------------------- kernel defaults


def test_nothing_set_and_running_at_the_kernel_default_passes() -> None:
    result = judge(CHECK, sysctl=running())
    assert result.status is Status.PASS
    assert result.evidence == ("boot configuration read: no sysctl files",)


def test_nothing_set_and_running_changed_by_hand_fails_against_the_kernel_default() -> None:
    result = judge(CHECK, sysctl=running(all="0"))
    assert result.status is Status.FAIL
    assert names(result) == ["net.ipv6.conf.all.accept_ra"]
    assert result.evidence[0] == (
        "net.ipv6.conf.all.accept_ra: running 0, boot would set 1 (kernel default)"
    )


def test_interface_not_named_by_any_file_is_not_compared() -> None:
    """Its boot value depends on when it appears: no drift claimed from the default."""
    assert judge(CHECK, sysctl=running(eth0="0")).status is Status.PASS


def test_host_wide_neighbour_limit_drift() -> None:
    sysctl = {**running(), "net.ipv6.neigh.default.gc_thresh3": "4096"}
    result = judge(CHECK, sysctl=sysctl)
    assert result.status is Status.FAIL
    assert result.subjects == (
        Subject(kind="sysctl", name="net.ipv6.neigh.default.gc_thresh3", value="4096"),
    )
    assert "boot would set 1024 (kernel default)" in result.evidence[0]


# --------------------------------------------------------------------------- systemd precedence


def test_etc_file_hides_the_vendor_file_of_the_same_name() -> None:
    files = config(
        {
            "/usr/lib/sysctl.d/50-ra.conf": "net.ipv6.conf.all.accept_ra = 1\n",
            "/etc/sysctl.d/50-ra.conf": "net.ipv6.conf.all.accept_ra = 0\n",
        }
    )
    result = judge(CHECK, sysctl=running(), **files)
    assert result.status is Status.FAIL
    assert "(/etc/sysctl.d/50-ra.conf:1 net.ipv6.conf.all.accept_ra = 0)" in result.evidence[0]
    assert result.evidence[-1] == "boot configuration read: /etc/sysctl.d/50-ra.conf"


def test_link_to_dev_null_masks_the_vendor_file() -> None:
    files = config(
        {
            "/usr/lib/sysctl.d/50-ra.conf": "net.ipv6.conf.all.accept_ra = 0\n",
            "/etc/sysctl.d/50-ra.conf": {"link": "/dev/null"},
        }
    )
    result = judge(CHECK, sysctl=running(all="0"), **files)
    assert result.status is Status.FAIL
    assert result.evidence[0].endswith("boot would set 1 (kernel default)")


def test_lexical_order_across_directories_later_name_wins() -> None:
    files = config(
        {
            "/etc/sysctl.d/10-early.conf": "net.ipv6.conf.all.accept_ra = 0\n",
            "/usr/lib/sysctl.d/90-late.conf": "net.ipv6.conf.all.accept_ra = 1\n",
        }
    )
    result = judge(CHECK, sysctl=running(all="0"), **files)
    assert result.status is Status.FAIL
    assert (
        "(/usr/lib/sysctl.d/90-late.conf:1 net.ipv6.conf.all.accept_ra = 1)" in (result.evidence[0])
    )


def test_sysctl_conf_counts_through_the_99_sysctl_link() -> None:
    text = "net.ipv6.conf.all.accept_ra = 0\n"
    files = config(
        {
            "/etc/sysctl.conf": text,
            "/etc/sysctl.d/99-sysctl.conf": {"link": "../sysctl.conf", "text": text},
        }
    )
    result = judge(CHECK, sysctl=running(all="0"), **files)
    assert result.status is Status.PASS
    assert result.evidence == ("boot configuration read: /etc/sysctl.d/99-sysctl.conf",)


def test_sysctl_conf_without_the_link_is_not_applied_at_boot() -> None:
    files = config({"/etc/sysctl.conf": "net.ipv6.conf.all.accept_ra = 0\n"})
    result = judge(CHECK, sysctl=running(all="0"), **files)
    assert result.status is Status.FAIL
    assert result.evidence[0].endswith("boot would set 1 (kernel default)")


def test_ufw_sysctl_file_wins_over_systemd() -> None:
    files = config(
        {
            "/etc/ufw/ufw.conf": "ENABLED=yes\n",
            "/etc/default/ufw": "IPT_SYSCTL=/etc/ufw/sysctl.conf\n",
            "/etc/ufw/sysctl.conf": "net/ipv6/conf/all/accept_ra=0\n",
            "/etc/sysctl.d/10-ra.conf": "net.ipv6.conf.all.accept_ra = 1\n",
        }
    )
    result = judge(CHECK, sysctl=running(), **files)
    assert result.status is Status.FAIL
    assert "/etc/ufw/sysctl.conf:1" in result.evidence[0]
    assert "ufw IPT_SYSCTL, applied after systemd-sysctl" in result.evidence[0]


# --------------------------------------------------------------------------- command line


def test_ipv6_disable_added_to_grub_but_not_booted_yet() -> None:
    files = config({"/etc/default/grub": 'GRUB_CMDLINE_LINUX="quiet ipv6.disable=1"\n'})
    result = judge(CHECK, sysctl=running(), cmdline="BOOT_IMAGE=/vmlinuz ro quiet", **files)
    assert result.status is Status.FAIL
    assert result.subjects == (Subject(kind="cmdline", name="ipv6.disable"),)
    assert result.evidence[0] == (
        "ipv6.disable: running kernel has 0, next boot gets 1 (/etc/default/grub:1)"
    )


def test_same_command_line_is_no_drift() -> None:
    files = config({"/etc/default/grub": 'GRUB_CMDLINE_LINUX="quiet ipv6.disable=0"\n'})
    result = judge(CHECK, sysctl=running(), cmdline="ro quiet ipv6.disable=0", **files)
    assert result.status is Status.PASS


def test_kernel_parameter_disable_ipv6_sets_the_boot_default() -> None:
    files = config({"/etc/default/grub": 'GRUB_CMDLINE_LINUX="quiet ipv6.disable_ipv6=1"\n'})
    sysctl = conf({"all": {"disable_ipv6": "1"}, "default": {"disable_ipv6": "1"}})
    result = judge(CHECK, sysctl=sysctl, cmdline="ro quiet ipv6.disable_ipv6=1", **files)
    assert result.status is Status.PASS, result.evidence


def test_running_without_ipv6_and_grub_turning_it_back_on() -> None:
    files = config({"/etc/default/grub": 'GRUB_CMDLINE_LINUX="quiet ipv6.disable=0"\n'})
    result = judge(CHECK, ipv6_proc=False, cmdline="ro quiet ipv6.disable=1", **files)
    assert result.status is Status.FAIL
    assert result.subjects == (Subject(kind="cmdline", name="ipv6.disable"),)


def test_ipv6_disable_removed_from_grub_but_still_running() -> None:
    files = config({"/etc/default/grub": 'GRUB_CMDLINE_LINUX="quiet"\n'})
    result = judge(CHECK, ipv6_proc=False, cmdline="ro quiet ipv6.disable=1", **files)
    assert result.status is Status.FAIL
    assert any(s.kind == "cmdline" for s in result.subjects)


# --------------------------------------------------------------------------- modprobe


def test_module_option_that_disables_ipv6_at_next_boot() -> None:
    files = config({"/etc/modprobe.d/ipv6.conf": "options ipv6 disable=1\n"})
    sysctl = conf({"all": {"disable_ipv6": "0"}, "default": {"disable_ipv6": "0"}})
    result = judge(
        CHECK, sysctl=sysctl, ipv6_proc=True, kernel_config={"CONFIG_IPV6": "m"}, **files
    )
    assert result.status is Status.FAIL
    assert any("/etc/modprobe.d/ipv6.conf:1" in e for e in result.evidence)


# --------------------------------------------------------------------------- unknown and skip


def test_sysctl_not_read_is_unknown() -> None:
    result = judge(CHECK, unavailable={"sysctl": "permission denied"})
    assert result.status is Status.UNKNOWN
    assert "sysctl: permission denied" in result.reason


def test_files_not_read_is_unknown() -> None:
    result = judge(CHECK, sysctl=running(), unavailable={"files": "permission denied"})
    assert result.status is Status.UNKNOWN
    assert "files: permission denied" in result.reason


def test_unreadable_sysctl_file_is_not_a_pass() -> None:
    files = config({"/etc/sysctl.d/60-ra.conf": {"error": "permission denied (run as root)"}})
    result = judge(CHECK, sysctl=running(), **files)
    assert result.status is Status.UNKNOWN
    assert "permission denied" in result.reason


def test_image_is_skipped() -> None:
    result = judge(CHECK, source="root")
    assert result.status is Status.SKIP
    assert "image" in result.reason
