"""Namespace, link, address, sysctl and firewall primitives, all through ``ip`` and friends.

Every function that changes anything takes a lab namespace name and refuses any other: nothing
here can reach the root namespace (veth pairs are created with both ends already inside lab
namespaces, sysctls and rulesets are applied under ``ip netns exec``).
"""

from __future__ import annotations

import functools
import json
import os
import secrets
import shutil
import subprocess
from typing import Dict, Iterable, List, Optional, Sequence

from v6gap.errors import LabError
from v6gap.lab.scenario import Address, Backend, Interface, Route

NS_PREFIX = "v6g-"
NETNS_RUN_DIR = "/run/netns"
ETC_NETNS_DIR = "/etc/netns"
DEFAULT_TIMEOUT = 30.0


def _lab_ns(ns: str) -> str:
    if not ns.startswith(NS_PREFIX) or "/" in ns or len(ns) <= len(NS_PREFIX):
        raise LabError(f"refusing to act on namespace {ns!r}: not a lab namespace ({NS_PREFIX}*)")
    return ns


def _first_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    errors = [ln for ln in lines if "rror" in ln]
    return (errors or lines or ["no output"])[0]


def run(
    argv: Sequence[str],
    *,
    input: Optional[str] = None,
    check: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
) -> subprocess.CompletedProcess[str]:
    """Run a tool; with ``check`` a failure becomes a one-line ``LabError``."""
    try:
        proc = subprocess.run(
            list(argv),
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        raise LabError(f"{argv[0]} not found: the lab needs iproute2, nftables, iptables") from None
    except subprocess.TimeoutExpired:
        raise LabError(f"{' '.join(argv)}: no answer within {timeout:g}s") from None
    if check and proc.returncode != 0:
        detail = _first_line(proc.stderr or proc.stdout)
        raise LabError(f"{' '.join(argv[:8])}{' …' if len(argv) > 8 else ''}: {detail}")
    return proc


def require_prerequisites() -> None:
    """The lab needs root and ``ip``; say which is missing."""
    if os.geteuid() != 0:
        raise LabError("the lab needs root (network namespaces): run as root")
    if shutil.which("ip") is None:
        raise LabError("`ip` not found: install iproute2")


def exec_argv(ns: str, argv: Sequence[str]) -> List[str]:
    """``ip netns exec NS ARGV``: the argv that runs a command inside a lab namespace."""
    return ["ip", "netns", "exec", _lab_ns(ns), *argv]


def ip(ns: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """``ip -n NS ARGS``."""
    return run(["ip", "-n", _lab_ns(ns), *args], check=check)


def ns_exists(ns: str) -> bool:
    return os.path.exists(os.path.join(NETNS_RUN_DIR, ns))


def ns_inode(ns: str) -> Optional[int]:
    """The namespace's inode (identity of the network namespace), ``None`` once it is gone."""
    try:
        return os.stat(os.path.join(NETNS_RUN_DIR, ns)).st_ino
    except OSError:
        return None


def list_namespaces(prefix: str = NS_PREFIX) -> List[str]:
    """Named namespaces starting with ``prefix`` (``ip netns`` keeps them in /run/netns)."""
    try:
        names = os.listdir(NETNS_RUN_DIR)
    except FileNotFoundError:
        return []
    return sorted(n for n in names if n.startswith(prefix))


def list_etc_dirs(prefix: str = NS_PREFIX) -> List[str]:
    try:
        names = os.listdir(ETC_NETNS_DIR)
    except FileNotFoundError:
        return []
    return sorted(os.path.join(ETC_NETNS_DIR, n) for n in names if n.startswith(prefix))


def add_ns(ns: str) -> None:
    if ns_exists(_lab_ns(ns)):
        raise LabError(f"namespace {ns} already exists: choose another suffix")
    run(["ip", "netns", "add", ns])


def del_ns(ns: str) -> None:
    if ns_exists(_lab_ns(ns)):
        run(["ip", "netns", "del", ns])


def ns_pids(ns: str) -> List[int]:
    """Processes whose network namespace is ``ns`` (``ip netns pids``)."""
    if not ns_exists(_lab_ns(ns)):
        return []
    out = run(["ip", "netns", "pids", ns], check=False).stdout
    return sorted(int(p) for p in out.split() if p.isdigit())


def add_veth(ns_a: str, if_a: str, ns_b: str, if_b: str, mtu: Optional[int] = None) -> None:
    """A veth pair made inside ``ns_a`` with its peer born in ``ns_b``: never in the root."""
    extra = ["mtu", str(mtu)] if mtu else []
    ip(
        ns_a,
        "link",
        "add",
        "name",
        if_a,
        *extra,
        "type",
        "veth",
        "peer",
        "name",
        if_b,
        *extra,
        "netns",
        _lab_ns(ns_b),
    )


def add_interface(ns: str, iface: Interface, where: str) -> None:
    if iface.kind in ("tun", "tap"):
        argv = ["tuntap", "add", "dev", iface.name, "mode", iface.kind, *iface.args]
    else:
        argv = ["link", "add", "name", iface.name, "type", iface.kind, *iface.args]
    proc = ip(ns, *argv, check=False)
    if proc.returncode != 0:
        detail = _first_line(proc.stderr)
        if "Unknown device type" in detail:
            raise LabError(
                f"{where}: interface kind {iface.kind!r} is not supported by this kernel "
                f"(supported: {', '.join(k for k, ok in probe_link_kinds().items() if ok)})"
            )
        raise LabError(f"{where}: cannot add {iface.kind} interface {iface.name}: {detail}")


def set_master(ns: str, port: str, bridge: str) -> None:
    ip(ns, "link", "set", "dev", port, "master", bridge)


def link_up(ns: str, ifname: str) -> None:
    ip(ns, "link", "set", "dev", ifname, "up")


def add_address(ns: str, addr: Address) -> None:
    extra = ["nodad"] if addr.family == "ipv6" else []
    ip(ns, "address", "add", addr.cidr, "dev", addr.ifname, *extra)


def add_route(ns: str, route: Route) -> None:
    fam = "-6" if route.family == "ipv6" else "-4"
    dev = ["dev", route.ifname] if route.ifname else []
    ip(ns, fam, "route", "add", route.dest, "via", route.via, *dev)


def set_sysctls(ns: str, values: Dict[str, str], where: str) -> None:
    """Write sysctls inside the namespace (``net.*`` only: those are per namespace)."""
    if not values:
        return
    for key in values:
        if not key.startswith("net."):
            raise LabError(f"{where}: refusing non-namespaced sysctl {key}")
    args = [f"{k}={v}" for k, v in values.items()]
    proc = run(exec_argv(ns, ["sysctl", "-q", "-w", *args]), check=False)
    if proc.returncode != 0:
        raise LabError(f"{where}: sysctl failed: {_first_line(proc.stderr)}")


def set_netem(ns: str, ifname: str, loss: Optional[float], delay: Optional[float]) -> None:
    args: List[str] = []
    if loss is not None:
        args += ["loss", f"{loss:g}%"]
    if delay is not None:
        args += ["delay", f"{delay:g}ms"]
    proc = run(
        ["tc", "-n", _lab_ns(ns), "qdisc", "add", "dev", ifname, "root", "netem", *args],
        check=False,
    )
    if proc.returncode != 0:
        detail = _first_line(proc.stderr)
        if "unknown" in detail.lower():
            raise LabError(f"this kernel has no netem qdisc: cannot give {ifname} loss/delay")
        raise LabError(f"tc netem on {ifname}: {detail}")


def load_nft(ns: str, text: str, where: str) -> None:
    """Load an nft ruleset text (``nft -f -``) inside the namespace."""
    proc = run(exec_argv(ns, ["nft", "-f", "-"]), input=text, check=False)
    if proc.returncode != 0:
        raise LabError(f"{where}: nft rejected the ruleset: {_first_line(proc.stderr)}")


def load_iptables(ns: str, text: str, family: int, backend: Backend, where: str) -> None:
    """Load ``iptables-restore`` text for ``family`` 4 or 6 through the nft or legacy backend."""
    tool = f"{'ip6' if family == 6 else 'ip'}tables-{backend}-restore"
    proc = run(exec_argv(ns, [tool]), input=text, check=False)
    if proc.returncode != 0:
        raise LabError(f"{where}: {tool} rejected the rules: {_first_line(proc.stderr)}")


def link_local(ns: str, ifname: str) -> Optional[str]:
    """The interface's usable (not tentative) IPv6 link-local address, if it has one yet."""
    out = ip(ns, "-j", "-6", "address", "show", "dev", ifname, "scope", "link").stdout
    for link in json.loads(out or "[]"):
        for info in link.get("addr_info", []):
            if info.get("tentative") or info.get("dadfailed"):
                continue
            local = info.get("local")
            if isinstance(local, str) and local.startswith("fe80:"):
                return local
    return None


# How to make one of each kind, for the probe; args that name addresses use documentation ones.
_PROBE_KINDS: Dict[str, List[str]] = {
    "veth": ["type", "veth", "peer", "name", "p-veth"],
    "bridge": ["type", "bridge"],
    "dummy": ["type", "dummy"],
    "ifb": ["type", "ifb"],
    "vxlan": [
        "type",
        "vxlan",
        "id",
        "42",
        "local",
        "2001:db8::1",
        "remote",
        "2001:db8::2",
        "dstport",
        "4789",
    ],
    "macvlan": ["link", "p-base", "type", "macvlan", "mode", "bridge"],
    "ipvlan": ["link", "p-base", "type", "ipvlan", "mode", "l2"],
    "vlan": ["link", "p-base", "type", "vlan", "id", "5"],
    "sit": ["type", "sit", "local", "192.0.2.1", "remote", "192.0.2.2"],
    "ipip": ["type", "ipip", "local", "192.0.2.1", "remote", "192.0.2.2"],
    "gre": ["type", "gre", "local", "192.0.2.1", "remote", "192.0.2.2"],
    "gretap": ["type", "gretap", "local", "192.0.2.1", "remote", "192.0.2.2"],
    "ip6tnl": ["type", "ip6tnl", "mode", "ip6ip6", "local", "2001:db8::1", "remote", "2001:db8::2"],
    "ip6gre": ["type", "ip6gre", "local", "2001:db8::1", "remote", "2001:db8::2"],
    "vti": ["type", "vti", "local", "192.0.2.1", "remote", "192.0.2.2"],
    "vti6": ["type", "vti6", "local", "2001:db8::1", "remote", "2001:db8::2"],
    "geneve": ["type", "geneve", "id", "1", "remote", "192.0.2.2"],
    "wireguard": ["type", "wireguard"],
    "vrf": ["type", "vrf", "table", "10"],
    "bond": ["type", "bond"],
}


@functools.lru_cache(maxsize=1)
def probe_link_kinds() -> Dict[str, bool]:
    """Which interface kinds this kernel can make, tried inside a throw-away namespace.

    Key ``netem`` is the qdisc behind a link's loss/delay. Seen on the development VM (6.18, no
    modules): veth, bridge, vxlan, macvlan, ifb, tun, tap; no sit, ipip, gre, ip6gre, ip6tnl,
    vti, dummy, vlan, ipvlan, vrf, bond, wireguard, geneve, and no netem.
    """
    require_prerequisites()
    ns = f"{NS_PREFIX}probe-{secrets.token_hex(3)}"
    result: Dict[str, bool] = {}
    add_ns(ns)
    try:
        ip(ns, "link", "add", "name", "p-base", "type", "veth", "peer", "name", "p-peer")
        for n, (kind, args) in enumerate(_PROBE_KINDS.items()):
            proc = ip(ns, "link", "add", "name", f"p{n}", *args, check=False)
            result[kind] = proc.returncode == 0
        for kind in ("tun", "tap"):
            proc = ip(ns, "tuntap", "add", "dev", f"p-{kind}", "mode", kind, check=False)
            result[kind] = proc.returncode == 0
        netem = ["tc", "-n", ns, "qdisc", "add", "dev", "p-base", "root", "netem", "delay", "1ms"]
        result["netem"] = run(netem, check=False).returncode == 0
    finally:
        del_ns(ns)
    return result


def remove_etc_dirs(paths: Iterable[str]) -> None:
    """Remove /etc/netns/v6g-* directories (never anything else)."""
    for path in paths:
        parent, name = os.path.split(os.path.normpath(path))
        if parent != ETC_NETNS_DIR or not name.startswith(NS_PREFIX):
            raise LabError(f"refusing to remove {path}: not an /etc/netns/{NS_PREFIX}* directory")
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
