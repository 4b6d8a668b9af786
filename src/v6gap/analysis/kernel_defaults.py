"""The kernel's own IPv6 sysctl values, and the value a booted system ends up with.

Measured on Linux 6.18.44 (Debian 12 host): ``net.ipv6.conf.*`` in a throw-away network namespace
(``ip netns add v6g-defaults-…``; with ``net.core.devconf_inherit_init_net = 0`` a new namespace
starts IPv6 from the kernel's defaults, so the host's own tuning does not leak in), then deleted.
``net.ipv6.neigh.default.*`` exists only in the initial namespace and was read there, not written.
Older kernels differ in places (``router_solicitations`` was 3 before RFC 7559 backoff made it
-1, "until a router answers"); these are the values of the kernel named above.
"""

from __future__ import annotations

from typing import Dict, Mapping, Optional, Tuple

from v6gap.analysis.sysctl_boot import Assignment, BootSysctl, describe
from v6gap.analysis.sysctl_syntax import dotted, to_slash_key

MEASURED_ON = "6.18.44-fc-v669"

# net.ipv6.conf.default.* (what every new interface starts with)
IPV6_CONF_DEFAULTS: Mapping[str, str] = {
    "accept_dad": "1",
    "accept_ra": "1",
    "accept_ra_defrtr": "1",
    "accept_ra_from_local": "0",
    "accept_ra_min_hop_limit": "1",
    "accept_ra_min_lft": "0",
    "accept_ra_mtu": "1",
    "accept_ra_pinfo": "1",
    "accept_ra_rt_info_max_plen": "0",
    "accept_ra_rt_info_min_plen": "0",
    "accept_ra_rtr_pref": "1",
    "accept_redirects": "1",
    "accept_source_route": "0",
    "accept_untracked_na": "0",
    "addr_gen_mode": "0",
    "autoconf": "1",
    "dad_transmits": "1",
    "disable_ipv6": "0",
    "disable_policy": "0",
    "drop_unicast_in_l2_multicast": "0",
    "drop_unsolicited_na": "0",
    "enhanced_dad": "1",
    "force_mld_version": "0",
    "force_tllao": "0",
    "forwarding": "0",
    "hop_limit": "64",
    "ignore_routes_with_linkdown": "0",
    "keep_addr_on_down": "0",
    "max_addresses": "16",
    "max_desync_factor": "600",
    "mc_forwarding": "0",
    "mldv1_unsolicited_report_interval": "10000",
    "mldv2_unsolicited_report_interval": "1000",
    "mtu": "1280",
    "ndisc_evict_nocarrier": "1",
    "ndisc_notify": "0",
    "ndisc_tclass": "0",
    "optimistic_dad": "0",
    "proxy_ndp": "0",
    "ra_defrtr_metric": "1024",
    "regen_max_retry": "3",
    "router_probe_interval": "60",
    "router_solicitation_delay": "1",
    "router_solicitation_interval": "4",
    "router_solicitation_max_interval": "3600",
    "router_solicitations": "-1",
    "seg6_enabled": "0",
    "suppress_frag_ndisc": "1",
    "temp_prefered_lft": "86400",
    "temp_valid_lft": "604800",
    "use_oif_addrs_only": "0",
    "use_optimistic": "0",
    "use_tempaddr": "0",
}
# Where ``all`` and ``lo`` start differently from ``default`` (measured on the same kernel).
IPV6_CONF_ALL_DIFFERENCES: Mapping[str, str] = {"accept_dad": "0"}
IPV6_CONF_LO_DIFFERENCES: Mapping[str, str] = {
    "accept_dad": "-1",
    "mtu": "65536",
    "use_tempaddr": "-1",
}
OTHER_DEFAULTS: Mapping[str, str] = {
    "net.ipv6.bindv6only": "0",
    "net.ipv6.neigh.default.gc_thresh1": "128",
    "net.ipv6.neigh.default.gc_thresh2": "512",
    "net.ipv6.neigh.default.gc_thresh3": "1024",
    "net.ipv6.neigh.default.gc_interval": "30",
    "net.ipv6.neigh.default.gc_stale_time": "60",
    "net.ipv6.neigh.default.base_reachable_time_ms": "30000",
}
# Writing ``all`` for these also rewrites ``default`` and every existing interface (addrconf's
# fixup on write); for the others ``all`` changes only itself.
SPREAD_FROM_ALL = frozenset({"forwarding", "disable_ipv6"})
# Boot parameters of the ipv6 code that change the starting value of every interface.
_CMDLINE_DEFAULTS = {"ipv6.disable_ipv6": "disable_ipv6", "ipv6.autoconf": "autoconf"}

KERNEL_DEFAULT = "kernel default"


def kernel_default(key: str, cmdline: Optional[Mapping[str, str]] = None) -> Optional[str]:
    """The value the kernel starts ``key`` with (None: not recorded).

    ``cmdline``: parsed kernel parameters; ``ipv6.disable_ipv6=`` and ``ipv6.autoconf=`` change
    the starting value of every IPv6 interface.
    """
    return _default(to_slash_key(key), cmdline)[0]


def _default(slash_key: str, cmdline: Optional[Mapping[str, str]]) -> Tuple[Optional[str], str]:
    parts = slash_key.split("/")
    if len(parts) == 5 and parts[:3] == ["net", "ipv6", "conf"]:
        iface, param = parts[3], parts[4]
        for option, target in _CMDLINE_DEFAULTS.items():
            if target == param and cmdline and option in cmdline:
                return cmdline[option], f"{KERNEL_DEFAULT} set by kernel parameter {option}"
        if iface == "all" and param in IPV6_CONF_ALL_DIFFERENCES:
            return IPV6_CONF_ALL_DIFFERENCES[param], KERNEL_DEFAULT
        if iface == "lo" and param in IPV6_CONF_LO_DIFFERENCES:
            return IPV6_CONF_LO_DIFFERENCES[param], KERNEL_DEFAULT
        return IPV6_CONF_DEFAULTS.get(param), KERNEL_DEFAULT
    return OTHER_DEFAULTS.get(dotted(slash_key)), KERNEL_DEFAULT


def boot_value(
    boot: BootSysctl,
    key: str,
    *,
    created_later: bool = False,
    cmdline: Optional[Mapping[str, str]] = None,
) -> Tuple[str, str]:
    """The value ``key`` has once the system has booted, and its source (evidence text).

    The source is the deciding line (``describe`` form) or ``kernel default``. For
    ``net.ipv6.conf.<if>.<param>``: a line naming the interface (or a glob matching it) decides,
    since systemd re-applies those whenever the interface appears. Otherwise an interface present
    before systemd-sysctl runs keeps the kernel's value, ``all`` reaching it only for
    ``forwarding`` and ``disable_ipv6``; one ``created_later`` inherits ``default``'s final value.
    Raises ``KeyError`` for a key with neither a line nor a recorded kernel default. With
    ``ipv6.disable=1`` at boot none of these keys exist: check that first.
    """
    slash_key = to_slash_key(key)
    parts = slash_key.split("/")
    if len(parts) == 5 and parts[:3] == ["net", "ipv6", "conf"]:
        return _conf_value(boot, parts[3], parts[4], created_later, cmdline)
    hit = boot.lookup(slash_key)
    return _evidence(hit) if hit is not None else _kernel(slash_key, cmdline, boot)


def _conf_value(
    boot: BootSysctl,
    iface: str,
    param: str,
    created_later: bool,
    cmdline: Optional[Mapping[str, str]],
) -> Tuple[str, str]:
    slash_key = f"net/ipv6/conf/{iface}/{param}"
    own = boot.lookup(slash_key)
    spread = boot.lookup(f"net/ipv6/conf/all/{param}") if param in SPREAD_FROM_ALL else None
    if iface == "default":
        # Writing all.<param> also rewrites default for these: the later write wins.
        own = _latest(own, spread)
    if own is not None:
        return _evidence(own)
    if iface in ("all", "default"):
        return _kernel(slash_key, cmdline, boot)
    if created_later and iface != "lo":
        value, source = _conf_value(boot, "default", param, False, cmdline)
        return value, f"inherited from net.ipv6.conf.default.{param}: {source}"
    if spread is not None:
        return _evidence(spread)
    return _kernel(slash_key, cmdline, boot)


def _evidence(assignment: Assignment) -> Tuple[str, str]:
    return assignment.value, describe(assignment)


def _latest(*candidates: Optional[Assignment]) -> Optional[Assignment]:
    present = [c for c in candidates if c is not None]
    return max(present, key=lambda a: a.order) if present else None


def _kernel(
    slash_key: str, cmdline: Optional[Mapping[str, str]], boot: BootSysctl
) -> Tuple[str, str]:
    value, source = _default(slash_key, cmdline)
    if value is None:
        raise KeyError(f"{dotted(slash_key)}: no boot line and no recorded kernel default")
    excluded = boot.exclusion(slash_key)
    if excluded is not None:
        source += f" (kept from globs by {describe(excluded)})"
    return value, source


def defaults_table() -> Dict[str, str]:
    """Every recorded default as dotted keys (``net.ipv6.conf.default.*`` plus the others)."""
    table = {f"net.ipv6.conf.default.{k}": v for k, v in IPV6_CONF_DEFAULTS.items()}
    table.update(OTHER_DEFAULTS)
    return table
