"""Kernel defaults and the value a booted system ends up with."""

from __future__ import annotations

import os
import platform
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import make_snapshot
from tests.unit.analysis.roots import root_snapshot
from v6gap.analysis.kernel_defaults import (
    IPV6_CONF_DEFAULTS,
    MEASURED_ON,
    OTHER_DEFAULTS,
    boot_value,
    defaults_table,
    kernel_default,
)
from v6gap.analysis.sysctl_boot import BootSysctl, resolve_sysctl_boot


def boot(name: str) -> BootSysctl:
    return resolve_sysctl_boot(root_snapshot(name))


def boot_of(lines: dict[str, str]) -> BootSysctl:
    files: dict[str, Any] = {f"/etc/sysctl.d/{n}": {"text": t} for n, t in lines.items()}
    return resolve_sysctl_boot(make_snapshot(files=files, dirs={"/etc/sysctl.d": sorted(lines)}))


def test_catalogue_defaults() -> None:
    expected = {
        "accept_ra": "1",
        "accept_redirects": "1",
        "accept_source_route": "0",
        "forwarding": "0",
        "disable_ipv6": "0",
        "autoconf": "1",
        "accept_ra_defrtr": "1",
        "accept_ra_pinfo": "1",
        "accept_ra_rtr_pref": "1",
        "router_solicitations": "-1",
        "max_addresses": "16",
        "dad_transmits": "1",
        "use_tempaddr": "0",
    }
    for param, value in expected.items():
        assert kernel_default(f"net.ipv6.conf.eth0.{param}") == value, param
    assert kernel_default("net.ipv6.neigh.default.gc_thresh1") == "128"
    assert kernel_default("net.ipv6.neigh.default.gc_thresh2") == "512"
    assert kernel_default("net.ipv6.neigh.default.gc_thresh3") == "1024"
    assert kernel_default("net.ipv6.neigh.default.gc_interval") == "30"
    assert kernel_default("net.ipv6.bindv6only") == "0"
    assert kernel_default("net.ipv6.conf.all.accept_dad") == "0"
    assert kernel_default("net.ipv6.conf.lo.use_tempaddr") == "-1"
    assert kernel_default("net.ipv6.conf.eth0.no_such_key") is None
    assert defaults_table()["net.ipv6.conf.default.accept_ra"] == "1"


def test_image_that_never_sets_accept_ra_keeps_the_kernel_default() -> None:
    assert boot_value(boot("ubuntu-22.04"), "net.ipv6.conf.eth0.accept_ra") == (
        "1",
        "kernel default",
    )
    assert boot_value(boot("rhel-9"), "net.ipv6.conf.default.accept_ra")[0] == "1"


def test_line_or_glob_decides_and_is_cited() -> None:
    result = boot("hardened")
    value, source = boot_value(result, "net.ipv6.conf.eth0.accept_ra")
    assert value == "0" and source.startswith("/etc/sysctl.d/60-ipv6-ndp.conf:4 ")
    assert boot_value(result, "net.ipv6.conf.eth1.accept_ra")[0] == "2"
    assert boot_value(result, "net.ipv6.neigh.default.gc_thresh3")[0] == "4096"
    assert boot_value(boot("ubuntu-22.04"), "net.ipv6.neigh.default.gc_thresh3") == (
        "1024",
        "kernel default",
    )


def test_all_and_default_do_not_reach_interfaces_present_at_boot() -> None:
    result = boot_of(
        {"60-ra.conf": "net.ipv6.conf.all.accept_ra = 0\nnet.ipv6.conf.default.accept_ra = 0\n"}
    )
    assert boot_value(result, "net.ipv6.conf.all.accept_ra")[0] == "0"
    assert boot_value(result, "net.ipv6.conf.eth0.accept_ra") == ("1", "kernel default")
    value, source = boot_value(result, "net.ipv6.conf.eth0.accept_ra", created_later=True)
    assert value == "0"
    assert source.startswith("inherited from net.ipv6.conf.default.accept_ra: /etc/sysctl.d/")
    # lo always exists before systemd-sysctl
    assert boot_value(result, "net.ipv6.conf.lo.accept_ra", created_later=True)[0] == "1"


def test_forwarding_and_disable_ipv6_spread_from_all() -> None:
    result = boot_of(
        {
            "10-a.conf": "net.ipv6.conf.default.forwarding = 0\n",
            "20-b.conf": "net.ipv6.conf.all.forwarding = 1\n",
            "30-c.conf": "net.ipv6.conf.eth5.forwarding = 0\n",
        }
    )
    assert boot_value(result, "net.ipv6.conf.eth0.forwarding")[0] == "1"
    # the later write to all also rewrote default
    value, source = boot_value(result, "net.ipv6.conf.default.forwarding")
    assert value == "1" and "20-b.conf" in source
    assert boot_value(result, "net.ipv6.conf.eth9.forwarding", created_later=True)[0] == "1"
    # a line naming the interface decides for it
    assert boot_value(result, "net.ipv6.conf.eth5.forwarding")[0] == "0"
    # other keys do not spread
    assert boot_value(result, "net.ipv6.conf.eth0.accept_ra")[0] == "1"


def test_default_written_after_all_wins_for_default() -> None:
    result = boot_of(
        {
            "10-a.conf": "net.ipv6.conf.all.disable_ipv6 = 1\n",
            "20-b.conf": "net.ipv6.conf.default.disable_ipv6 = 0\n",
        }
    )
    assert boot_value(result, "net.ipv6.conf.default.disable_ipv6")[0] == "0"
    assert boot_value(result, "net.ipv6.conf.eth0.disable_ipv6")[0] == "1"
    assert boot_value(result, "net.ipv6.conf.eth0.disable_ipv6", created_later=True)[0] == "0"


def test_seed_sysctl_conf_turns_ipv6_off_everywhere() -> None:
    result = boot("disable-sysctl-conf")
    for key in ("all", "default", "eth0", "lo"):
        value, source = boot_value(result, f"net.ipv6.conf.{key}.disable_ipv6")
        assert value == "1" and source.startswith("/etc/sysctl.conf:"), key


def test_exclusion_is_named_in_the_source() -> None:
    value, source = boot_value(boot("edge-cases"), "net.ipv6.conf.eth2.accept_ra")
    assert value == "1"
    assert source == (
        "kernel default (kept from globs by "
        "/etc/sysctl.d/45-glob.conf:3 -net.ipv6.conf.eth2.accept_ra)"
    )


def test_kernel_command_line_changes_starting_values() -> None:
    empty = boot_of({})
    params = {"ipv6.disable_ipv6": "1", "ipv6.autoconf": "0"}
    value, source = boot_value(empty, "net.ipv6.conf.eth0.disable_ipv6", cmdline=params)
    assert value == "1" and "ipv6.disable_ipv6" in source
    assert boot_value(empty, "net.ipv6.conf.default.autoconf", cmdline=params)[0] == "0"
    assert boot_value(empty, "net.ipv6.conf.eth0.accept_ra", cmdline=params)[0] == "1"


def test_unknown_key_raises() -> None:
    with pytest.raises(KeyError):
        boot_value(boot_of({}), "net.ipv6.conf.eth0.no_such_key")
    with pytest.raises(KeyError):
        boot_value(boot_of({}), "vm.swappiness")


# ------------------------------------------------------------------------ re-measure on this host


@pytest.fixture
def throwaway_netns() -> Iterator[str]:
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and iproute2")
    name = f"v6g-defaults-{secrets.token_hex(3)}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


def _read_in(netns: str, path: str) -> str:
    out = subprocess.run(
        ["ip", "netns", "exec", netns, "cat", path], capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


@pytest.mark.lab
def test_recorded_defaults_match_a_fresh_namespace(throwaway_netns: str) -> None:
    if platform.release() != MEASURED_ON:
        pytest.skip(f"defaults were measured on {MEASURED_ON}, this is {platform.release()}")
    with open("/proc/sys/net/core/devconf_inherit_init_net") as fh:
        if fh.read().strip() not in ("0", "3"):
            pytest.skip("new namespaces inherit the host's IPv6 settings here")
    for param, value in IPV6_CONF_DEFAULTS.items():
        path = f"/proc/sys/net/ipv6/conf/default/{param}"
        assert _read_in(throwaway_netns, path) == value, param
    assert _read_in(throwaway_netns, "/proc/sys/net/ipv6/bindv6only") == "0"
    # neigh.default exists only in the initial namespace: the recorded values are the host's
    # compiled-in defaults unless someone tuned them; only check that they are readable here.
    for key in OTHER_DEFAULTS:
        if key.startswith("net.ipv6.neigh.default."):
            assert os.path.exists("/proc/sys/" + key.replace(".", "/"))
