"""The runtime collectors inside a throw-away pair of network namespaces (needs root).

The lab: namespaces ``v6g-s<hex>`` (server) and ``v6g-p<hex>`` (peer) joined by a veth pair
whose server end is named ``v6g.100`` (a dot, as VLAN names have), documentation addresses with
``nodad``, listeners started with ``ip netns exec``, an nft table and an ip6tables rule in the
server namespace. Collectors run in a forked child that entered the namespace with
``setns`` in its main thread, as the lead's ``--netns`` does. Everything is removed in the
fixture finalizer, failures included.
"""

from __future__ import annotations

import json
import os
import secrets
import select
import shutil
import signal
import subprocess
import time
import traceback
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest

pytestmark = pytest.mark.lab

SERVER_IF = "v6g.100"
PEER_IF = "v6gpeer0"
SERVER_V6, PEER_V6 = "2001:db8:1::1", "2001:db8:1::2"
SERVER_V4, PEER_V4 = "192.0.2.1", "192.0.2.2"

NFT_RULESET = """
table inet v6g_lab {
    chain input {
        type filter hook input priority 0; policy drop;
        ct state established,related accept
        iif "lo" accept
        meta l4proto ipv6-icmp accept
        tcp dport 8080 accept
    }
}
"""

# (proto, family, address, port, v6only) per listener process, keyed by the comm it sets.
LISTENERS: Dict[str, List[List[Any]]] = {
    "v6glab-dual": [["tcp", "ipv6", "::", 8080, 0], ["udp", "ipv6", "::", 5353, 0]],
    "v6glab-split": [
        ["tcp", "ipv6", "::", 8443, 1],
        ["tcp", "ipv4", "0.0.0.0", 8081, 0],
        ["udp", "ipv4", SERVER_V4, 5300, 0],
    ],
}
LISTENER_SCRIPT = r"""
import json, socket, sys
name, specs = sys.argv[1], json.loads(sys.argv[2])
with open("/proc/self/comm", "w") as fh:
    fh.write(name)
held = []
for proto, family, address, port, v6only in specs:
    fam = socket.AF_INET6 if family == "ipv6" else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if fam == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, v6only)
    s.bind((address, port))
    if proto == "tcp":
        s.listen()
    held.append(s)
print("ready", flush=True)
sys.stdin.read()
"""


def _ip(*args: str, stdin: Optional[str] = None) -> str:
    proc = subprocess.run(
        ["ip", *args], input=stdin, capture_output=True, text=True, timeout=30, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {proc.stderr.strip()}")
    return proc.stdout


class NetnsPair:
    """Two namespaces and a veth between them; ``close()`` removes all it made."""

    def __init__(self) -> None:
        suffix = secrets.token_hex(3)
        self.server = f"v6g-s{suffix}"
        self.peer = f"v6g-p{suffix}"
        self.namespaces: List[str] = []
        self.listeners: Dict[str, subprocess.Popen[str]] = {}
        self.peer_mac = ""

    def build(self) -> None:
        for name in (self.server, self.peer):
            _ip("netns", "add", name)
            self.namespaces.append(name)
        s, p = self.server, self.peer
        _ip(*f"link add {SERVER_IF} netns {s} type veth peer name {PEER_IF} netns {p}".split())
        ends = ((s, SERVER_IF, SERVER_V6, SERVER_V4), (p, PEER_IF, PEER_V6, PEER_V4))
        for ns, dev, v6, v4 in ends:
            _ip("-n", ns, "link", "set", "lo", "up")
            _ip("-n", ns, "link", "set", dev, "up")
            _ip("-n", ns, "addr", "add", f"{v6}/64", "dev", dev, "nodad")
            _ip("-n", ns, "addr", "add", f"{v4}/24", "dev", dev)
        _ip(*f"-n {s} -6 route add default via {PEER_V6} dev {SERVER_IF} proto static".split())
        _ip(*f"-n {s} -6 route add 2001:db8:99::/48 via {PEER_V6} proto ra".split())
        _ip(*f"-n {s} route add default via {PEER_V4}".split())
        self.peer_mac = json.loads(_ip("-j", "-n", p, "link", "show", PEER_IF))[0]["address"]
        _ip(*f"-n {s} -6 neigh add {PEER_V6} lladdr {self.peer_mac} dev {SERVER_IF}".split(),
            *["nud", "permanent", "router"])  # fmt: skip
        _ip("netns", "exec", s, "sysctl", "-q", "-w", f"net/ipv6/conf/{SERVER_IF}/accept_ra=0")
        _ip("netns", "exec", s, "nft", "-f", "-", stdin=NFT_RULESET)
        _ip(*f"netns exec {s} ip6tables -A INPUT -p tcp --dport 8443 -j ACCEPT".split())
        for comm, specs in LISTENERS.items():
            self._start_listener(comm, specs)

    def _start_listener(self, comm: str, specs: List[List[Any]]) -> None:
        argv = ["ip", "netns", "exec", self.server, "/usr/bin/python3", "-c", LISTENER_SCRIPT]
        proc = subprocess.Popen(  # ip netns exec execs the command: proc.pid is python's pid
            [*argv, comm, json.dumps(specs)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.listeners[comm] = proc
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 20)
        line = proc.stdout.readline() if ready else ""
        if line.strip() != "ready":
            raise RuntimeError(f"listener {comm} did not start (exit status {proc.poll()})")

    def close(self) -> None:
        for proc in self.listeners.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
            for pipe in (proc.stdin, proc.stdout):
                if pipe is not None:
                    pipe.close()
        for name in reversed(self.namespaces):
            subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)


def add_extras(lab: NetnsPair) -> None:
    """What the recorded fixtures add to the lab: a second veth, an ECMP route, a blackhole
    route, dynamic and mngtmpaddr addresses, an IPv4 and a stale IPv6 neighbour."""
    s = lab.server
    _ip("-n", s, "link", "add", "v6gx1", "type", "veth", "peer", "name", "v6gx2")
    for dev in ("v6gx1", "v6gx2"):
        _ip("-n", s, "link", "set", dev, "up")
    _ip("-n", s, "addr", "add", "2001:db8:2::1/64", "dev", "v6gx1", "nodad")
    _ip("-n", s, "addr", "add", "2001:db8:3::1/64", "dev", "v6gx1", "nodad", "mngtmpaddr")
    _ip("-n", s, "addr", "add", "2001:db8:4::1/64", "dev", "v6gx1", "nodad",
        "valid_lft", "3600", "preferred_lft", "1800")  # fmt: skip
    _ip("-n", s, "-6", "route", "add", "2001:db8:98::/48", "proto", "static",
        "nexthop", "via", PEER_V6, "dev", SERVER_IF,
        "nexthop", "via", "2001:db8:2::2", "dev", "v6gx1")  # fmt: skip
    _ip("-n", s, "-6", "route", "add", "blackhole", "2001:db8:97::/48")
    _ip("-n", s, "neigh", "add", PEER_V4, "lladdr", lab.peer_mac, "dev", SERVER_IF,
        "nud", "reachable")  # fmt: skip
    _ip("-n", s, "-6", "neigh", "add", "2001:db8:2::2", "lladdr", "02:00:5e:10:00:02",
        "dev", "v6gx1", "nud", "stale")  # fmt: skip


# More than the fixtures hold, for the comparison with iproute2: IPv4 ECMP with an interface-
# only hop, a table above 255, an unnamed protocol, a /128, a bridge, a non-unicast route, a
# failed neighbour, a deprecated address.
MORE_EXTRAS = (
    "route add 203.0.113.0/24 nexthop via 192.0.2.2 dev v6g.100 weight 2 nexthop dev v6gx1",
    "-6 route add 2001:db8:77::/48 via 2001:db8:1::2 table 1000 proto 250",
    "-6 route add 2001:db8:1::77/128 via 2001:db8:1::2 proto dhcp",
    "-6 route add unreachable 2001:db8:75::/48",
    "route add 198.51.100.0/24 via 192.0.2.2 table 100 proto static",
    "link add v6gbr0 type bridge",
    "addr add 198.51.100.1/24 dev v6gbr0",
    "addr add 2001:db8:5::1/64 dev v6gbr0 nodad preferred_lft 0",
    "-6 neigh add 2001:db8:1::9 dev v6g.100 nud failed",
)


def run_in_netns(name: str, func: Callable[[], Any], timeout: float = 60.0) -> Any:
    """``func()`` in a forked child that entered netns ``name``; its JSON result comes back
    through a pipe. Child failures are raised here with the child's traceback."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never return into pytest
        status = 0
        try:
            os.close(read_end)
            from v6gap.collect.netns import enter

            enter(name)  # never creates a namespace
            payload = json.dumps({"ok": func()}, default=list)
        except BaseException:
            payload = json.dumps({"error": traceback.format_exc()})
            status = 1
        try:
            data = payload.encode()
            while data:
                data = data[os.write(write_end, data) :]
        finally:
            os._exit(status)
    os.close(write_end)
    chunks: List[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([read_end], [], [], max(left, 0))
            if not ready:
                os.kill(pid, signal.SIGKILL)
                raise TimeoutError(f"collector child in {name} ran over {timeout} s")
            chunk = os.read(read_end, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read_end)
        os.waitpid(pid, 0)
    result = json.loads(b"".join(chunks) or b'{"error": "child sent nothing"}')
    if "error" in result:
        raise AssertionError(f"collector child failed:\n{result['error']}")
    return result["ok"]


def require_lab_tools() -> None:
    """Missing prerequisites fail loudly: a lab test that skips proves nothing."""
    if os.geteuid() != 0:
        pytest.fail("lab tests need root (network namespaces, nft): run as root")
    for tool in ("ip", "nft", "ip6tables", "sysctl", "/usr/bin/python3"):
        if shutil.which(tool) is None:
            pytest.fail(f"lab tests need {tool}: install it (iproute2, nftables, iptables, procps)")


@pytest.fixture(scope="module")
def lab() -> Iterator[NetnsPair]:
    require_lab_tools()
    pair = NetnsPair()
    try:
        pair.build()
        yield pair
    finally:
        pair.close()


def _collect_all() -> Dict[str, Any]:
    from v6gap.collect import firewall, kernel, netlink, procs, sockets
    from v6gap.collect.host import Host

    host = Host()
    return {
        name: func(host)
        for name, func in (
            ("sysctl", kernel.collect_sysctl),
            ("kernel", kernel.collect_kernel),
            ("netlink", netlink.collect_netlink),
            ("sockets", sockets.collect_sockets),
            ("firewall", firewall.collect_firewall),
            ("procs", procs.collect_processes),
        )
    }


@pytest.fixture(scope="module")
def collected(lab: NetnsPair) -> Dict[str, Any]:
    result: Dict[str, Any] = run_in_netns(lab.server, _collect_all)
    return result


def _expected_sockets(lab: NetnsPair, v6only_known: bool = True) -> List[Dict[str, Any]]:
    expected = []
    for comm, specs in LISTENERS.items():
        for proto, family, address, port, v6only in specs:
            sock: Dict[str, Any] = {
                "proto": proto,
                "family": family,
                "address": address,
                "port": port,
                "pid": lab.listeners[comm].pid,
                "process": comm,
            }
            if family == "ipv6":
                sock["v6only"] = bool(v6only) if v6only_known else None
            expected.append(sock)
    return sorted(expected, key=lambda s: (s["proto"], s["family"], s["port"], s["address"]))


def test_sockets_give_v6only_and_owner(lab: NetnsPair, collected: Dict[str, Any]) -> None:
    fields, missing = collected["sockets"]
    assert missing == {}
    assert fields["sockets"] == _expected_sockets(lab)


def _collect_sockets_without_diag() -> Any:
    from v6gap.collect import sockets
    from v6gap.collect.host import Host

    def no_sock_diag() -> Any:
        raise OSError("sock_diag disabled for this test")

    sockets._diag_entries = no_sock_diag  # the child is thrown away: patching is harmless
    return sockets.collect_sockets(Host())


def test_sockets_fallback_reads_this_namespaces_proc_net(lab: NetnsPair) -> None:
    fields, missing = run_in_netns(lab.server, _collect_sockets_without_diag)
    assert fields["sockets"] == _expected_sockets(lab, v6only_known=False)
    assert set(missing) == {"sockets.v6only"}
    assert "cannot tell dual-stack from IPv6-only" in missing["sockets.v6only"]


def test_netlink_interfaces_routes_neighbours(lab: NetnsPair, collected: Dict[str, Any]) -> None:
    fields, missing = collected["netlink"]
    assert missing == {}
    by_name = {i["name"]: i for i in fields["interfaces"]}
    assert set(by_name) == {"lo", SERVER_IF}
    veth = by_name[SERVER_IF]
    assert veth["kind"] == "veth" and veth["up"] is True
    assert by_name["lo"]["kind"] is None
    global_addrs = [a for a in veth["addresses"] if a["scope"] == "global"]
    assert global_addrs == [
        {"family": "ipv4", "address": SERVER_V4, "prefixlen": 24, "scope": "global",
         "flags": ["permanent"]},
        {"family": "ipv6", "address": SERVER_V6, "prefixlen": 64, "scope": "global",
         "flags": ["nodad", "permanent"]},
    ]  # fmt: skip
    routes = fields["routes"]
    assert {"family": "ipv6", "dst": "default", "dev": SERVER_IF, "gateway": PEER_V6,
            "proto": "static"} in routes  # fmt: skip
    assert {"family": "ipv6", "dst": "2001:db8:99::/48", "dev": SERVER_IF, "gateway": PEER_V6,
            "proto": "ra"} in routes  # fmt: skip
    assert {"family": "ipv6", "dst": "2001:db8:1::/64", "dev": SERVER_IF,
            "proto": "kernel"} in routes  # fmt: skip
    assert {"family": "ipv4", "dst": "default", "dev": SERVER_IF, "gateway": PEER_V4,
            "proto": "boot"} in routes  # fmt: skip
    assert not [r for r in routes if r["dst"].startswith(("ff00::", "127."))], "local table"
    assert {"family": "ipv6", "address": PEER_V6, "dev": SERVER_IF, "lladdr": lab.peer_mac,
            "state": "permanent", "router": True} in fields["neighbours"]  # fmt: skip


# --------------------------------------------------------------------------- iproute2 as oracle

_IP_ADDR_FLAGS = {"secondary", "temporary", "nodad", "optimistic", "dadfailed", "home",
                  "deprecated", "tentative", "dynamic", "mngtmpaddr", "noprefixroute",
                  "autojoin", "stable-privacy"}  # fmt: skip


@pytest.fixture(scope="module")
def lab_extras() -> Iterator[NetnsPair]:
    require_lab_tools()
    pair = NetnsPair()
    try:
        pair.build()
        add_extras(pair)
        for args in MORE_EXTRAS:
            _ip("-n", pair.server, *args.split())
        yield pair
    finally:
        pair.close()


def _ip_json(ns: str, *args: str) -> List[Dict[str, Any]]:
    result: List[Dict[str, Any]] = json.loads(_ip("-j", "-n", ns, *args))
    return result


def _iproute2_view(ns: str) -> Dict[str, Any]:
    """What ``ip -j`` shows, in the collector's terms (unicast routes outside the local table,
    neighbours without NOARP entries, ``ip``'s flag spellings mapped to ``ip address``'s)."""
    interfaces = []
    addr_info = {e["ifindex"]: e.get("addr_info", []) for e in _ip_json(ns, "address", "show")}
    for link in _ip_json(ns, "-d", "link", "show"):
        addresses = []
        for a in addr_info[link["ifindex"]]:
            flags = {k.replace("home", "homeaddress") for k in _IP_ADDR_FLAGS if a.get(k) is True}
            if "dynamic" not in flags:
                flags.add("permanent")
            family = {"inet": "ipv4", "inet6": "ipv6"}[a["family"]]
            addresses.append((family, a["local"], a["prefixlen"], a["scope"], sorted(flags)))
        kind = link.get("linkinfo", {}).get("info_kind")
        up = "UP" in link["flags"]
        interfaces.append((link["ifname"], link["ifindex"], kind, up, sorted(addresses)))
    routes = []
    for family, flag in (("ipv4", "-4"), ("ipv6", "-6")):
        for r in _ip_json(ns, flag, "route", "show", "table", "all"):
            if r.get("type", "unicast") != "unicast" or r.get("table") == "local":
                continue
            dst = r["dst"]
            if dst != "default" and "/" not in dst:
                dst += "/32" if family == "ipv4" else "/128"
            proto = r.get("protocol", "boot")  # ip leaves out "proto boot"
            for hop in r.get("nexthops") or [r]:
                routes.append((family, dst, proto, hop.get("dev"), hop.get("gateway")))
    neighbours = []
    for n in _ip_json(ns, "neigh", "show", "nud", "all"):
        states = [s.lower() for s in n["state"]]
        if "noarp" in states:
            continue
        family = "ipv6" if ":" in n["dst"] else "ipv4"
        neighbours.append((family, n["dst"], n["dev"], "|".join(states), "router" in n,
                           n.get("lladdr")))  # fmt: skip
    return {"interfaces": sorted(interfaces, key=lambda i: i[1]), "routes": sorted(routes),
            "neighbours": sorted(neighbours)}  # fmt: skip


def _collector_view(fields: Dict[str, Any]) -> Dict[str, Any]:
    interfaces = [
        (i["name"], i["index"], i["kind"], i["up"],
         sorted((a["family"], a["address"], a["prefixlen"], a["scope"], sorted(a["flags"]))
                for a in i["addresses"]))
        for i in fields["interfaces"]
    ]  # fmt: skip
    routes = [(r["family"], r["dst"], r["proto"], r.get("dev"), r.get("gateway"))
              for r in fields["routes"]]  # fmt: skip
    neighbours = [(n["family"], n["address"], n["dev"], n["state"], n["router"], n.get("lladdr"))
                  for n in fields["neighbours"]]  # fmt: skip
    return {"interfaces": interfaces, "routes": sorted(routes), "neighbours": sorted(neighbours)}


def _collect_netlink() -> Any:
    from v6gap.collect.host import Host
    from v6gap.collect.netlink import collect_netlink

    return collect_netlink(Host())


def test_netlink_agrees_with_iproute2(lab_extras: NetnsPair) -> None:
    """The standard-library rtnetlink client against ``ip -j`` on the same namespace."""
    for _attempt in range(3):  # link-local addresses may finish DAD between the two reads
        fields, missing = run_in_netns(lab_extras.server, _collect_netlink)
        expected = _iproute2_view(lab_extras.server)
        if _collector_view(fields) == expected:
            break
        time.sleep(1)
    assert missing == {}
    assert _collector_view(fields) == expected
    routes = expected["routes"]
    assert ("ipv4", "203.0.113.0/24", "boot", "v6gx1", None) in routes  # ECMP, no gateway
    assert ("ipv6", "2001:db8:77::/48", "250", SERVER_IF, PEER_V6) in routes  # table 1000
    assert ("ipv6", "2001:db8:1::77/128", "dhcp", SERVER_IF, PEER_V6) in routes
    assert ("ipv4", "198.51.100.0/24", "static", SERVER_IF, PEER_V4) in routes  # table 100
    assert not [r for r in routes if r[1] == "2001:db8:75::/48"]  # unreachable
    assert ("ipv6", "2001:db8:1::9", SERVER_IF, "failed", False, None) in expected["neighbours"]
    bridge = next(i for i in expected["interfaces"] if i[0] == "v6gbr0")
    assert bridge[2] == "bridge"
    assert ("ipv6", "2001:db8:5::1", 64, "global", ["deprecated", "nodad", "permanent"]) in (
        bridge[4]
    )


def _diag_raw_states() -> Any:
    """Every TCP socket of the namespace, any state, straight from rtnl."""
    import socket

    from v6gap.collect import rtnl

    with rtnl.NetlinkSocket(rtnl.NETLINK_SOCK_DIAG) as nl:
        found = []
        for family in (socket.AF_INET, socket.AF_INET6):
            body = rtnl.inet_diag_req_v2(family, socket.IPPROTO_TCP, 0xFFFFFFFF)
            for m in rtnl.decode_all(
                nl.dump(rtnl.SOCK_DIAG_BY_FAMILY, body),
                rtnl.SOCK_DIAG_BY_FAMILY,
                rtnl.decode_inet_diag,
            ):
                found.append([m["idiag_src"], m["idiag_sport"], m["idiag_state"], m["attrs"]])
        return sorted(found)


def test_sock_diag_lists_what_ss_lists(lab: NetnsPair) -> None:
    """TCP listeners from rtnl's inet_diag dump against ``ss``: address spelling tells
    dual-stack (``*``) from IPv6-only (``[::]``) there."""
    raw = run_in_netns(lab.server, _diag_raw_states)
    proc = subprocess.run(
        ["ip", "netns", "exec", lab.server, "ss", "-Hltn"],
        capture_output=True, text=True, check=True, timeout=30,
    )  # fmt: skip
    seen = sorted(line.split()[3] for line in proc.stdout.splitlines())
    ours = []
    for address, port, state, attrs in raw:
        assert state == 10
        v6only = dict(attrs).get("INET_DIAG_SKV6ONLY")
        if ":" not in address:
            ours.append(f"{address}:{port}")
        else:
            ours.append(f"[{address}]:{port}" if v6only else f"*:{port}")
    assert sorted(ours) == seen == ["*:8080", "0.0.0.0:8081", "[::]:8443"]


def test_firewall_ruleset_of_the_namespace(collected: Dict[str, Any]) -> None:
    fields, missing = collected["firewall"]
    assert "nft" not in missing
    ruleset = json.loads(fields["firewall"]["nft_json"])["nftables"]
    tables = {(e["table"]["family"], e["table"]["name"]) for e in ruleset if "table" in e}
    assert ("inet", "v6g_lab") in tables
    assert ("ip6", "filter") in tables  # made by ip6tables-nft
    saves = fields["firewall"]["saves"]
    assert "-A INPUT -p tcp -m tcp --dport 8443 -j ACCEPT" in saves["ip6tables-save"]
    assert "8443" not in saves["iptables-save"]
    assert set(saves) >= {"iptables-save", "ip6tables-save"}


def test_sysctl_of_the_namespace(collected: Dict[str, Any]) -> None:
    fields, missing = collected["sysctl"]
    assert missing == {}
    assert fields["ipv6_proc"] is True
    sysctl = fields["sysctl"]
    assert sysctl[f"net.ipv6.conf.{SERVER_IF}.accept_ra"] == "0"  # dotted name kept verbatim
    assert sysctl[f"net.ipv6.conf.{SERVER_IF}.disable_ipv6"] == "0"
    assert sysctl["net.ipv6.conf.lo.accept_ra"] == "1"
    assert "net.ipv4.ip_forward" in sysctl
    assert not [k for k in sysctl if k.startswith("net.ipv6.neigh.")]
    assert "net.ipv6.neigh.default" in fields["sysctl_notes"]


def test_neigh_defaults_come_from_the_initial_namespace() -> None:
    from v6gap.collect.host import Host
    from v6gap.collect.kernel import read_neigh_defaults

    require_lab_tools()
    values = read_neigh_defaults(Host())
    assert set(values) == {f"net.ipv6.neigh.default.gc_{k}" for k in
                           ("thresh1", "thresh2", "thresh3", "interval")}  # fmt: skip
    assert all(v.isdigit() for v in values.values())


def test_kernel_and_processes(lab: NetnsPair, collected: Dict[str, Any]) -> None:
    kernel_fields, _ = collected["kernel"]
    assert kernel_fields["kernel_release"] == os.uname().release
    proc_fields, missing = collected["procs"]
    assert missing == {}
    assert set(LISTENERS) <= set(proc_fields["processes"])
    assert "/usr/sbin/nft" in proc_fields["binaries"]


def test_teardown_leaves_nothing_behind() -> None:
    require_lab_tools()
    pair = NetnsPair()
    try:
        pair.build()
        pids = [proc.pid for proc in pair.listeners.values()]
    finally:
        pair.close()
    names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True)
    assert pair.server not in names.stdout and pair.peer not in names.stdout
    assert not [pid for pid in pids if os.path.exists(f"/proc/{pid}")]
