"""resolve_sysctl_boot on recorded image trees and on hand-made snapshots."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import make_snapshot
from tests.unit.analysis.roots import root_snapshot
from v6gap.analysis.sysctl_boot import BootSysctl, describe, resolve_sysctl_boot


def boot(name: str) -> BootSysctl:
    return resolve_sysctl_boot(root_snapshot(name))


def boot_of(files: dict[str, Any], dirs: dict[str, list[str]] | None = None) -> BootSysctl:
    return resolve_sysctl_boot(make_snapshot(files=files, dirs=dirs or {}))


def status(result: BootSysctl, path: str) -> str:
    found = [f for f in result.files if f.path == path]
    assert len(found) == 1, f"{path}: {found}"
    return f"{found[0].status}: {found[0].detail}"


# ---------------------------------------------------------------------------------- Ubuntu 22.04


def test_ubuntu_applies_vendor_and_local_files_in_name_order() -> None:
    result = boot("ubuntu-22.04")
    applied = [f.path for f in result.files if f.status == "applied"]
    assert applied == [
        "/etc/sysctl.d/10-console-messages.conf",
        "/etc/sysctl.d/10-ipv6-privacy.conf",
        "/etc/sysctl.d/10-kernel-hardening.conf",
        "/etc/sysctl.d/10-magic-sysrq.conf",
        "/etc/sysctl.d/10-network-security.conf",
        "/etc/sysctl.d/10-ptrace.conf",
        "/etc/sysctl.d/10-zeropage.conf",
        "/usr/lib/sysctl.d/50-default.conf",
        "/usr/lib/sysctl.d/50-pid-max.conf",
        "/usr/lib/sysctl.d/99-protect-links.conf",
        "/etc/sysctl.d/99-sysctl.conf",
        "/etc/ufw/sysctl.conf",
    ]
    assert result.problems == ()


def test_sysctl_conf_counts_once_through_its_link() -> None:
    result = boot("ubuntu-22.04")
    assert not [f for f in result.files if f.path == "/etc/sysctl.conf"]
    link = next(f for f in result.files if f.path == "/etc/sysctl.d/99-sysctl.conf")
    assert link.real_path == "/etc/sysctl.conf"


def test_ufw_sysctl_wins_when_ufw_is_enabled() -> None:
    result = boot("ubuntu-22.04")
    assert result.ufw.enabled and result.ufw.applied
    assert result.ufw.path == "/etc/ufw/sysctl.conf"
    assert "ENABLED=yes" in result.ufw.reason and "after systemd-sysctl" in result.ufw.reason
    hit = result.lookup("net.ipv6.conf.all.accept_redirects")
    assert hit is not None and hit.value == "0" and hit.origin == "ufw"
    assert describe(hit) == (
        "/etc/ufw/sysctl.conf:19 net/ipv6/conf/all/accept_redirects=0 "
        "(ufw IPT_SYSCTL, applied after systemd-sysctl)"
    )
    # commented lines of ufw's file do nothing
    assert result.lookup("net.ipv6.conf.all.forwarding") is None


def test_ubuntu_leaves_router_advertisements_at_the_kernel_default() -> None:
    result = boot("ubuntu-22.04")
    assert result.lookup("net.ipv6.conf.all.accept_ra") is None
    assert result.lookup("net.ipv6.conf.eth0.accept_ra") is None
    hit = result.lookup("net.ipv6.conf.default.use_tempaddr")
    assert hit is not None and hit.location == "/etc/sysctl.d/10-ipv6-privacy.conf:12"


def test_later_exclusion_line_replaces_an_earlier_assignment() -> None:
    # 10-network-security.conf sets all.rp_filter=2; systemd's 50-default.conf later has
    # "-net.ipv4.conf.all.rp_filter", a different "value" (none): it replaces the assignment.
    result = boot("ubuntu-22.04")
    assert result.lookup("net.ipv4.conf.all.rp_filter") is None
    excluded = result.exclusion("net.ipv4.conf.all.rp_filter")
    assert excluded is not None
    assert excluded.replaced == ("/etc/sysctl.d/10-network-security.conf:4 = 2",)
    glob = result.lookup("net.ipv4.conf.eth0.rp_filter")
    assert glob is not None and glob.pattern == "net.ipv4.conf.*.rp_filter"


# ---------------------------------------------------------------------------------- Debian, RHEL


def test_debian_commented_sysctl_conf_sets_nothing_ipv6() -> None:
    result = boot("debian-12")
    assert status(result, "/etc/sysctl.d/99-sysctl.conf") == "applied: "
    assert not [a for a in result.assignments() if a.key.startswith("net.ipv6")]
    assert result.ufw.reason.startswith("ufw is not installed")
    assert result.lookup("fs.protected_regular") is not None


def test_rhel_vendor_files_and_sysctl_conf_link() -> None:
    result = boot("rhel-9")
    names = [f.path for f in result.files if f.status == "applied"]
    assert names[:2] == [
        "/usr/lib/sysctl.d/10-default-yama-scope.conf",
        "/usr/lib/sysctl.d/50-coredump.conf",
    ]
    assert names[-1] == "/etc/sysctl.d/99-sysctl.conf"
    sysrq = result.lookup("kernel.sysrq")
    assert sysrq is not None and sysrq.value == "16"
    # 50-redhat.conf sets the same value as 50-default.conf: the first keeps its place
    assert sysrq.path == "/usr/lib/sysctl.d/50-default.conf" and sysrq.replaced == ()


# ---------------------------------------------------------------------------------- hardened


def test_glob_reaches_every_interface_and_explicit_override_wins() -> None:
    result = boot("hardened")
    for key in (
        "net.ipv6.conf.all.accept_ra",
        "net.ipv6.conf.default.accept_ra",
        "net.ipv6.conf.eth0.accept_ra",
        "net.ipv6.conf.ens3.accept_ra",  # also interfaces that appear later
        "net.ipv6.conf.lo.accept_ra",
    ):
        hit = result.lookup(key)
        assert hit is not None and hit.value == "0", key
        assert hit.pattern == "net.ipv6.conf.*.accept_ra"
    uplink = result.lookup("net.ipv6.conf.eth1.accept_ra")
    assert uplink is not None and uplink.value == "2" and uplink.pattern is None
    assert describe(uplink) == "/etc/sysctl.d/70-uplink.conf:2 net.ipv6.conf.eth1.accept_ra = 2"
    glob = result.lookup("net.ipv6.conf.eth0.max_addresses")
    assert glob is not None
    assert describe(glob) == (
        "/etc/sysctl.d/60-ipv6-ndp.conf:12 net.ipv6.conf.*.max_addresses = 1 "
        "(glob, applies to net.ipv6.conf.eth0.max_addresses)"
    )
    assert result.explicit_interfaces() == {"eth1"}
    assert result.explicit_interfaces("ipv4") == set()


# ---------------------------------------------------------------------------------- edge cases


def test_masking_by_empty_file_and_dev_null_link() -> None:
    result = boot("edge-cases")
    assert status(result, "/etc/sysctl.d/50-default.conf") == "masked: empty file"
    assert status(result, "/usr/lib/sysctl.d/50-default.conf") == (
        "overridden: masked by /etc/sysctl.d/50-default.conf"
    )
    assert status(result, "/lib/sysctl.d/50-default.conf").startswith("overridden")
    assert status(result, "/etc/sysctl.d/50-pid-max.conf") == "masked: link to /dev/null"
    assert status(result, "/usr/lib/sysctl.d/50-pid-max.conf").startswith("overridden")
    # what the masked vendor files said does not apply
    assert result.lookup("kernel.pid_max") is None
    assert result.lookup("net.ipv6.conf.all.forwarding") is None


def test_etc_overrides_run_and_split_usr_lib_is_read() -> None:
    result = boot("edge-cases")
    assert status(result, "/run/sysctl.d/40-slash.conf") == (
        "overridden: overridden by /etc/sysctl.d/40-slash.conf"
    )
    assert result.lookup("net.ipv6.conf.all.disable_ipv6") is None
    assert status(result, "/run/sysctl.d/60-run.conf") == "applied: "
    assert status(result, "/usr/local/lib/sysctl.d/70-local.conf") == "applied: "
    hit = result.lookup("net.ipv6.bindv6only")
    assert hit is not None and hit.path == "/lib/sysctl.d/80-lib.conf"


def test_links_are_followed_inside_the_root_and_cited_by_target() -> None:
    result = boot("edge-cases")
    outside = result.lookup("net.ipv6.conf.all.accept_source_route")
    assert outside is not None and outside.location == "/srv/sysctl/outside.conf:1"
    climb = result.lookup("net.ipv6.conf.lo.accept_redirects")
    assert climb is not None and climb.path == "/etc/v6g-edge-climb.conf"
    assert status(result, "/etc/sysctl.d/32-dangling.conf") == "unreadable: dangling symlink"
    assert result.problems == ("/etc/sysctl.d/32-dangling.conf: dangling symlink",)


def test_explicit_key_beats_a_later_glob_and_exclusion_keeps_it_away() -> None:
    result = boot("edge-cases")
    explicit = result.lookup("net.ipv6.conf.eth3.accept_ra")
    assert explicit is not None and explicit.value == "1"  # 20-explicit.conf, before the glob
    glob = result.lookup("net.ipv6.conf.eth0.accept_ra")
    assert glob is not None and glob.value == "0" and glob.path.endswith("45-glob.conf")
    assert result.lookup("net.ipv6.conf.eth2.accept_ra") is None
    excluded = result.exclusion("net.ipv6.conf.eth2.accept_ra")
    assert excluded is not None and excluded.location == "/etc/sysctl.d/45-glob.conf:3"
    assert {"eth2", "eth3"} <= result.explicit_interfaces()


def test_later_glob_wins_over_earlier_glob() -> None:
    result = boot("edge-cases")
    hit = result.lookup("net.ipv6.conf.eth0.accept_redirects")
    assert hit is not None and hit.value == "0" and hit.path.endswith("47-glob-all.conf")


def test_slash_keys_leading_dash_and_dotted_vlan_mistake() -> None:
    result = boot("edge-cases")
    vlan = result.lookup("net.ipv6.conf.eth0.100.accept_ra")
    assert vlan is not None and vlan.value == "2"
    assert vlan.key == "net.ipv6.conf.eth0/100.accept_ra"
    assert result.lookup("net/ipv6/conf/eth0.100/accept_ra") == vlan
    swapped = result.lookup("net.ipv6.conf.eth0/200.accept_redirects")
    assert swapped is not None and swapped.value == "1"
    dash = result.lookup("net.ipv6.conf.missing0.accept_ra")
    assert dash is not None and dash.ignore_failure
    # "net.ipv6.conf.eth0.300.accept_ra = 2" names net/ipv6/conf/eth0/300/..., never the VLAN:
    # the VLAN gets the glob's value
    vlan300 = result.lookup("net.ipv6.conf.eth0.300.accept_ra")
    assert vlan300 is not None and vlan300.value == "0" and vlan300.pattern is not None
    assert "eth0.300" not in result.explicit_interfaces()
    assert {"eth0.100", "eth0.200", "missing0", "lo"} <= result.explicit_interfaces()


def test_reassignment_moves_to_the_end_and_remembers() -> None:
    result = boot("edge-cases")
    hit = result.lookup("net.ipv6.conf.default.accept_ra")
    assert hit is not None and hit.value == "0" and hit.path.endswith("90-late.conf")
    assert hit.replaced == ("/etc/sysctl.d/10-early.conf:1 = 1",)
    same = result.lookup("net.ipv6.conf.default.autoconf")
    assert same is not None and same.path.endswith("10-early.conf")  # same value: first stays
    orders = [a.order for a in result.assignments()]
    assert orders == sorted(orders) and hit.order == max(orders)


def test_sysctl_conf_without_link_is_not_applied() -> None:
    result = boot("edge-cases")
    assert status(result, "/etc/sysctl.conf").startswith("not-applied: no sysctl.d entry")
    assert result.lookup("net.ipv6.conf.all.disable_ipv6") is None
    unapplied = result.lookup_unapplied("net.ipv6.conf.all.disable_ipv6")
    assert unapplied is not None and unapplied.location == "/etc/sysctl.conf:1"


def test_ufw_installed_but_disabled_applies_nothing() -> None:
    result = boot("edge-cases")
    assert not result.ufw.enabled and not result.ufw.applied
    assert "not enabled" in result.ufw.reason
    assert not [f for f in result.files if f.path == "/etc/ufw/sysctl.conf"]


def test_hidden_and_foreign_entries_are_ignored() -> None:
    result = boot("edge-cases")
    paths = {f.path for f in result.files}
    assert "/etc/sysctl.d/.hidden.conf" not in paths
    assert "/etc/sysctl.d/notes.txt" not in paths
    assert "/etc/sysctl.d/dir.conf" not in paths


def test_seed_sysctl_conf_disables_ipv6() -> None:
    result = boot("disable-sysctl-conf")
    hit = result.lookup("net.ipv6.conf.default.disable_ipv6")
    assert hit is not None and hit.value == "1"
    assert describe(hit) == "/etc/sysctl.conf:3 net.ipv6.conf.default.disable_ipv6 = 1"


# ---------------------------------------------------------------------------------- snapshots


def test_ufw_without_ipt_sysctl_applies_nothing() -> None:
    result = boot_of(
        {
            "/etc/default/ufw": {"text": "IPV6=yes\n"},
            "/etc/ufw/ufw.conf": {"text": "ENABLED=yes\n"},
            "/etc/ufw/sysctl.conf": {"text": "net/ipv6/conf/all/accept_ra=0\n"},
        }
    )
    assert result.ufw.enabled and not result.ufw.applied
    assert "IPT_SYSCTL is not set" in result.ufw.reason
    assert result.lookup("net.ipv6.conf.all.accept_ra") is None


def test_ufw_pointing_at_sysctl_conf_reapplies_it_last() -> None:
    result = boot_of(
        {
            "/etc/default/ufw": {"text": "IPT_SYSCTL=/etc/sysctl.conf\n"},
            "/etc/ufw/ufw.conf": {"text": "ENABLED=YES\n"},
            "/etc/sysctl.conf": {"text": "net.ipv6.conf.all.accept_ra = 0\n"},
            "/etc/sysctl.d/99-sysctl.conf": {
                "link": "../sysctl.conf",
                "text": "net.ipv6.conf.all.accept_ra = 0\n",
            },
            "/etc/sysctl.d/99-zz.conf": {"text": "net.ipv6.conf.all.accept_ra = 1\n"},
        },
        {"/etc/sysctl.d": ["99-sysctl.conf", "99-zz.conf"]},
    )
    hit = result.lookup("net.ipv6.conf.all.accept_ra")
    assert hit is not None and hit.value == "0" and hit.origin == "ufw"
    assert hit.path == "/etc/sysctl.conf"


def test_ufw_sysctl_missing_or_unreadable() -> None:
    base = {
        "/etc/default/ufw": {"text": "IPT_SYSCTL=/etc/ufw/sysctl.conf\n"},
        "/etc/ufw/ufw.conf": {"text": "ENABLED=yes\n"},
    }
    missing = boot_of(base)
    assert not missing.ufw.applied and "does not exist" in missing.ufw.reason
    broken = boot_of({**base, "/etc/ufw/sysctl.conf": {"error": "permission denied"}})
    assert not broken.ufw.applied
    assert broken.problems == ("/etc/ufw/sysctl.conf: permission denied",)


def test_unreadable_directory_and_missing_section_are_problems() -> None:
    snapshot = make_snapshot(
        files={"/etc/sysctl.d": {"error": "permission denied (run as root)"}},
        unavailable={"files": "not collected"},
    )
    result = resolve_sysctl_boot(snapshot)
    assert result.problems == (
        "files: not collected",
        "/etc/sysctl.d: permission denied (run as root)",
    )


def test_same_value_keeps_its_place_in_the_write_order() -> None:
    # a: glob=0 first, explicit all=1, then glob=0 again: the glob keeps its early place
    result = boot_of(
        {
            "/etc/sysctl.d/10-a.conf": {"text": "net.ipv6.conf.*.accept_ra = 0\n"},
            "/etc/sysctl.d/20-b.conf": {"text": "net.ipv6.conf.e*.accept_ra = 1\n"},
            "/etc/sysctl.d/30-c.conf": {"text": "net.ipv6.conf.*.accept_ra = 0\n"},
        },
        {"/etc/sysctl.d": ["10-a.conf", "20-b.conf", "30-c.conf"]},
    )
    hit = result.lookup("net.ipv6.conf.eth0.accept_ra")
    assert hit is not None and hit.value == "1" and hit.path == "/etc/sysctl.d/20-b.conf"
    other = result.lookup("net.ipv6.conf.wlan0.accept_ra")
    assert other is not None and other.path == "/etc/sysctl.d/10-a.conf"


def test_brace_glob_and_no_files_at_all() -> None:
    result = boot_of(
        {"/etc/sysctl.d/10-a.conf": {"text": "net.ipv6.conf.{eth,wl}*.autoconf = 0\n"}},
        {"/etc/sysctl.d": ["10-a.conf"]},
    )
    assert result.lookup("net.ipv6.conf.wlan0.autoconf") is not None
    assert result.lookup("net.ipv6.conf.lo.autoconf") is None
    empty = resolve_sysctl_boot(make_snapshot())
    assert empty.files == () and empty.lookup("net.ipv6.conf.all.accept_ra") is None


def test_empty_ufw_sysctl_is_skipped() -> None:
    result = boot_of(
        {
            "/etc/default/ufw": {"text": "IPT_SYSCTL=/etc/ufw/sysctl.conf\n"},
            "/etc/ufw/ufw.conf": {"text": "ENABLED=yes\n"},
            "/etc/ufw/sysctl.conf": {"text": ""},
        }
    )
    assert not result.ufw.applied and "ufw skips it" in result.ufw.reason
    assert result.problems == ()


@given(st.text(), st.text())
def test_resolution_never_raises(vendor: str, local: str) -> None:
    result = boot_of(
        {
            "/usr/lib/sysctl.d/50-v.conf": {"text": vendor},
            "/etc/sysctl.d/60-l.conf": {"text": local},
            "/etc/ufw/ufw.conf": {"text": "ENABLED=yes"},
            "/etc/default/ufw": {"text": "IPT_SYSCTL=/etc/sysctl.d/60-l.conf"},
        },
        {"/usr/lib/sysctl.d": ["50-v.conf"], "/etc/sysctl.d": ["60-l.conf"]},
    )
    for key in ("net.ipv6.conf.eth0.accept_ra", "net.ipv6.conf.all.forwarding", "a.b"):
        hit = result.lookup(key)
        assert hit is None or describe(hit)
    result.explicit_interfaces()


def test_conveniences_used_by_checks() -> None:
    result = boot("edge-cases")
    hidden = next(f for f in result.files if f.path == "/usr/lib/sysctl.d/50-pid-max.conf")
    assert hidden.masked_by == "/etc/sysctl.d/50-pid-max.conf" and not hidden.applied
    winner = next(f for f in result.files if f.path == "/etc/sysctl.d/50-pid-max.conf")
    assert winner.masked_by is None
    hit = result.lookup("net.ipv6.conf.default.accept_ra")
    assert hit is not None and result.describe(hit) == describe(hit)
    excluded = result.exclusion("net.ipv6.conf.eth2.accept_ra")
    assert excluded is not None and excluded.excluded and excluded.value == ""
