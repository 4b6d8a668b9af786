"""The engine against the kernel: load a ruleset, connect for real, compare with ``explain``.

One lab serves the whole module: a ``pair`` (client ::1/.1, server ::2/.2 on eth0) with a second
link between the same two hosts (client 2001:db8:2::1/192.0.2.65, server 2001:db8:2::2/.66 on
eth1), so every probe is made over two paths that differ in input interface, source and
destination address: rules on ``iif``/``iifname``, ``saddr`` and ``daddr`` decide. The server
listens dual-stack on some TCP and UDP ports and leaves others closed. For each ruleset: flush,
load it into the server, read it back as the audit does (``nft -j list ruleset`` and the ``*-save``
dumps inside the namespace), ask the engine for every sampled port/protocol/family from the
client's address, and probe the same from the client. A persistent prober inside the client
runs all probes of one ruleset concurrently, so a ruleset costs about one connect timeout.

What counts as what:

* engine ``accept``: a listening port answers (TCP handshake completes, UDP echo comes back); a
  closed port is refused (TCP RST, ICMP port unreachable).
* engine ``drop`` (drop or reject): never open. On a closed port it must not be refused either,
  unless the ruleset rejects with a TCP reset or port-unreachable, which looks the same
  (``refusing_reject``). Rejects otherwise use admin-prohibited, which the client sees as
  EHOSTUNREACH/EACCES; as ICMP errors are rate-limited, a reject may also look like a timeout —
  both are "not accepted". The server's ICMP rate limits are switched off inside its namespace.
* ``conditional``/``unknown``: not comparable; counted. The engine is told the path's interface,
  source and destination, so in generated rulesets only a ``limit`` may leave it undecided
  (``conditional``); any other undecided verdict fails the test.
* group probes (UDP to ff02::1, 224.0.0.1 and 255.255.255.255 out of each path's interface, to
  listening and closed ports): ``accept`` is delivered, ``drop`` is not. The kernel answers no
  such datagram with a port unreachable, and the dual-stack listener never echoes IPv4
  multicast, so a watcher in the server (raw UDP sockets: a copy of each datagram past the
  input hook, port or no port) says which arrived, told apart by source port.
* each probe is also judged without its destination (any of the host's, for UDP of any
  delivered route type: local, multicast, broadcast): when that verdict is decided it holds for
  the probe's destination too, so it is compared as well (tallied ``undirected``).

Static neighbour entries on both sides keep IPv6 working under a ``policy drop`` that does not
let neighbour discovery in (IPv4's ARP is not filtered by these tables): the engine judges new
connections, not neighbour discovery.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import subprocess
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal, Optional

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from v6gap import snapshot_io
from v6gap.collect.snapshot import collect_netns
from v6gap.firewall.model import TCP, UDP, Ruleset
from v6gap.firewall.parity import explain
from v6gap.firewall.sources import read_snapshot
from v6gap.lab import Lab, Listener
from v6gap.lab.pytest_plugin import check_lab_prerequisites, unique_suffix
from v6gap.lab.scenario import Backend, Link
from v6gap.lab.scenarios import SEG1, SEG2, pair, routed

pytestmark = pytest.mark.lab
Family = Literal["ipv4", "ipv6"]

TCP_OPEN = (22, 443, 8080)
TCP_CLOSED = (23, 9000)
UDP_OPEN = (53, 5353)
UDP_CLOSED = (54, 9000)
PROBE_TIMEOUT = 0.4
RETRY_TIMEOUT = 3.0
SLOW = ("timeout", "handshake stalled", "not delivered")
FAMILIES: tuple[Family, ...] = ("ipv4", "ipv6")
PATHS = ("eth0", "eth1")  # the server's (and the client's) interface of each link
NEIGH = ("ip", "neigh", "replace")
EMPTY_FILTER = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n"

# Runs in the client under `python3 -I -S -c`: one JSON request per line
# ({"timeout": s, "probes": [[proto, addr, port] or ["group", group, port, source, ifname],
# ...]}), one JSON list of outcomes back ("SPORT echo|silent" for a group probe).
# UDP probes take source ports in turn from a block of 20,000 (not the kernel's random pick):
# a reused port could meet a conntrack entry an earlier ruleset's probe left established, and
# an `established accept` would let it through whatever the new ruleset says.
PROBER = r"""
import errno, itertools, json, random, socket, sys, threading
REJECTED = (errno.EHOSTUNREACH, errno.EACCES, errno.ENETUNREACH, errno.EPERM)
PORTS = itertools.count(random.randrange(20000))
def attempt(s, proto, addr, port):
    try:
        s.connect((addr, port))
        if proto == "udp":
            s.send(b"v6gap differential probe\n")
    except ConnectionRefusedError:
        return "refused"
    except (socket.timeout, TimeoutError):
        return "timeout"
    except OSError as exc:
        return "rejected" if exc.errno in REJECTED else "error %s" % exc
    try:
        # TCP: the listener's banner, sent once accept() returned, i.e. once the handshake's
        # last ACK got through too; UDP: the echo.
        return "open" if s.recv(4096) else "closed without banner"
    except ConnectionRefusedError:
        return "refused"
    except (socket.timeout, TimeoutError):
        return "timeout" if proto == "udp" else "handshake stalled"
    except OSError as exc:
        return "rejected" if exc.errno in REJECTED else "error %s" % exc
def probe(proto, addr, port, timeout):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
    s.settimeout(timeout)
    if proto == "udp":
        try:
            s.bind(("::" if fam == socket.AF_INET6 else "0.0.0.0", 40000 + next(PORTS) % 20000))
        except OSError:
            pass  # taken: the kernel picks one
    try:
        return attempt(s, proto, addr, port)
    finally:
        s.close()
def group(addr, port, src, ifname, timeout):
    # Unconnected, from the path's own address and out of its interface: the echo comes back
    # from the server's unicast address, which a socket connected to the group would refuse.
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, ifname.encode())
        if fam == socket.AF_INET6:
            index = socket.if_nametoindex(ifname)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, index)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 1)
            dest = (addr, port, 0, index)
        else:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
            s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(src))
            s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
            dest = (addr, port)
        try:
            s.bind((src, 40000 + next(PORTS) % 20000))
        except OSError:
            s.bind((src, 0))
        sport = s.getsockname()[1]
        s.sendto(b"v6gap differential group probe\n", dest)
        try:
            heard = "echo" if s.recvfrom(4096)[0] else "empty"
        except (socket.timeout, TimeoutError):
            heard = "silent"
        return "%d %s" % (sport, heard)
    except OSError as exc:
        return "error %s" % exc
    finally:
        s.close()
for line in sys.stdin:
    req = json.loads(line)
    out = [None] * len(req["probes"])
    def run(i, p):
        if p[0] == "group":
            out[i] = group(p[1], p[2], p[3], p[4], req["timeout"])
        else:
            out[i] = probe(p[0], p[1], p[2], req["timeout"])
    threads = [threading.Thread(target=run, args=(i, p)) for i, p in enumerate(req["probes"])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
"""


# Runs in the server under `python3 -I -S -c GROUP...`: raw UDP sockets get a copy of every
# datagram the host takes, after the input hook and before the port lookup, so they see what a
# ruleset let through whether a socket listens on the port or not (the kernel answers no
# multicast or broadcast datagram with a port unreachable: the client cannot tell). Each line
# read asks for the [source, source port, group, port] seen since the last one.
WATCHER = r"""
import json, select, socket, struct, sys
GROUPS = set(sys.argv[1:])
v4 = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
v6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_UDP)
v6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, 1)
for s in (v4, v6):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    s.setblocking(False)
seen = []
def drain():
    while True:
        try:
            data = v4.recv(65535)
        except BlockingIOError:
            break
        dst = socket.inet_ntop(socket.AF_INET, data[16:20])
        if dst in GROUPS:
            at = (data[0] & 15) * 4
            ports = struct.unpack("!HH", data[at:at + 4])
            seen.append([socket.inet_ntop(socket.AF_INET, data[12:16]), *ports, dst])
    while True:
        try:
            data, ancillary, _, peer = v6.recvmsg(65535, 256)
        except BlockingIOError:
            break
        for level, kind, value in ancillary:
            if level == socket.IPPROTO_IPV6 and kind == socket.IPV6_PKTINFO:
                dst = socket.inet_ntop(socket.AF_INET6, value[:16])
                if dst in GROUPS:
                    seen.append([peer[0], *struct.unpack("!HH", data[:4]), dst])
while True:
    ready = select.select([sys.stdin, v4, v6], [], [])[0]
    drain()
    if sys.stdin in ready:
        if not sys.stdin.readline():
            break
        sys.stdout.write(json.dumps(seen) + "\n")
        sys.stdout.flush()
        seen = []
"""


@dataclass(frozen=True)
class Probe:
    proto: str
    family: Family
    port: int
    listening: bool
    path: str  # the link: the interface the probe leaves the client and reaches the server on
    group: Optional[str] = None  # a multicast or broadcast destination instead of the server's


PROBES = tuple(
    Probe(proto, family, port, listening, path)
    for path in PATHS
    for family in FAMILIES
    for proto, ports in (
        ("tcp", TCP_OPEN),
        ("udp", UDP_OPEN),
        ("tcp", TCP_CLOSED),
        ("udp", UDP_CLOSED),
    )
    for port in ports
    for listening in [port in (TCP_OPEN if proto == "tcp" else UDP_OPEN)]
)
# Groups every host on the link takes: all-nodes, all-hosts and the limited broadcast.
GROUPS: dict[Family, tuple[str, ...]] = {
    "ipv6": ("ff02::1",),
    "ipv4": ("224.0.0.1", "255.255.255.255"),
}
GROUP_PROBES = tuple(
    Probe("udp", family, port, port in UDP_OPEN, path, group)
    for path in PATHS
    for family in FAMILIES
    for group in GROUPS[family]
    for port in UDP_OPEN + UDP_CLOSED
)


class Bench:
    """The module's lab, its prober and the tallies of what was compared.

    ``firewall`` is the host whose ruleset is judged: the server (input hook), or on the routed
    lab the router (forward hook, from ``eth0`` out of ``oif``). With a ``watcher`` in the
    server, group probes (multicast and broadcast) are made too."""

    def __init__(
        self,
        lab: Lab,
        prober: subprocess.Popen[bytes],
        paths: tuple[str, ...] = PATHS,
        firewall: str = "server",
        oif: Optional[str] = None,
        watcher: Optional[subprocess.Popen[bytes]] = None,
    ) -> None:
        self.lab = lab
        self.prober = prober
        self.watcher = watcher
        self.firewall = firewall
        self.oif = oif
        # A path is named by the firewall's input interface; the client's and the server's
        # interfaces on it have the same name in both labs.
        self.client = {(p, f): lab.addr("client", f, p) for p in paths for f in FAMILIES}
        self.server = {(p, f): lab.addr("server", f, p) for p in paths for f in FAMILIES}
        groups = GROUP_PROBES if watcher is not None else ()
        self.probes = tuple(p for p in PROBES + groups if p.path in paths)
        self.tally: Counter[str] = Counter()

    # -- the firewall's ruleset ----------------------------------------------------------------

    def flush(self) -> None:
        self.lab.load_nft(self.firewall, "flush ruleset\n")
        for family in (4, 6):
            self.lab.load_iptables(self.firewall, EMPTY_FILTER, family, "legacy")

    def read_back(self) -> Ruleset:
        """What the audit reads: the namespace's snapshot (``nft -j list ruleset`` and every
        ``*-save`` dump), collected inside it and read as ``v6gap audit --netns`` reads it."""
        data = collect_netns(self.lab.ns(self.firewall), "differential-test")
        return read_snapshot(snapshot_io.from_data(data, f"{self.firewall} namespace"))

    # -- the client's view ----------------------------------------------------------------------

    def probe(self, probes: tuple[Probe, ...], timeout: float = PROBE_TIMEOUT) -> list[str]:
        """Run ``probes`` concurrently from the client; one outcome each (a group probe's is
        whether the server took it: ``delivered`` or ``not delivered``)."""
        items = [
            ["group", p.group, p.port, self.client[(p.path, p.family)], p.path]
            if p.group
            else [p.proto, self.server[(p.path, p.family)], p.port]
            for p in probes
        ]
        found = [str(o) for o in _ask(self.prober, {"timeout": timeout, "probes": items})]
        if not any(p.group for p in probes):
            return found
        # Every group probe has waited for its echo by now: what the server took is in the
        # watcher's sockets already.
        assert self.watcher is not None
        seen = {
            (ipaddress.ip_address(src), sport, group, port)
            for src, sport, port, group in _ask(self.watcher, {})
        }
        return [
            _delivered(outcome, (ipaddress.ip_address(items[i][3]), group, p.port), seen)
            if (group := p.group)
            else outcome
            for i, (p, outcome) in enumerate(zip(probes, found))
        ]

    # -- the comparison ---------------------------------------------------------------------------

    def compare(
        self,
        label: str,
        text: str,
        refusing_reject: bool = False,
        decided: bool = False,
        undirected_decided: bool = False,
    ) -> list[str]:
        """Disagreements between the engine and the real outcome for every sampled probe.

        Each probe is judged twice: with the destination the client used (the server's address
        or, for a group probe, the multicast or broadcast group), and without one (any
        destination delivered to the host: for UDP also multicast and broadcast ones, told apart
        by address-type matches). A decided verdict of either must be what the kernel did.

        With ``decided``, an undecided verdict is a failure too, except ``conditional`` where the
        ruleset rate-limits (``limit``): only some packets match such a rule. With
        ``undirected_decided`` the judgement without a destination must be decided as well."""
        ruleset = self.read_back()
        outcomes = self.probe(self.probes)
        problems = []
        limited = "limit" in text
        for probe, outcome in zip(self.probes, outcomes):
            protocol = TCP if probe.proto == "tcp" else UDP
            source = self.client[(probe.path, probe.family)]
            judged = []
            for daddr in (probe.group or self.server[(probe.path, probe.family)], None):
                # A listening port needs the whole handshake; a closed one answers the first
                # packet.
                decision = explain(
                    ruleset,
                    probe.family,
                    protocol,
                    probe.port,
                    saddr=source,
                    iif=probe.path,
                    connection=probe.listening,
                    daddr=daddr,
                    hook="input" if self.oif is None else "forward",
                    oif=self.oif,
                )
                which = f"to {daddr}" if daddr else "to any destination of the host"
                prefix = ("group " if probe.group else "") + ("" if daddr else "undirected ")
                self.tally[prefix + decision.verdict] += 1
                must = decided if daddr else undirected_decided
                if decision.verdict not in ("accept", "drop"):
                    if must and not (decision.verdict == "conditional" and limited):
                        problems.append(
                            f"{probe.proto}/{probe.port} over {probe.family} {which}: engine "
                            f"says {decision.verdict} for a ruleset built only from matches it "
                            "should decide\n    trace: " + "\n           ".join(decision.trace)
                        )
                    continue
                judged.append((prefix, which, decision))
            agree = [
                _agrees(d.verdict, outcome, probe.listening, refusing_reject) for *_, d in judged
            ]
            if not all(agree) and outcome in SLOW:
                # A busy machine can miss the short timeout: ask once more, patiently, before
                # calling it a disagreement (a dropped packet stays dropped).
                outcome = self.probe((probe,), RETRY_TIMEOUT)[0]
                self.tally["retried"] += 1
            for prefix, which, decision in judged:
                self.tally[prefix + "compared"] += 1
                if not _agrees(decision.verdict, outcome, probe.listening, refusing_reject):
                    state = "listening" if probe.listening else "closed"
                    problems.append(
                        f"{probe.proto}/{probe.port} over {probe.family} ({state}) from "
                        f"{source} via {probe.path} {which}: engine says {decision.verdict}, "
                        f"the kernel gave {outcome}\n    trace: "
                        + "\n           ".join(decision.trace)
                    )
        if problems:
            problems.insert(0, f"ruleset {label}:\n{text}")
            problems.append("notes: " + "; ".join(ruleset.notes))
        return problems


def _ask(process: subprocess.Popen[bytes], request: dict[str, Any]) -> list[Any]:
    """One JSON line to a helper inside a namespace, one JSON list back."""
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write((json.dumps(request) + "\n").encode())
    process.stdin.flush()
    line = process.stdout.readline()
    if not line:
        raise RuntimeError("a helper process in the lab exited")
    found = json.loads(line)
    assert isinstance(found, list)
    return found


def _delivered(
    outcome: str,
    sent: tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, str, int],
    seen: set[tuple[Any, int, str, int]],
) -> str:
    """A group probe's outcome ("SPORT echo|silent") as the server saw it."""
    sport, _, heard = outcome.partition(" ")
    if not sport.isdigit():
        return outcome  # the client could not send it
    source, group, port = sent
    taken = (source, int(sport), group, port) in seen
    if heard == "echo" and not taken:
        return "echoed but not seen by the watcher"  # the test's fault, not the ruleset's
    return "delivered" if taken else "not delivered"


def _agrees(verdict: str, outcome: str, listening: bool, refusing_reject: bool) -> bool:
    if outcome in ("delivered", "not delivered"):
        return (verdict == "accept") == (outcome == "delivered")
    if verdict == "accept":
        return outcome == ("open" if listening else "refused")
    if outcome == "open":
        return False
    if outcome == "refused" and not listening:
        return refusing_reject  # a reject that looks like a closed port
    return outcome in ("timeout", "rejected", "handshake stalled") or (
        outcome == "refused" and refusing_reject
    )


def _mac(lab: Lab, host: str, ifname: str) -> str:
    out = lab.exec(host, ["ip", "-j", "link", "show", "dev", ifname], check=True).stdout
    return str(json.loads(out)[0]["address"])


@pytest.fixture(scope="module")
def bench() -> Iterator[Bench]:
    check_lab_prerequisites()
    listeners = tuple(Listener("tcp", "::", p, v6only=False) for p in TCP_OPEN) + tuple(
        Listener("udp", "::", p, v6only=False) for p in UDP_OPEN
    )
    two_links = pair().with_host(
        "server",
        listeners=listeners,
        sysctls={"net.ipv4.icmp_ratelimit": 0, "net.ipv6.icmp.ratelimit": 0},
        addresses=SEG1.addresses("eth0", 2) + SEG2.addresses("eth1", 2),
    )
    two_links = two_links.with_host(
        "client", addresses=SEG1.addresses("eth0", 1) + SEG2.addresses("eth1", 1)
    )
    scenario = dataclasses.replace(two_links, links=(*two_links.links, Link("client", "server")))
    lab = Lab(scenario, suffix=unique_suffix(), link_local="none")
    lab.up()
    try:
        _pin_neighbours(lab, [(("client", p), ("server", p)) for p in PATHS])
        argv = ["python3", "-I", "-S", "-c", WATCHER, *(g for f in FAMILIES for g in GROUPS[f])]
        watcher = lab.popen("server", argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        _ask(watcher, {})  # answered once its sockets are open
        made = Bench(lab, _prober(lab), watcher=watcher)
        yield made
        print(f"\ndifferential tally: {dict(made.tally)}")
    finally:
        lab.down()


def _pin_neighbours(lab: Lab, links: list[tuple[tuple[str, str], tuple[str, str]]]) -> None:
    """Permanent neighbour entries both ways on each ``((host, ifname), (peer, ifname))``."""
    for ends in links:
        for (host, ifname), (peer, peer_ifname) in (ends, ends[::-1]):
            mac = _mac(lab, peer, peer_ifname)
            for family in FAMILIES:
                address = lab.addr(peer, family, peer_ifname)
                argv = [*NEIGH, address, "lladdr", mac, "dev", ifname, "nud", "permanent"]
                lab.exec(host, argv, check=True)


def _prober(lab: Lab) -> subprocess.Popen[bytes]:
    argv = ["python3", "-I", "-S", "-c", PROBER]
    return lab.popen("client", argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)


def check(
    bench: Bench,
    label: str,
    text: str,
    refusing_reject: bool = False,
    decided: bool = False,
    undirected_decided: bool = False,
) -> None:
    problems = bench.compare(label, text, refusing_reject, decided, undirected_decided)
    assert not problems, "engine and kernel disagree\n" + "\n".join(problems)


# --------------------------------------------------------------------------- hand-written

ADMIN = "reject with icmpx type admin-prohibited"

NFT_CASES: dict[str, tuple[str, bool]] = {
    "inet drop policy, ports and a set": (
        """table inet t {
  chain input { type filter hook input priority 0; policy drop;
    ct state established,related accept
    tcp dport { 22, 443 } accept
    udp dport 53 accept
  }
}""",
        False,
    ),
    "inet accept policy with drops and admin rejects": (
        f"""table inet t {{
  chain input {{ type filter hook input priority 0; policy accept;
    tcp dport 8080 {ADMIN}
    udp dport 5353 drop
    tcp dport 9000 drop
    udp dport 54 {ADMIN}
  }}
}}""",
        False,
    ),
    "reject policy: port-unreachable and tcp reset": (
        """table inet t {
  chain input { type filter hook input priority 0; policy accept;
    tcp dport 22 accept
    udp dport 53 accept
    meta l4proto tcp reject with tcp reset
    reject
  }
}""",
        True,
    ),
    "jump, goto and return to user chains": (
        """table inet t {
  chain svc {
    ip saddr 192.0.2.0/24 tcp dport 22 accept
    tcp dport 443 return
    meta l4proto udp goto udp_in
    tcp dport 8080 drop
  }
  chain udp_in {
    udp dport 53 accept
    return
  }
  chain input { type filter hook input priority 0; policy drop;
    jump svc
    tcp dport { 443, 8080, 9000 } accept
    udp dport 5353 accept
  }
}""",
        False,
    ),
    "named and anonymous sets with intervals": (
        """table inet t {
  set tports { type inet_service; flags interval; elements = { 20-30, 8000-8100 } }
  set v6src { type ipv6_addr; flags interval; elements = { 2001:db8:1::/64 } }
  set v4src { type ipv4_addr; flags interval; elements = { 198.51.100.0/24 } }
  chain input { type filter hook input priority 0; policy drop;
    ip6 saddr @v6src tcp dport @tports accept
    ip saddr @v4src tcp dport @tports accept
    udp dport { 50-60, 5000-6000 } accept
    ip saddr { 192.0.2.0/30, 203.0.113.7 } tcp dport 443 accept
  }
}""",
        False,
    ),
    "per-family rules in an inet table": (
        """table inet t {
  chain input { type filter hook input priority 0; policy drop;
    meta nfproto ipv4 tcp dport 22 accept
    ip6 saddr 2001:db8:1::/64 udp dport 53 accept
    meta nfproto ipv6 tcp dport 8080 accept
    ip saddr 192.0.2.0/24 udp dport 5353 accept
    ip6 saddr != 2001:db8:2::/64 tcp dport 443 accept
  }
}""",
        False,
    ),
    "ct state": (
        """table inet t {
  chain input { type filter hook input priority 0; policy drop;
    ct state invalid drop
    ct state established,related accept
    ct state new tcp dport 22 accept
    ct state != new udp dport 53 accept
    ct state { new, untracked } udp dport 5353 accept
  }
}""",
        False,
    ),
    "interfaces, destinations and rate limits": (
        f"""table inet t {{
  chain input {{ type filter hook input priority 0; policy drop;
    iif "lo" accept
    iif "eth1" tcp dport 22 accept
    iifname "eth0" udp dport 53 accept
    iifname "eth*" tcp dport 443 accept
    ip6 daddr 2001:db8:2::2 tcp dport 8080 accept
    ip daddr 192.0.2.2 tcp dport {{ 8080, 9000 }} accept
    ip6 daddr 2001:db8:1::/64 udp dport 5353 accept
    iifname != "eth0" udp dport 5353 accept
    ip saddr 192.0.2.64/26 udp dport 54 {ADMIN}
    iif {{ "eth1", "lo" }} udp dport 54 accept
    tcp dport 23 limit rate 1/minute burst 1 packets accept
    udp dport 9000 limit rate over 1/second drop
  }}
}}""",
        False,
    ),
    # Packets to the host cross prerouting first: a drop there is final, an accept ends only
    # the prerouting chain (input still decides).
    "prerouting filter chain drops before input": (
        """table inet pre {
  chain raw { type filter hook prerouting priority -300; policy accept;
    tcp dport 22 drop
    iifname "eth1" udp dport 53 drop
    ip6 daddr 2001:db8:2::2 tcp dport 8080 drop
    ip saddr 192.0.2.64/26 tcp dport 443 drop
    tcp dport 9000 accept
  }
}
table inet t {
  chain input { type filter hook input priority 0; policy drop;
    ct state established,related accept
    tcp dport { 22, 443, 8080 } accept
    udp dport { 53, 5353 } accept
  }
}""",
        False,
    ),
    "prerouting policy drop, no input chain": (
        """table ip6 pre6 {
  chain pre { type filter hook prerouting priority 0; policy drop;
    ct state established,related accept
    tcp dport { 22, 8080 } accept
    iif "eth0" udp dport 53 accept
  }
}
table ip pre4 {
  chain pre { type filter hook prerouting priority -150; policy accept;
    udp dport 5353 drop
    ip daddr 192.0.2.66 tcp dport 443 drop
  }
}""",
        False,
    ),
    "ip and ip6 tables, two base chains by priority": (
        """table ip6 first {
  chain input { type filter hook input priority -10; policy accept;
    tcp dport 22 accept
    udp dport 53 drop
  }
}
table ip v4 {
  chain input { type filter hook input priority 0; policy drop;
    tcp dport { 22, 443 } accept
    udp dport 53 accept
    meta l4proto tcp tcp dport 23 accept
  }
}
table inet last {
  chain input { type filter hook input priority 10; policy accept;
    tcp dport 22 drop
    meta l4proto udp accept
  }
}""",
        False,
    ),
    # Every probe goes to one of the server's unicast addresses from one of the client's: the
    # destination's route type is local, the source's unicast.
    "address types: fib daddr and saddr type": (
        """table inet t {
  chain input { type filter hook input priority 0; policy drop;
    fib saddr type local drop
    fib daddr type != local drop
    fib daddr type local tcp dport { 22, 443 } accept
    fib daddr type { local, multicast } udp dport 53 accept
    fib daddr type local udp dport 5353 accept
    fib daddr type multicast tcp dport 8080 accept
    fib daddr type { broadcast, multicast } udp dport 54 accept
    fib saddr type unicast tcp dport 23 accept
    fib saddr type != unicast udp dport 9000 accept
  }
}""",
        False,
    ),
    "address types in a user chain and on prerouting": (
        f"""table inet pre {{
  chain pre {{ type filter hook prerouting priority -150; policy accept;
    fib daddr type local tcp dport 9000 drop
    fib daddr type != local udp dport 53 drop
    fib saddr type local tcp dport 22 drop
  }}
}}
table inet t {{
  chain not_local {{
    fib daddr type local return
    fib daddr type multicast return
    fib daddr type broadcast return
    {ADMIN}
  }}
  chain input {{ type filter hook input priority 0; policy drop;
    jump not_local
    udp dport {{ 53, 54, 5353 }} accept
    tcp dport {{ 22, 443, 9000 }} accept
  }}
}}""",
        False,
    ),
    # Group probes go to ff02::1, 224.0.0.1 and 255.255.255.255: route types multicast and
    # broadcast, addresses only destination matches on the groups see.
    "multicast and broadcast destinations accepted": (
        """table inet t {
  chain input { type filter hook input priority 0; policy drop;
    fib daddr type local udp dport { 53, 5353 } accept
    fib daddr type multicast udp dport 53 accept
    fib daddr type broadcast udp dport { 54, 5353 } accept
    fib daddr type { broadcast, multicast } udp dport 9000 accept
    fib daddr type != { local, broadcast } udp dport 54 accept
    ip daddr 224.0.0.0/4 udp dport 5353 accept
    ip6 daddr ff02::1 udp dport 5353 accept
    ip daddr 192.0.2.0/24 udp dport 9000 accept
  }
}""",
        False,
    ),
    "multicast and broadcast destinations dropped": (
        """table inet pre {
  chain pre { type filter hook prerouting priority -150; policy accept;
    fib daddr type broadcast udp dport 53 drop
    ip6 daddr ff00::/8 udp dport 54 drop
  }
}
table inet t {
  chain input { type filter hook input priority 0; policy accept;
    fib daddr type multicast udp dport 5353 drop
    ip daddr 255.255.255.255 udp dport 9000 drop
    ip daddr 224.0.0.1 udp dport 54 drop
    fib daddr type != local udp dport 9000 drop
    ip daddr != 192.0.2.0/24 udp dport 53 drop
    fib daddr type unicast udp dport 5353 drop
  }
}""",
        False,
    ),
    # The client is 192.0.2.1 and 2001:db8:1::1 on eth0, 192.0.2.65 and 2001:db8:2::1 on eth1:
    # each range holds one path's source and not the other's.
    "address ranges": (
        """table inet t {
  chain input { type filter hook input priority 0; policy drop;
    ip saddr 192.0.2.1-192.0.2.9 tcp dport 22 accept
    ip saddr 192.0.2.60-192.0.2.70 tcp dport 443 accept
    ip saddr != 192.0.2.2-192.0.2.64 udp dport 53 accept
    ip saddr { 192.0.2.65-192.0.2.65, 198.51.100.0-198.51.100.9 } udp dport 54 accept
    ip6 saddr 2001:db8:1::1-2001:db8:1::ff udp dport 5353 accept
    ip6 saddr 2001:db8:1::2-2001:db8:2::1 tcp dport 8080 accept
    ip6 saddr != 2001:db8:1::-2001:db8:1::ffff tcp dport 23 accept
    ip6 saddr { 2001:db8:2::2-2001:db8:2::5, 2001:db8:1::1 } udp dport 9000 accept
    ip daddr 192.0.2.60-192.0.2.70 tcp dport 9000 accept
    ip6 daddr 2001:db8:1::-2001:db8:1::2 tcp dport 9000 accept
  }
}""",
        False,
    ),
}

IPTABLES = """*filter
:INPUT DROP [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:SVC - [0:0]
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
-A INPUT -i eth1 -p tcp -m tcp --dport 9000 -j ACCEPT
-A INPUT -d 192.0.2.2/32 -p udp -m udp --dport 54 -j ACCEPT
-A INPUT -j SVC
-A INPUT -p tcp -m tcp --dport 443 -j ACCEPT
-A INPUT -p udp -m udp --dport 9000 -m limit --limit 1/min -j ACCEPT
-A SVC -p udp -m multiport --dports 53,5353 -j ACCEPT
-A SVC -p tcp -m tcp --dport 443 -j RETURN
-A SVC -s 192.0.2.0/24 -p tcp -m tcp --dport 8080 -j ACCEPT
-A SVC -p tcp -m tcp --dport 23 -j REJECT --reject-with icmp-admin-prohibited
COMMIT
"""

IP6TABLES = """*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:BLOCK - [0:0]
-A INPUT -d 2001:db8:1::2/128 -p tcp -m tcp --dport 8080 -j DROP
-A INPUT -i eth1 -p udp -m udp --dport 53 -j DROP
-A INPUT -p tcp -m tcp --dport 8000:9000 -j REJECT --reject-with icmp6-adm-prohibited
-A INPUT -s 2001:db8:2::/64 -j DROP
-A INPUT -p udp -m udp --dport 5353 -j BLOCK
-A INPUT -m state --state NEW -p tcp -m multiport --dports 20:30,443 -j BLOCK
-A BLOCK -s 2001:db8:1::/64 -p tcp -m tcp --dport 443 -j RETURN
-A BLOCK -j DROP
COMMIT
"""


@pytest.mark.parametrize("label", sorted(NFT_CASES))
def test_hand_written_nft(bench: Bench, label: str) -> None:
    text, refusing = NFT_CASES[label]
    bench.flush()
    bench.lab.load_nft("server", text)
    check(bench, label, text, refusing, decided=True)


@pytest.mark.parametrize("backend", ["nft", "legacy"])
def test_hand_written_iptables(bench: Bench, backend: Backend) -> None:
    bench.flush()
    bench.lab.load_iptables("server", IPTABLES, 4, backend)
    bench.lab.load_iptables("server", IP6TABLES, 6, backend)
    check(bench, f"iptables-{backend}", f"{IPTABLES}\n{IP6TABLES}")


FILTER_HEAD = "*filter\n:INPUT DROP [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"


def _not_local(family: int) -> str:
    """ufw's ufw-not-local in front of plain accepts: the chain returns what is for the host
    (IPv6 has no broadcast: ip6tables refuses the type)."""
    types = ("LOCAL", "MULTICAST", "BROADCAST") if family == 4 else ("LOCAL", "MULTICAST")
    returns = "".join(f"-A not-local -m addrtype --dst-type {t} -j RETURN\n" for t in types)
    return f"""{FILTER_HEAD}:not-local - [0:0]
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -j not-local
-A INPUT -p udp -m udp --dport 53 -j ACCEPT
-A INPUT -p udp -m multiport --dports 54,5353 -j ACCEPT
-A INPUT -p tcp -m multiport --dports 22,443,23 -j ACCEPT
{returns}-A not-local -j DROP
COMMIT
"""


def _addrtype_and_iprange(family: int) -> str:
    """addrtype and iprange matches; each range holds one path's source (client .1/1::1 on
    eth0, .65/2::1 on eth1) or destination and not the other's."""
    # (a list of types is one of them in IPv4; IPv6 is test_ip6tables_addrtype_lists')
    local_or_multicast = "LOCAL,MULTICAST" if family == 4 else "LOCAL"
    if family == 4:
        near, far, dst = "192.0.2.1-192.0.2.9", "192.0.2.60-192.0.2.70", "192.0.2.60-192.0.2.70"
    else:
        near = "2001:db8:1::1-2001:db8:1::ff"
        far = "2001:db8:1::2-2001:db8:2::1"
        dst = "2001:db8:1::-2001:db8:1::2"
    return f"""{FILTER_HEAD}-A INPUT -m addrtype --src-type LOCAL -j DROP
-A INPUT -m addrtype ! --dst-type LOCAL -j DROP
-A INPUT -p tcp -m addrtype --dst-type LOCAL -m tcp --dport 22 -j ACCEPT
-A INPUT -p udp -m addrtype --dst-type {local_or_multicast} -m udp --dport 53 -j ACCEPT
-A INPUT -p udp -m addrtype --dst-type MULTICAST -m udp --dport 5353 -j ACCEPT
-A INPUT -p tcp -m addrtype --src-type UNICAST -m tcp --dport 23 -j ACCEPT
-A INPUT -p tcp -m iprange --src-range {near} -m tcp --dport 443 -j ACCEPT
-A INPUT -p tcp -m iprange ! --src-range {near} -m tcp --dport 8080 -j ACCEPT
-A INPUT -p udp -m iprange --src-range {far} -m udp --dport 5353 -j ACCEPT
-A INPUT -p tcp -m iprange --dst-range {dst} -m tcp --dport 9000 -j ACCEPT
-A INPUT -p udp -m iprange ! --dst-range {dst} -m udp --dport 54 -j ACCEPT
COMMIT
"""


def _group_addrtype(family: int) -> str:
    """addrtype and destination prefixes that tell the group probes' destinations (ff02::1,
    224.0.0.1, 255.255.255.255) from the server's own."""
    if family == 4:
        own = """-A INPUT -p udp -m addrtype --dst-type BROADCAST -m udp --dport 54 -j ACCEPT
-A INPUT -p udp -d 224.0.0.0/4 -m udp --dport 9000 -j ACCEPT
-A INPUT -p udp -m addrtype --dst-type BROADCAST -j DROP
"""
    else:
        own = """-A INPUT -p udp -d ff00::/8 -m udp --dport 54 -j ACCEPT
-A INPUT -p udp -d ff02::1/128 -m udp --dport 9000 -j REJECT --reject-with icmp6-adm-prohibited
"""
    return f"""{FILTER_HEAD}\
-A INPUT -p udp -m addrtype --dst-type MULTICAST -m udp --dport 53 -j ACCEPT
-A INPUT -p udp -m addrtype --dst-type LOCAL -m udp --dport 53 -j DROP
-A INPUT -p udp -m addrtype ! --dst-type LOCAL -m udp --dport 5353 -j ACCEPT
{own}-A INPUT -p udp -m addrtype --dst-type LOCAL -m udp --dport 54 -j ACCEPT
-A INPUT -p udp -m addrtype --dst-type UNICAST -m udp --dport 9000 -j ACCEPT
-A INPUT -p tcp -m addrtype --dst-type LOCAL -j ACCEPT
COMMIT
"""


IPTABLES_ADDRESS_CASES = {
    "ufw-not-local": _not_local,
    "addrtype and iprange": _addrtype_and_iprange,
    "addrtype multicast and broadcast": _group_addrtype,
}


@pytest.mark.parametrize("backend", ["nft", "legacy"])
@pytest.mark.parametrize("label", sorted(IPTABLES_ADDRESS_CASES))
def test_hand_written_iptables_address_matches(bench: Bench, label: str, backend: Backend) -> None:
    bench.flush()
    make = IPTABLES_ADDRESS_CASES[label]
    for family in (4, 6):
        bench.lab.load_iptables("server", make(family), family, backend)
    # ufw-not-local lets every delivered destination type through: the judgement without a
    # destination (UDP's class split by type) is as decided as the one with it.
    text = f"{make(4)}\n{make(6)}"
    undirected = label == "ufw-not-local"
    check(bench, f"{label} iptables-{backend}", text, decided=True, undirected_decided=undirected)


# xt_addrtype reads a list of types differently in IPv6: UNICAST, MULTICAST and UNSPEC there
# are classes of the address (ipv6_addr_type), each required, and only LOCAL, ANYCAST and
# UNREACHABLE come from a route lookup, any of them. So LOCAL,MULTICAST needs a multicast
# address, and UNICAST matches the host's own addresses. IPv4 takes any one listed route type.
ADDRTYPE_LISTS = f"""{FILTER_HEAD}\
-A INPUT -p udp -m addrtype --dst-type LOCAL,MULTICAST -m udp --dport 53 -j ACCEPT
-A INPUT -p tcp -m addrtype --dst-type UNICAST -m tcp --dport 443 -j ACCEPT
-A INPUT -p tcp -m addrtype --dst-type LOCAL,UNICAST -m tcp --dport 22 -j ACCEPT
-A INPUT -p udp -m addrtype --dst-type UNICAST,MULTICAST -m udp --dport 5353 -j ACCEPT
COMMIT
"""


@pytest.mark.parametrize("backend", ["nft", "legacy"])
def test_ip6tables_addrtype_lists(bench: Bench, backend: Backend) -> None:
    bench.flush()
    for family in (4, 6):
        bench.lab.load_iptables("server", ADDRTYPE_LISTS, family, backend)
    check(bench, f"addrtype lists iptables-{backend}", ADDRTYPE_LISTS, decided=True)


RAW_HEAD = "*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
MANGLE_HEAD = "*mangle\n" + "".join(
    f":{c} ACCEPT [0:0]\n" for c in ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING")
)
EMPTY_PREROUTING = f"{RAW_HEAD}COMMIT\n{MANGLE_HEAD}COMMIT\n"


def _raw_prerouting(family: int) -> str:
    """raw and mangle PREROUTING drops in front of an INPUT that accepts them."""
    server2 = "192.0.2.66/32" if family == 4 else "2001:db8:2::2/128"
    return f"""{RAW_HEAD}-A PREROUTING -p tcp -m tcp --dport 22 -j DROP
-A PREROUTING -d {server2} -p udp -m udp --dport 53 -j DROP
-A PREROUTING -i eth0 -p tcp -m tcp --dport 8080 -j DROP
-A PREROUTING -p tcp -m tcp --dport 9000 -j ACCEPT
COMMIT
{MANGLE_HEAD}-A PREROUTING -p udp -m udp --dport 5353 -j DROP
COMMIT
*filter
:INPUT DROP [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p tcp -m multiport --dports 22,443,8080 -j ACCEPT
-A INPUT -p udp -m multiport --dports 53,5353 -j ACCEPT
COMMIT
"""


@pytest.mark.parametrize("backend", ["nft", "legacy"])
def test_iptables_raw_and_mangle_prerouting_on_the_input_path(
    bench: Bench, backend: Backend
) -> None:
    bench.flush()
    try:
        for family in (4, 6):
            bench.lab.load_iptables("server", _raw_prerouting(family), family, backend)
        check(bench, f"raw/mangle PREROUTING iptables-{backend}", _raw_prerouting(6))
    finally:
        if backend == "legacy":  # flush() empties the legacy filter table only
            for family in (4, 6):
                bench.lab.load_iptables("server", EMPTY_PREROUTING, family, "legacy")


# --------------------------------------------------------------------------- generated

PORT_VALUES = (22, 23, 53, 54, 443, 5353, 8080, 9000)
PORT_RANGES = ("20-30", "50-60", "400-9000", "5000-6000", "8000-8100", "9000-9100")
V4_PREFIXES = (
    "192.0.2.0/24",
    "192.0.2.1",
    "192.0.2.0/30",
    "192.0.2.64/26",
    "192.0.2.128/25",
    "198.51.100.0/24",
)
V6_PREFIXES = ("2001:db8:1::/64", "2001:db8:1::1", "2001:db8::/32", "2001:db8:2::/64", "::/0")
# The server's addresses on each link, their segments, and beyond.
# The groups of the group probes too (all-nodes, all-hosts, the limited broadcast).
V4_DESTINATIONS = (
    "192.0.2.2",
    "192.0.2.66",
    "192.0.2.64/26",
    "192.0.2.0/24",
    "198.51.100.1",
    "224.0.0.0/4",
    "255.255.255.255",
)
V6_DESTINATIONS = (
    "2001:db8:1::2",
    "2001:db8:2::2",
    "2001:db8:2::/64",
    "2001:db8::/32",
    "ff00::/8",
    "ff02::1",
)
INTERFACES = (
    'iif "eth0"',
    'iif "eth1"',
    'iif "lo"',
    'iifname "eth1"',
    'iifname "eth*"',
    'iifname != "eth0"',
    'iif != "eth1"',
    'iifname { "eth0", "lo" }',
    'oifname != "eth1"',  # no output interface on input: always true (the kernel compares "")
)
# Around the clients' sources: the two-link lab's 192.0.2.1/2001:db8:1::1 (eth0) and
# 192.0.2.65/2001:db8:2::1 (eth1), the routed lab's 192.0.2.10/2001:db8:1::10.
V4_RANGES = (
    "192.0.2.1-192.0.2.9",
    "192.0.2.10-192.0.2.70",
    "192.0.2.2-192.0.2.64",
    "192.0.2.65-192.0.2.65",
    "192.0.2.0-192.0.2.255",
)
V6_RANGES = (
    "2001:db8:1::1-2001:db8:1::f",
    "2001:db8:1::10-2001:db8:2::1",
    "2001:db8:1::2-2001:db8:1::ffff",
    "2001:db8:2::-2001:db8:2::ffff",
)
# Without iif or oif among fib's flags these are allowed on every hook (nft_fib_validate).
ADDRESS_TYPES = (
    "fib daddr type local",
    "fib daddr type != local",
    "fib daddr type { local, multicast }",
    "fib daddr type { broadcast, multicast }",
    "fib daddr type multicast",
    "fib daddr type broadcast",
    "fib daddr type != multicast",
    "fib daddr type unicast",
    "fib saddr type local",
    "fib saddr type unicast",
)
LIMITS = ("limit rate 1/minute burst 1 packets", "limit rate over 1/second")
PORT_ITEMS = tuple(str(p) for p in PORT_VALUES) + PORT_RANGES
CT_STATES = ("new", "established,related", "invalid", "new,established", "untracked")


def _port_expr(draw: Any, has_named: bool) -> str:
    kind = draw(
        st.sampled_from(["one", "range", "set", "named"] if has_named else ["one", "range", "set"])
    )
    if kind == "one":
        return str(draw(st.sampled_from(PORT_VALUES)))
    if kind == "range":
        return str(draw(st.sampled_from(PORT_RANGES)))
    if kind == "named":
        return "@pset"
    items = draw(st.lists(st.sampled_from(PORT_ITEMS), min_size=1, max_size=3, unique=True))
    return "{ " + ", ".join(items) + " }"


def _overlaps(items: list[str]) -> bool:
    spans = []
    for item in items:
        low, _, high = item.partition("-")
        spans.append((int(low), int(high or low)))
    spans.sort()
    return any(b[0] <= a[1] for a, b in zip(spans, spans[1:]))


@st.composite
def _rule(draw: Any, family: str, user: Optional[str], in_user: bool, has_named: bool) -> str:
    parts: list[str] = []
    addr_families = {"inet": ["ip", "ip6"], "ip": ["ip"], "ip6": ["ip6"]}[family]
    if family == "inet" and draw(st.integers(0, 4)) == 0:
        nfproto = draw(st.sampled_from(["ipv4", "ipv6"]))
        parts.append(f"meta nfproto {nfproto}")
        addr_families = ["ip" if nfproto == "ipv4" else "ip6"]  # nft refuses the other one
    if draw(st.integers(0, 3)) == 0:
        parts.append(draw(st.sampled_from(INTERFACES)))
    for _ in range(draw(st.integers(0, 1))):
        fam = draw(st.sampled_from(addr_families))
        field = draw(st.sampled_from(["saddr", "saddr", "daddr"]))
        if field == "saddr":
            pool = V4_PREFIXES + V4_RANGES if fam == "ip" else V6_PREFIXES + V6_RANGES
        else:
            pool = V4_DESTINATIONS if fam == "ip" else V6_DESTINATIONS
        if fam == "ip" and has_named and draw(st.booleans()):
            value = "@aset"
        else:
            items = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=2, unique=True))
            value = items[0] if len(items) == 1 else "{ " + ", ".join(items) + " }"
        neg = "!= " if draw(st.integers(0, 3)) == 0 else ""
        parts.append(f"{fam} {field} {neg}{value}")
    if draw(st.integers(0, 4)) == 0:
        parts.append(draw(st.sampled_from(ADDRESS_TYPES)))
    if draw(st.integers(0, 3)) == 0:
        neg = "!= " if draw(st.integers(0, 3)) == 0 else ""
        states = draw(st.sampled_from(CT_STATES))
        parts.append(
            f"ct state {neg}{{ {states} }}" if "," in states else f"ct state {neg}{states}"
        )
    l4 = draw(st.sampled_from(["none", "port", "port", "l4proto"]))
    if l4 == "port":
        proto = draw(st.sampled_from(["tcp", "udp"]))
        neg = "!= " if draw(st.integers(0, 5)) == 0 else ""
        parts.append(f"{proto} dport {neg}{_port_expr(draw, has_named)}")
    elif l4 == "l4proto":
        parts.append(f"meta l4proto {draw(st.sampled_from(['tcp', 'udp', '{ tcp, udp }']))}")
    reject = {
        "inet": "reject with icmpx type admin-prohibited",
        "ip": "reject with icmp type admin-prohibited",
        "ip6": "reject with icmpv6 type admin-prohibited",
    }[family]
    if draw(st.integers(0, 7)) == 0:
        parts.append(draw(st.sampled_from(LIMITS)))  # only some packets match: conditional
    verdicts = ["accept", "accept", "drop", reject, "counter"]
    if user is not None:
        verdicts += [f"jump {user}", f"goto {user}"]
    if in_user:
        verdicts += ["return"]
    parts.append(draw(st.sampled_from(verdicts)))
    return " ".join(parts)


@st.composite
def rulesets(draw: Any) -> str:
    """One or two tables, each with a base input chain, maybe a prerouting chain before it, a
    user chain and named sets."""
    out = []
    names = iter(["a", "b"])
    for _ in range(draw(st.integers(1, 2))):
        family = draw(st.sampled_from(["inet", "ip", "ip6"]))
        name = next(names)
        has_named = draw(st.booleans())
        has_user = draw(st.booleans())
        lines = [f"table {family} {name} {{"]
        if has_named:
            ports = draw(
                st.lists(st.sampled_from(PORT_ITEMS), min_size=1, max_size=3, unique=True).filter(
                    lambda xs: not _overlaps(xs)
                )
            )
            elements = ", ".join(ports)
            lines.append(
                f"  set pset {{ type inet_service; flags interval; elements = {{ {elements} }} }}"
            )
            if family != "ip6":
                addrs = draw(
                    st.sampled_from(
                        ["192.0.2.0/24", "198.51.100.0/24", "192.0.2.0/30, 203.0.113.0/24"]
                    )
                )
                lines.append(
                    f"  set aset {{ type ipv4_addr; flags interval; elements = {{ {addrs} }} }}"
                )
        if has_user:
            lines.append("  chain user {")
            for _ in range(draw(st.integers(0, 4))):
                lines.append("    " + draw(_rule(family, None, True, has_named)))
            lines.append("  }")
        if draw(st.integers(0, 2)) == 0:
            # Packets to the host cross prerouting first (after conntrack: ct state is set).
            pre = draw(st.sampled_from([-150, 0]))
            lines.append(f"  chain pre {{ type filter hook prerouting priority {pre};")
            lines.append("    policy accept;")
            for _ in range(draw(st.integers(1, 4))):
                lines.append("    " + draw(_rule(family, None, False, has_named)))
            lines.append("  }")
        policy = draw(st.sampled_from(["accept", "drop"]))
        priority = draw(st.sampled_from([-10, 0, 10]))
        lines.append(
            f"  chain input {{ type filter hook input priority {priority}; policy {policy};"
        )
        for _ in range(draw(st.integers(0, 8))):
            lines.append(
                "    " + draw(_rule(family, "user" if has_user else None, False, has_named))
            )
        lines.append("  }")
        lines.append("}")
        out.append("\n".join(lines))
    return "\n".join(out) + "\n"


# A fresh sample every run (no example database): every CI run compares new rulesets.
GENERATED = settings(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def check_generated(bench: Bench, text: str) -> None:
    bench.flush()
    bench.lab.load_nft(bench.firewall, text)
    bench.tally["generated"] += 1
    check(bench, f"generated ({bench.firewall})", text, decided=True)


@settings(GENERATED, max_examples=200)
@given(text=rulesets())
def test_generated_rulesets(bench: Bench, text: str) -> None:
    check_generated(bench, text)


ESTABLISHED_GAP = """table ip t {
  chain input { type filter hook input priority 0; policy accept;
    ct state != new drop
  }
}"""


def test_established_packets_of_an_accepted_connection(bench: Bench) -> None:
    bench.flush()
    bench.lab.load_nft("server", ESTABLISHED_GAP)
    problems = bench.compare("established packets dropped", ESTABLISHED_GAP)
    assert not any("tcp/" in p for p in problems[1:-1]), "\n".join(problems)


# --------------------------------------------------------------------------- the forward hook
# FW-12's question, proven the same way: the routed lab (client - router - server), rulesets on
# the router's prerouting and forward hooks, connections from the client to the server. Every
# generated chain starts by accepting established and related packets: replies cross the
# prerouting and forward hooks too (the server's answers arrive on eth1), and the engine judges
# the client's side of a connection (a rule dropping eth1's packets drops the replies: found by
# this test).

FWD_SERVER = {a.family: a.ip for a in SEG2.addresses("eth0", 10)}
ESTABLISHED = "ct state established,related accept"


@pytest.fixture(scope="module")
def router_bench() -> Iterator[Bench]:
    check_lab_prerequisites()
    listeners = tuple(Listener("tcp", "::", p, v6only=False) for p in TCP_OPEN) + tuple(
        Listener("udp", "::", p, v6only=False) for p in UDP_OPEN
    )
    quiet = {"net.ipv4.icmp_ratelimit": 0, "net.ipv6.icmp.ratelimit": 0}
    scenario = routed().with_host("server", listeners=listeners, sysctls=quiet)
    lab = Lab(scenario.with_host("router", sysctls=quiet), suffix=unique_suffix())
    lab.up()
    try:
        # As on the two-link lab: rules that drop what is for the router itself (`fib daddr
        # type local drop` on prerouting) would drop neighbour discovery too.
        _pin_neighbours(
            lab,
            [(("client", "eth0"), ("router", "eth0")), (("router", "eth1"), ("server", "eth0"))],
        )
        made = Bench(lab, _prober(lab), ("eth0",), firewall="router", oif="eth1")
        yield made
        print(f"\nforward differential tally: {dict(made.tally)}")
    finally:
        lab.down()


FORWARD_NFT: dict[str, str] = {
    "forward drop policy: interfaces, ports and destinations": f"""table inet f {{
  chain forward {{ type filter hook forward priority 0; policy drop;
    {ESTABLISHED}
    iifname "eth0" oifname "eth1" tcp dport 22 accept
    oif "eth1" ip6 daddr {FWD_SERVER["ipv6"]} tcp dport 443 accept
    ip daddr {FWD_SERVER["ipv4"]} udp dport {{ 53, 54 }} accept
    oifname "eth0" udp dport 5353 accept
    iif "eth1" tcp dport 8080 accept
    oifname != "eth0" tcp dport 23 accept
    udp dport 9000 {ADMIN}
  }}
}}""",
    "prerouting drops before an accepting forward chain": f"""table ip6 pre {{
  chain pre {{ type filter hook prerouting priority -150; policy accept;
    tcp dport 22 drop
    iifname "eth0" udp dport 53 drop
  }}
}}
table inet f {{
  chain forward {{ type filter hook forward priority 0; policy accept;
    {ESTABLISHED}
    tcp dport 443 {ADMIN}
    ip saddr 192.0.2.0/26 udp dport 5353 drop
  }}
}}""",
    # A routed packet's destination is unicast (the server's, seen from the router) and so
    # is its source; the client is 192.0.2.10 and 2001:db8:1::10.
    "forward address types and ranges": f"""table inet pre {{
  chain pre {{ type filter hook prerouting priority -150; policy accept;
    {ESTABLISHED}
    fib daddr type local drop
    fib daddr type != unicast tcp dport 443 drop
  }}
}}
table inet f {{
  chain forward {{ type filter hook forward priority 0; policy drop;
    {ESTABLISHED}
    fib daddr type local drop
    fib saddr type local drop
    fib daddr type unicast tcp dport {{ 22, 443, 23 }} accept
    fib daddr type != unicast udp dport 53 accept
    fib daddr type {{ unicast, multicast }} udp dport {{ 5353, 54 }} accept
    fib saddr type unicast udp dport 9000 {ADMIN}
    ip saddr 192.0.2.1-192.0.2.9 tcp dport 8080 accept
    ip6 saddr 2001:db8:1::2-2001:db8:1::ff tcp dport 8080 accept
    ip saddr 192.0.2.10-192.0.2.20 udp dport 53 accept
    ip6 daddr != 2001:db8:2::1-2001:db8:2::9 udp dport 53 accept
  }}
}}""",
}


def _forward_iptables(family: int) -> str:
    reject = "icmp-admin-prohibited" if family == 4 else "icmp6-adm-prohibited"
    return f"""*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:FWD - [0:0]
-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -i eth0 -o eth1 -j FWD
-A FWD -p tcp -m multiport --dports 22,443 -j ACCEPT
-A FWD -d {FWD_SERVER["ipv4" if family == 4 else "ipv6"]} -p udp -m udp --dport 53 -j ACCEPT
-A FWD -p udp -m udp --dport 9000 -j REJECT --reject-with {reject}
-A FWD -p tcp -m tcp --dport 8080 -j RETURN
-A FORWARD -p tcp -m tcp --dport 8080 -j ACCEPT
COMMIT
"""


def _forward_addrtype(family: int) -> str:
    span = "192.0.2.10-192.0.2.20" if family == 4 else "2001:db8:1::2-2001:db8:1::ff"
    unicast_or_multicast = "UNICAST,MULTICAST" if family == 4 else "UNICAST"
    return f"""*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -m addrtype --dst-type LOCAL -j DROP
-A FORWARD -p tcp -m addrtype --dst-type UNICAST -m multiport --dports 22,443 -j ACCEPT
-A FORWARD -p udp -m addrtype ! --dst-type UNICAST -m udp --dport 53 -j ACCEPT
-A FORWARD -p udp -m addrtype --dst-type {unicast_or_multicast} -m udp --dport 5353 -j ACCEPT
-A FORWARD -p tcp -m iprange --src-range {span} -m tcp --dport 8080 -j ACCEPT
-A FORWARD -p udp -m iprange ! --src-range {span} -m udp --dport 54 -j ACCEPT
COMMIT
"""


@pytest.mark.parametrize("label", sorted(FORWARD_NFT))
def test_forward_hand_written_nft(router_bench: Bench, label: str) -> None:
    router_bench.flush()
    router_bench.lab.load_nft("router", FORWARD_NFT[label])
    check(router_bench, label, FORWARD_NFT[label], decided=True)


@pytest.mark.parametrize("backend", ["nft", "legacy"])
def test_forward_hand_written_iptables(router_bench: Bench, backend: Backend) -> None:
    router_bench.flush()
    for family in (4, 6):
        router_bench.lab.load_iptables("router", _forward_iptables(family), family, backend)
    check(router_bench, f"forward iptables-{backend}", _forward_iptables(6))


@pytest.mark.parametrize("backend", ["nft", "legacy"])
def test_forward_address_types_iptables(router_bench: Bench, backend: Backend) -> None:
    router_bench.flush()
    for family in (4, 6):
        router_bench.lab.load_iptables("router", _forward_addrtype(family), family, backend)
    text = f"{_forward_addrtype(4)}\n{_forward_addrtype(6)}"
    check(router_bench, f"forward addrtype iptables-{backend}", text, decided=True)


FORWARD_INTERFACES = (
    'iif "eth0"',
    'iif "eth1"',
    'oif "eth1"',
    'oifname "eth0"',
    'oifname != "eth1"',
    'iifname "eth*"',
    'oifname { "eth1", "lo" }',
)


@st.composite
def forward_rulesets(draw: Any) -> str:
    """A forward chain (after the established accept) and maybe a prerouting chain."""
    family = draw(st.sampled_from(["inet", "ip", "ip6"]))
    lines = [f"table {family} f {{"]
    for hook, priority in (("prerouting", -150), ("forward", 0)):
        if hook == "prerouting" and draw(st.integers(0, 2)) > 0:
            continue
        policy = "accept" if hook == "prerouting" else draw(st.sampled_from(["accept", "drop"]))
        lines.append(f"  chain {hook} {{ type filter hook {hook} priority {priority};")
        lines.append(f"    policy {policy};")
        lines.append(f"    {ESTABLISHED}")
        for _ in range(draw(st.integers(0, 6))):
            rule = draw(_rule(family, None, False, False))
            if draw(st.integers(0, 2)) == 0:
                rule = f"{draw(st.sampled_from(FORWARD_INTERFACES))} {rule}"
            lines.append(f"    {rule}")
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


@settings(GENERATED, max_examples=40)
@given(text=forward_rulesets())
def test_generated_forward_rulesets(router_bench: Bench, text: str) -> None:
    check_generated(router_bench, text)
