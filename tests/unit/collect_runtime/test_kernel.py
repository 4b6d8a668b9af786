"""kernel.py on recorded trees: this host (no modules), a lab namespace, a Debian 12 host."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import List

import pytest

from v6gap.collect.host import Host
from v6gap.collect.kernel import (
    IPV6_CONF_KEYS,
    NEIGH_DEFAULT_NOTE,
    NO_MODULES_NOTE,
    collect_kernel,
    collect_sysctl,
    newest_release,
    parse_kernel_config,
    parse_modules_builtin,
    parse_proc_modules,
    parse_sysctl_value,
    read_neigh_defaults,
    sysctl_paths,
)

from .treehost import RECORDED, TreeHost

THIS_HOST = RECORDED / "this-host"
NETNS = RECORDED / "netns"
DEBIAN = RECORDED / "debian12"
NO_IPV6 = RECORDED / "ipv6-disabled"
CONF = "/proc/sys/net/ipv6/conf"
IPV4_KEYS = {
    "net.ipv4.ip_forward",
    *(f"net.ipv4.conf.{c}.{k}" for c in ("all", "default")
      for k in ("accept_redirects", "accept_source_route", "forwarding")),
}  # fmt: skip


# --------------------------------------------------------------------------- sysctl


def test_sysctl_paths_put_all_and_default_first_and_keep_dots() -> None:
    pairs = sysctl_paths(["eth0.100", "default", "lo", "all"], ipv6=True)
    confs = [key.split(".")[3] for key, _ in pairs if key.startswith("net.ipv6.conf.")]
    assert confs[:: len(IPV6_CONF_KEYS)] == ["all", "default", "eth0", "lo"]
    assert ("net.ipv6.conf.eth0.100.accept_ra", f"{CONF}/eth0.100/accept_ra") in pairs
    neigh = "net.ipv6.neigh.default.gc_thresh3"
    assert (neigh, "/proc/sys/net/ipv6/neigh/default/gc_thresh3") in pairs
    assert {k for k, _ in pairs} >= IPV4_KEYS


def test_sysctl_paths_without_ipv6_are_the_ipv4_counterparts() -> None:
    assert {k for k, _ in sysctl_paths([], ipv6=False)} == IPV4_KEYS


@pytest.mark.parametrize(
    ("raw", "value"),
    [("1\n", "1"), ("-1\n", "-1"), ("4096\t87380   6291456\n", "4096\t87380\t6291456"), ("", "")],
)
def test_parse_sysctl_value(raw: str, value: str) -> None:
    assert parse_sysctl_value(raw) == value


def test_collect_sysctl_this_host_reads_every_recorded_key() -> None:
    fields, missing = collect_sysctl(TreeHost(THIS_HOST))
    assert missing == {}
    assert fields["ipv6_proc"] is True
    sysctl = fields["sysctl"]
    recorded = {
        str(p.relative_to(THIS_HOST / "proc/sys")): p.read_text().strip()
        for p in (THIS_HOST / "proc/sys/net").rglob("*")
        if p.is_file()
    }
    assert len(sysctl) == len(recorded)
    assert sysctl["net.ipv6.conf.all.accept_ra"] == recorded["net/ipv6/conf/all/accept_ra"]
    assert sysctl["net.ipv6.conf.eth0.accept_ra"] == "0"
    assert sysctl["net.ipv6.conf.all.router_solicitations"] == "-1"
    assert sysctl["net.ipv6.neigh.default.gc_thresh3"] == "1024"
    assert fields["sysctl_notes"] == {}


def test_collect_sysctl_in_a_namespace_notes_host_wide_neigh_limits() -> None:
    fields, missing = collect_sysctl(TreeHost(NETNS))
    assert missing == {}
    sysctl = fields["sysctl"]
    assert sysctl["net.ipv6.conf.v6g.100.accept_ra"] == "0"
    assert not [k for k in sysctl if k.startswith("net.ipv6.neigh")]
    assert fields["sysctl_notes"] == {"net.ipv6.neigh.default": NEIGH_DEFAULT_NOTE}
    assert read_neigh_defaults(TreeHost(NETNS)) == {}


def test_dotted_interface_keys_split_on_the_last_dot() -> None:
    fields, _ = collect_sysctl(TreeHost(DEBIAN))
    key = "net.ipv6.conf.ens3.100.accept_ra"
    assert fields["sysctl"][key] == "2"
    prefix, setting = key.rsplit(".", 1)
    assert (prefix[len("net.ipv6.conf.") :], setting) == ("ens3.100", "accept_ra")


def test_ipv6_disabled_at_boot_is_an_answer_not_missing_data() -> None:
    fields, missing = collect_sysctl(TreeHost(NO_IPV6))
    assert missing == {}
    assert fields["ipv6_proc"] is False
    assert set(fields["sysctl"]) == IPV4_KEYS
    assert fields["sysctl"]["net.ipv4.ip_forward"] == "1"


class DeniedHost(TreeHost):
    def __init__(self, tree: Path, denied: List[str]) -> None:
        super().__init__(tree)
        self.denied = denied

    def read_text(self, path: str, limit: int = 1 << 20) -> str:
        if path in self.denied:
            raise PermissionError(13, "Permission denied", path)
        return super().read_text(path, limit)


def test_unreadable_key_is_noted_not_invented() -> None:
    host = DeniedHost(DEBIAN, ["/proc/sys/net/ipv6/conf/ens3/accept_ra"])
    fields, missing = collect_sysctl(host)
    assert "net.ipv6.conf.ens3.accept_ra" not in fields["sysctl"]
    assert fields["sysctl_notes"]["net.ipv6.conf.ens3.accept_ra"] == (
        "unreadable: permission denied (run as root)"
    )
    assert missing == {}


def test_no_proc_and_images_have_no_running_sysctls(tmp_path: Path) -> None:
    fields, missing = collect_sysctl(TreeHost(tmp_path))
    assert fields == {} and "mount /proc" in missing["sysctl"]
    fields, missing = collect_sysctl(Host(root=str(DEBIAN)))
    assert fields == {} and missing["sysctl"].startswith("image: no running kernel")


def test_read_neigh_defaults_in_the_initial_namespace() -> None:
    assert read_neigh_defaults(TreeHost(THIS_HOST)) == {
        "net.ipv6.neigh.default.gc_thresh1": "128",
        "net.ipv6.neigh.default.gc_thresh2": "512",
        "net.ipv6.neigh.default.gc_thresh3": "1024",
        "net.ipv6.neigh.default.gc_interval": "30",
    }


# --------------------------------------------------------------------------- parsers


def test_parse_proc_modules_debian() -> None:
    names = parse_proc_modules((DEBIAN / "proc/modules").read_text())
    assert "sit" in names and "tunnel4" in names and "ip6_tables" in names
    assert list(names) == sorted(names) and len(names) == 12
    assert parse_proc_modules("") == ()


def test_parse_modules_builtin_uses_kernel_module_names() -> None:
    text = (DEBIAN / "lib/modules/6.1.0-18-amd64/modules.builtin").read_text()
    names = parse_modules_builtin(text + "\n# comment\nkernel/net/sit-extra.ko.zst\n")
    assert "ipv6" in names
    assert "hid_generic" in names and "crc32c_intel" in names  # '-' spelled '_' as kmod does
    assert "sit_extra" in names
    assert not [n for n in names if n.endswith(".ko") or "/" in n]


def test_parse_kernel_config_debian_keeps_only_ipv6_tunnel_and_modules() -> None:
    config = parse_kernel_config((DEBIAN / "boot/config-6.1.0-18-amd64").read_text())
    assert config == {
        "CONFIG_MODULES": "y",
        "CONFIG_NET_IPIP": "m",
        "CONFIG_NET_IPGRE_DEMUX": "m",
        "CONFIG_NET_IPGRE": "m",
        "CONFIG_NET_IPGRE_BROADCAST": "y",
        "CONFIG_INET6_AH": "m",
        "CONFIG_INET6_ESP": "m",
        "CONFIG_INET6_ESP_OFFLOAD": "m",
        "CONFIG_INET6_ESPINTCP": "n",
        "CONFIG_INET6_IPCOMP": "m",
        "CONFIG_INET6_XFRM_TUNNEL": "m",
        "CONFIG_INET6_TUNNEL": "m",
        "CONFIG_IPV6": "y",
        "CONFIG_IPV6_ROUTER_PREF": "y",
        "CONFIG_IPV6_ROUTE_INFO": "y",
        "CONFIG_IPV6_OPTIMISTIC_DAD": "n",
        "CONFIG_IPV6_MIP6": "m",
        "CONFIG_IPV6_ILA": "m",
        "CONFIG_IPV6_VTI": "m",
        "CONFIG_IPV6_SIT": "m",
        "CONFIG_IPV6_SIT_6RD": "y",
        "CONFIG_IPV6_NDISC_NODETYPE": "y",
        "CONFIG_IPV6_TUNNEL": "m",
        "CONFIG_IPV6_GRE": "m",
        "CONFIG_IPV6_MULTIPLE_TABLES": "y",
        "CONFIG_IPV6_SUBTREES": "y",
    }


def test_parse_kernel_config_this_host_has_no_sit_and_no_modules() -> None:
    with gzip.open(THIS_HOST / "proc/config.gz", "rt") as fh:
        config = parse_kernel_config(fh.read())
    assert config["CONFIG_IPV6"] == "y"
    assert config["CONFIG_IPV6_SIT"] == "n"
    assert config["CONFIG_IPV6_TUNNEL"] == "n"
    assert config["CONFIG_MODULES"] == "n"
    assert "CONFIG_MODULES_USE_ELF_RELA" not in config


RHEL9 = "5.14.0-362.8.1.el9_3.x86_64"


@pytest.mark.parametrize(
    ("names", "newest"),
    [
        (["6.1.0-9-amd64", "6.1.0-18-amd64", "extramodules"], "6.1.0-18-amd64"),
        (["5.10.0-28-amd64", "6.1.0-9-amd64"], "6.1.0-9-amd64"),
        ([RHEL9, "5.14.0-70.13.1.el9_0.x86_64"], RHEL9),
        ([], None),
        (["extramodules"], None),
    ],
)
def test_newest_release(names: List[str], newest: str) -> None:
    assert newest_release(names) == newest


# --------------------------------------------------------------------------- collect_kernel


def test_collect_kernel_this_host_without_loadable_modules() -> None:
    fields, missing = collect_kernel(TreeHost(THIS_HOST))
    assert fields["kernel_release"] == "6.18.44-fc-v669"
    assert fields["cmdline"].startswith("mitigations=auto")
    assert fields["modules_loaded"] == ()
    assert fields["sysctl_notes"] == {"modules_loaded": NO_MODULES_NOTE}
    assert fields["kernel_config"]["CONFIG_IPV6_SIT"] == "n"
    assert set(missing) == {"modules_builtin"}
    assert missing["modules_builtin"].startswith("no /lib/modules/6.18.44-fc-v669/modules.builtin")


def test_collect_kernel_debian_live() -> None:
    fields, missing = collect_kernel(TreeHost(DEBIAN))
    assert missing == {}
    assert fields["kernel_release"] == "6.1.0-18-amd64"
    assert "sit" in fields["modules_loaded"]
    assert "ipv6" in fields["modules_builtin"]
    assert fields["kernel_config"]["CONFIG_IPV6_SIT"] == "m"  # from /boot: no /proc/config.gz
    assert "sysctl_notes" not in fields


def test_collect_kernel_debian_image_uses_newest_kernel() -> None:
    fields, missing = collect_kernel(Host(root=str(DEBIAN)))
    assert fields["kernel_release"] == "6.1.0-18-amd64"  # /lib -> usr/lib resolved in the root
    assert "ipv6" in fields["modules_builtin"]
    assert fields["kernel_config"]["CONFIG_IPV6_SIT_6RD"] == "y"  # not the 6.1.0-9 config
    assert missing == {
        "cmdline": "image: no running kernel",
        "modules_loaded": "image: no running kernel",
    }


def test_image_without_matching_config_takes_the_newest(tmp_path: Path) -> None:
    (tmp_path / "lib/modules/6.2.0-1").mkdir(parents=True)
    (tmp_path / "boot").mkdir()
    (tmp_path / "boot/config-6.1.0-7").write_text("CONFIG_IPV6=m\n")
    (tmp_path / "boot/config-6.1.0-12").write_text("CONFIG_IPV6=y\n")
    fields, missing = collect_kernel(Host(root=str(tmp_path)))
    assert fields["kernel_config"] == {"CONFIG_IPV6": "y"}
    assert "no /lib/modules/6.2.0-1/modules.builtin" in missing["modules_builtin"]


def test_collect_kernel_reports_what_it_cannot_read(tmp_path: Path) -> None:
    fields, missing = collect_kernel(Host(root=str(tmp_path)))
    assert fields == {}
    assert missing["kernel_release"] == "image: no kernel under /lib/modules"
    assert "CONFIG_IKCONFIG_PROC" in missing["kernel_config"]
    (tmp_path / "proc/sys/kernel").mkdir(parents=True)
    (tmp_path / "proc/sys/kernel/osrelease").write_text("6.1.0-18-amd64\n")
    (tmp_path / "proc/config.gz").write_bytes(b"not gzip at all")
    fields, missing = collect_kernel(TreeHost(tmp_path))
    assert "kernel_config" not in fields
    assert missing["kernel_config"].startswith("/proc/config.gz: ")
    assert missing["cmdline"].startswith("/proc/cmdline: ")
