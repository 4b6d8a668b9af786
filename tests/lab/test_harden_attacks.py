"""Issue 5's proof: a lab server hardened with ``v6gap harden apply`` (files under a tmp --root,
runtime inside the server's namespace) against an on-link attacker and a router with a smaller
MTU toward a far host. Every property is shown failing first (before hardening, or under a
ruleset with the mistake it guards against), so each assertion can fail.

    router (br0 = eth0 + eth1: 2001:db8:1::1/64; eth2: 2001:db8:2::1/64, MTU 1280 toward far)
      eth0 ── server   2001:db8:1::10, 192.0.2.10   (hardened)
      eth1 ── attacker 2001:db8:1::50, 192.0.2.50   (scapy: rogue RA, spoofed redirect; probes)
      eth2 ── far      2001:db8:2::10               (MTU 1500: only the router's side is small)
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from v6gap.lab import scenarios
from v6gap.lab.build import Lab
from v6gap.lab.scenario import Host, Link, Route, Scenario

pytestmark = pytest.mark.lab

SEG1_V6, SEG2_V6 = str(scenarios.SEG1.ipv6), str(scenarios.SEG2.ipv6)
ROGUE_PREFIX = "2001:db8:bad::"  # the prefix the rogue RA advertises
FAR = scenarios.SEG2.v6(10).split("/")[0]
SMALL_MTU = 1280
ALLOWED = (22, 80)  # the policy's services; the server also listens on 8080 (v6) and udp 5353
TRANSFER_BYTES = 4 << 20


def control_ruleset(*rules: str) -> str:
    """An input chain with policy drop and ``rules``; it replaces the previous control table
    (``nft -f`` adds to an existing table unless it is deleted first)."""
    body = "".join(f"\t\t{rule}\n" for rule in rules)
    return (
        "table inet v6g_control\ndelete table inet v6g_control\n"
        "table inet v6g_control {\n\tchain input {\n"
        f"\t\ttype filter hook input priority filter; policy drop;\n{body}\t}}\n}}\n"
    )


# The mistakes the controls make: a ruleset without neighbour discovery, and one that accepts
# replies but not the ICMPv6 errors related to them (packet-too-big is "related").
NO_ND = control_ruleset("ct state established,related accept", "icmpv6 type echo-request accept")
NO_PTB = control_ruleset(
    "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept", "ct state established accept"
)

SCAPY_PREAMBLE = """\
import sys
from scapy.all import (Ether, IPv6, ICMPv6ND_RA, ICMPv6NDOptPrefixInfo, ICMPv6NDOptSrcLLAddr,
    ICMPv6ND_Redirect, ICMPv6NDOptDstLLAddr, ICMPv6EchoRequest, ICMPv6NDOptRedirectedHdr,
    get_if_hwaddr, sendp)
mac = get_if_hwaddr("eth0")
"""
# A rogue RA as FIELD-NOTES says the kernel takes it: link-local source, hop limit 255, and
# finite lifetimes (scapy's defaults are infinite and high preference).
ROGUE_RA = """\
src, = sys.argv[1:]
ra = (Ether(src=mac, dst="33:33:00:00:00:01") / IPv6(src=src, dst="ff02::1", hlim=255)
      / ICMPv6ND_RA(routerlifetime=600, prf=0)
      / ICMPv6NDOptPrefixInfo(prefix="{prefix}", prefixlen=64, L=1, A=1,
                              validlifetime=600, preferredlifetime=300)
      / ICMPv6NDOptSrcLLAddr(lladdr=mac))
sendp(ra, iface="eth0", count=3, inter=0.2, verbose=False)
"""
# A redirect spoofed from the router's link-local (the kernel only takes redirects from the
# current first hop): "reach FAR through me".
REDIRECT = """\
router, server, me, far = sys.argv[1:]
inner = IPv6(src=server, dst=far) / ICMPv6EchoRequest()
redirect = (Ether(src=mac, dst="33:33:00:00:00:01") / IPv6(src=router, dst=server, hlim=255)
            / ICMPv6ND_Redirect(tgt=me, dst=far) / ICMPv6NDOptDstLLAddr(lladdr=mac)
            / ICMPv6NDOptRedirectedHdr(pkt=bytes(inner)[:200]))
sendp(redirect, iface="eth0", count=3, inter=0.2, verbose=False)
"""
SEND = """\
import socket, sys
host, port, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with socket.create_connection((host, port), timeout=20) as s:
    s.sendall(b"x" * size)
"""
RECEIVE = """\
import socket, sys
srv = socket.socket(socket.AF_INET6)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("::", int(sys.argv[1])))
srv.listen(1)
print("ready", flush=True)
conn, _ = srv.accept()
conn.settimeout(20)
total = 0
while True:
    data = conn.recv(65536)
    if not data:
        break
    total += len(data)
print(total, flush=True)
"""


def attack_scenario() -> Scenario:
    """basic, plus a far host behind the router on segment 2."""
    base = scenarios.basic()
    router = base.host("router")
    back = Route(SEG1_V6, scenarios.SEG2.v6(1).split("/")[0])
    far = Host("far", role="client", addresses=scenarios.SEG2.addresses("eth0", 10), routes=(back,))
    with_far_link = base.with_host(
        "router", addresses=router.addresses + scenarios.SEG2.addresses("eth2", 1)
    )
    return with_far_link.add_hosts(far, links=(Link("router", "far", a_if="eth2"),))


# --------------------------------------------------------------------------- lab helpers


def build(lab_factory: Any) -> tuple[Lab, str]:
    """The lab, with the server's route to segment 2 via the router's link-local (so a
    redirect spoofed from that address is one the kernel would take) and the router's side of
    the far link at the small MTU. Returns the lab and the router's link-local address."""
    lab = lab_factory(attack_scenario())
    router_ll = lab.wait_link_local("router", "br0")
    lab.wait_link_local("attacker", "eth0")
    lab.exec(
        "server", ["ip", "-6", "route", "add", SEG2_V6, "via", router_ll, "dev", "eth0"], check=True
    )
    lab.exec("router", ["ip", "link", "set", "eth2", "mtu", str(SMALL_MTU)], check=True)
    assert lab.ping("server", FAR), "the lab routes server -> far"
    return lab, router_ll


def scapy(lab: Lab, host: str, script: str, *args: str) -> None:
    done = lab.exec(host, [sys.executable, "-c", SCAPY_PREAMBLE + script, *args], timeout=60)
    assert done.returncode == 0, done.stderr


def wait_for(predicate: Any, what: str, tries: int = 40, state: Any = None) -> None:
    """Poll a kernel state that follows a packet (bounded; never a timing assertion)."""
    for _ in range(tries):
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"never happened: {what}" + (f" ({state()})" if state else ""))


def settle(lab: Lab) -> None:
    """Let the attacker's packets be processed: the server handles its link's packets in order,
    so once an echo sent after them is answered, they have been judged."""
    assert lab.ping("attacker", lab.addr("server", 6))


def ra_state(lab: Lab) -> tuple[list[str], list[str]]:
    """The server's routes learned from RAs, and its addresses in the rogue prefix."""
    routes = lab.exec("server", ["ip", "-6", "route", "show", "proto", "ra"], check=True).stdout
    addrs = lab.exec("server", ["ip", "-6", "-o", "addr", "show", "dev", "eth0"], check=True).stdout
    rogue = [ln for ln in addrs.splitlines() if f" {ROGUE_PREFIX[:-1]}" in ln]  # 2001:db8:bad:…
    return [ln for ln in routes.splitlines() if ln.strip()], rogue


def route_to_far(lab: Lab) -> str:
    return lab.exec("server", ["ip", "-6", "route", "get", FAR], check=True).stdout


def redirect_counters(lab: Lab) -> str:
    counters = ["Icmp6InRedirects", "Icmp6InErrors", "Ip6InDiscards", "Ip6InHdrErrors"]
    return lab.exec("server", ["nstat", "-az", *counters]).stdout


def forget_far(lab: Lab) -> None:
    """Drop the server's cached exceptions (PMTU, redirects) toward the far segment."""
    lab.exec("server", ["ip", "-6", "route", "flush", "cache"], check=False)


def transfer(lab: Lab, port: int) -> int:
    """Bytes the far host received from the server over one TCP connection (server sends)."""
    receiver = lab.popen("far", [sys.executable, "-c", RECEIVE, str(port)], stdout=subprocess.PIPE)
    assert receiver.stdout is not None
    assert receiver.stdout.readline().strip() == b"ready"
    lab.exec(
        "server", [sys.executable, "-c", SEND, FAR, str(port), str(TRANSFER_BYTES)], timeout=60
    )
    out, _ = receiver.communicate(timeout=60)
    return int(out.strip() or 0)


def probe(lab: Lab) -> dict[str, Any]:
    argv = [
        sys.executable, "-m", "v6gap", "probe", lab.addr("server", 6), lab.addr("server", 4),
        "--from-netns", lab.ns("attacker"), "--ports", "22,80,8080", "--udp", "5353",
        "--format", "json", "--no-fail-on-mismatch",
    ]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    data: dict[str, Any] = json.loads(done.stdout)
    return data


def open_ports(report: dict[str, Any]) -> dict[str, set[str]]:
    """address -> what the probe found open there, as ``tcp/22``, ``udp/5353``."""
    found: dict[str, set[str]] = {}
    for row in report["results"]:
        for address, state in row["states"].items():
            if state == "open":
                found.setdefault(address, set()).add(f"{row['proto']}/{row['port']}")
    return found


def v6gap(lab: Lab, host: str, *args: str) -> subprocess.CompletedProcess[str]:
    return lab.exec(host, [sys.executable, "-m", "v6gap", *args], timeout=120)


def harden(lab: Lab, router_ll: str, root: Path) -> None:
    """``v6gap harden apply`` inside the server namespace, files under ``root``; confirmed."""
    policy = root.parent / "v6gap.yaml"
    services = ", ".join(f"{{port: {p}}}" for p in ALLOWED)
    policy.write_text(f"profile: server\nservices: [{services}]\nrouters: [{router_ll}]\n")
    root.mkdir()
    args = ["--policy", str(policy), "--root", str(root), "--confirm-timeout", "600"]
    # The lab server runs 8080 and udp/5353, which this policy closes on purpose: preflight
    # refuses until that is overridden, and writes nothing.
    refused = v6gap(lab, "server", "harden", "apply", *args)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "--override listener-blocked" in refused.stdout + refused.stderr
    assert not (root / "etc").exists()
    applied = v6gap(lab, "server", "harden", "apply", *args, "--override", "listener-blocked")
    try:
        assert applied.returncode == 0, applied.stdout + applied.stderr
        # Issue 5 item 5: the audit after apply passes every check the policy covers.
        assert "checks the policy covers pass" in applied.stdout, applied.stdout
    finally:
        confirmed = v6gap(lab, "server", "harden", "confirm", "--root", str(root))
    assert confirmed.returncode == 0, confirmed.stdout + confirmed.stderr
    assert "table inet v6gap" in lab.exec("server", ["nft", "list", "tables"], check=True).stdout


# --------------------------------------------------------------------------- the proof


def test_attacks_succeed_before_hardening(lab_factory: Any) -> None:
    """The controls: each attack works, and each essential breaks under the usual mistake."""
    lab, router_ll = build(lab_factory)
    attacker_ll = lab.wait_link_local("attacker", "eth0")
    # The probe reaches tcp/8080 and udp/5353 over IPv6, which the policy will close.
    before = open_ports(probe(lab)).get(lab.addr("server", 6), set())
    assert {"tcp/8080", "udp/5353"} <= before, before
    # A rogue RA adds a default route via the attacker and an address in its prefix.
    assert ra_state(lab) == ([], [])
    scapy(lab, "attacker", ROGUE_RA.replace("{prefix}", ROGUE_PREFIX), attacker_ll)
    wait_for(lambda: all(ra_state(lab)), "the rogue RA's route and address")
    routes, _ = ra_state(lab)
    assert any(f"default via {attacker_ll}" in r for r in routes), routes
    # Let DAD finish on the rogue address: a new address flushes cached routes (the redirect's).
    wait_for(lambda: "tentative" not in "".join(ra_state(lab)[1]), "DAD on the rogue address")
    # A redirect spoofed from the router moves the server's route to far onto the attacker.
    assert f"via {router_ll}" in route_to_far(lab)
    taken = False
    for _ in range(3):  # an attacker repeats: the control shows the kernel can be redirected
        scapy(lab, "attacker", REDIRECT, router_ll, lab.addr("server", 6), attacker_ll, FAR)
        with contextlib.suppress(AssertionError):
            wait_for(lambda: f"via {attacker_ll}" in route_to_far(lab), "redirect", tries=10)
            taken = True
            break
    assert taken, (route_to_far(lab), redirect_counters(lab))
    # Without NS/NA accepted, IPv6 to the server stops (IPv4 would not: ARP is not in inet).
    lab.load_nft("server", NO_ND)
    lab.exec("attacker", ["ip", "-6", "neigh", "flush", "dev", "eth0"], check=True)
    assert not lab.ping("attacker", lab.addr("server", 6))
    # Without related ICMPv6 errors, the router's packet-too-big never reaches the server.
    lab.load_nft("server", NO_PTB)
    forget_far(lab)
    lab.exec("server", ["ping", "-n", "-c2", "-W1", "-s", "1400", FAR])
    assert f"mtu {SMALL_MTU}" not in route_to_far(lab)


def test_hardened_server_keeps_essentials_and_ignores_attacks(
    lab_factory: Any, tmp_path: Path
) -> None:
    lab, router_ll = build(lab_factory)
    attacker_ll = lab.wait_link_local("attacker", "eth0")
    harden(lab, router_ll, tmp_path / "root")
    server4, server6 = lab.addr("server", 4), lab.addr("server", 6)
    # Only the allowed ports, on both families; ICMPv6 echo and neighbour discovery work.
    lab.exec("attacker", ["ip", "-6", "neigh", "flush", "dev", "eth0"], check=True)
    report = probe(lab)
    found, allowed = open_ports(report), {f"tcp/{port}" for port in ALLOWED}
    assert "tcp/22" in found[server6] and found[server6] <= allowed, found  # 80: IPv4 only
    assert found[server4] == allowed, found
    assert report["icmp"]["echo"][server6]["answered"] is True
    assert report["icmp"]["neighbour"][server6]["result"] == "answered"
    neigh = lab.exec("attacker", ["ip", "-6", "neigh", "show", server6], check=True).stdout
    assert "lladdr" in neigh and "FAILED" not in neigh, neigh
    # PMTU: the router's packet-too-big reaches the server, and a large transfer completes.
    forget_far(lab)
    lab.exec("server", ["ping", "-n", "-c2", "-W1", "-s", "1400", FAR])
    wait_for(lambda: f"mtu {SMALL_MTU}" in route_to_far(lab), "the server learned the path MTU")
    forget_far(lab)
    assert transfer(lab, 9000) == TRANSFER_BYTES
    assert f"mtu {SMALL_MTU}" in route_to_far(lab)
    # A rogue RA changes nothing: no route, no address.
    scapy(lab, "attacker", ROGUE_RA.replace("{prefix}", ROGUE_PREFIX), attacker_ll)
    settle(lab)
    assert ra_state(lab) == ([], [])
    # A redirect spoofed from the router is ignored, however often it is sent (the control
    # needed up to three rounds).
    for _ in range(3):
        scapy(lab, "attacker", REDIRECT, router_ll, server6, attacker_ll, FAR)
        settle(lab)
        assert f"via {router_ll}" in route_to_far(lab), redirect_counters(lab)
