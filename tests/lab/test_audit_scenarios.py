"""The host audit on real lab hosts: the real collector runs inside each namespace.

Each scenario is one of issue 3's: the checks must reach the verdict the kernel state implies,
and, where it matters, real packets from another namespace agree with the verdict.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from v6gap import __version__
from v6gap.checks.run import run_checks
from v6gap.collect.snapshot import collect_netns
from v6gap.lab import scenarios
from v6gap.lab.build import Lab
from v6gap.lab.scenario import Firewall, Listener
from v6gap.model import Finding, Profile, Report, Snapshot, Status
from v6gap.snapshot_io import from_data

pytestmark = pytest.mark.lab

# iptables allows IPv4 only to port 22; ip6tables stays empty: the first seed's headline.
IPTABLES_SSH_ONLY = """\
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
COMMIT
"""


def snapshot_of(lab: Lab, host: str) -> Snapshot:
    return from_data(collect_netns(lab.ns(host), __version__), "lab snapshot")


def audit(lab: Lab, host: str, profile: str = "server") -> Report:
    report = run_checks(snapshot_of(lab, host), Profile(profile))
    crashed = [(f.id, f.reason) for f in report.findings if "failed internally" in f.reason]
    assert not crashed, crashed  # a crashing check would hide as unknown
    return report


def finding(report: Report, check_id: str) -> Finding:
    return next(f for f in report.findings if f.id == check_id)


def test_seed_headline_ipv4_locked_ipv6_open(lab_factory: Any) -> None:
    scenario = scenarios.pair().with_host(
        "server",
        listeners=(Listener("tcp", "::", 8080, v6only=False, name="lab-app"),),
        firewall=Firewall(iptables=IPTABLES_SSH_ONLY),
    )
    lab = lab_factory(scenario)
    report = audit(lab, "server")

    fw01 = finding(report, "V6G-FW-01")
    assert fw01.status is Status.FAIL, fw01
    assert finding(report, "V6G-STATE-05").status is Status.FAIL
    assert any(s.address == lab.addr("server", 6) for s in finding(report, "V6G-STATE-05").subjects)
    inventory = finding(report, "V6G-EXP-01")
    port_8080 = [s for s in inventory.subjects if s.port == 8080]
    assert [s.value for s in port_8080] == ["dual-stack"], inventory.subjects
    assert port_8080[0].process == "lab-app"
    exp03 = finding(report, "V6G-EXP-03")
    assert exp03.status is Status.FAIL, exp03
    assert [(s.port, s.process) for s in exp03.subjects] == [(8080, "lab-app")]
    fw03 = finding(report, "V6G-FW-03")
    assert fw03.status is Status.FAIL
    assert {"tcp 0-21", "tcp 23-65535"} <= {s.name for s in fw03.subjects}
    # Real packets agree: the client reaches 8080 over IPv6 and not over IPv4.
    assert lab.connect("client", "tcp", lab.addr("server", 6), 8080).outcome == "open"
    assert lab.connect("client", "tcp", lab.addr("server", 4), 8080).outcome == "timeout"


def test_ra_and_redirects_on_one_interface_only(lab_factory: Any) -> None:
    hardened = {
        f"net.ipv6.conf.{scope}.{key}": 0
        for scope in ("all", "default")
        for key in ("accept_ra", "accept_redirects")
    }
    scenario = scenarios.pair().with_host(
        "server",
        sysctls={
            **hardened,
            "net.ipv6.conf.eth0.accept_ra": 1,
            "net.ipv6.conf.eth0.accept_redirects": 1,
        },
    )
    lab = lab_factory(scenario)
    report = audit(lab, "server")
    for check_id, key in (("V6G-NDP-01", "accept_ra"), ("V6G-NDP-02", "accept_redirects")):
        result = finding(report, check_id)
        assert result.status is Status.FAIL, result
        assert [s.name for s in result.subjects] == [f"net.ipv6.conf.eth0.{key}"]

    lab.set_sysctls(
        "server", {"net.ipv6.conf.eth0.accept_ra": 0, "net.ipv6.conf.eth0.accept_redirects": 0}
    )
    fixed = audit(lab, "server")
    assert finding(fixed, "V6G-NDP-01").status is Status.PASS
    assert finding(fixed, "V6G-NDP-02").status is Status.PASS


def test_ipv6_disabled_at_runtime_but_not_persisted(lab_factory: Any) -> None:
    scenario = scenarios.pair().with_host(
        "server", files={"sysctl.d/10-lab.conf": "kernel.printk = 4 4 1 7\n"}
    )
    lab = lab_factory(scenario)
    lab.set_sysctls(
        "server",
        {f"net.ipv6.conf.{s}.disable_ipv6": 1 for s in ("all", "default", "eth0", "lo")},
    )
    report = audit(lab, "server", "disabled")
    state03 = finding(report, "V6G-STATE-03")
    assert state03.status is Status.FAIL, state03
    assert "not persisted" in state03.reason
    assert "no boot configuration file sets net.ipv6.conf.all.disable_ipv6" in state03.evidence
    state02 = finding(report, "V6G-STATE-02")
    assert state02.status is Status.FAIL, state02
    assert "net.ipv6.conf.all.disable_ipv6" in {s.name for s in state02.subjects}
    assert any("running 1, boot would set 0 (kernel default)" in e for e in state02.evidence), (
        state02.evidence
    )
    assert any("/etc/sysctl.d/10-lab.conf" in e for e in state02.evidence), state02.evidence


@pytest.mark.parametrize("scope", ["all", "default"])
def test_proc_disable_ipv6_locations_are_recognised(lab_factory: Any, scope: str) -> None:
    """The second seed's /proc/sys/net/ipv6/conf/{all,default}/disable_ipv6, each on its own."""
    lab = lab_factory(scenarios.pair())
    lab.set_sysctls("server", {f"net.ipv6.conf.{scope}.disable_ipv6": 1})
    status = finding(audit(lab, "server", "disabled"), "V6G-STATE-01")
    assert f"net.ipv6.conf.{scope}.disable_ipv6 = 1 (running)" in status.evidence
    off = {s.name for s in status.subjects if s.value == "IPv6 off"}
    assert scope in off
    if scope == "all":  # all spreads to the existing interfaces; default does not
        assert "eth0" in off
    else:
        assert "eth0" not in off


def test_listener_scopes_only_ipv6_only_is_flagged(lab_factory: Any) -> None:
    lab = lab_factory(scenarios.basic())
    report = audit(lab, "server")
    exp02 = finding(report, "V6G-EXP-02")
    assert exp02.status is Status.FAIL, exp02
    assert {(s.proto, s.port) for s in exp02.subjects} == {("tcp", 8080)}
    scopes = {(s.proto, s.port): s.value for s in finding(report, "V6G-EXP-01").subjects}
    assert scopes[("tcp", 22)] == "dual-stack"
    assert scopes[("tcp", 80)] == "IPv4 only"
    assert scopes[("tcp", 8080)] == "IPv6 only"
    exp05 = finding(report, "V6G-EXP-05")
    assert exp05.status is Status.FAIL
    assert {s.port for s in exp05.subjects} == {22, 5353}


def test_six_to_four_address_fails_tunnel_check(lab_factory: Any) -> None:
    lab = lab_factory(scenarios.tunnel())
    tun02 = finding(audit(lab, "server"), "V6G-TUN-02")
    assert tun02.status is Status.FAIL, tun02
    assert "2002:c000:201::1" in {s.address for s in tun02.subjects}
    clean = finding(audit(lab, "client"), "V6G-TUN-02")
    assert clean.status is Status.PASS, clean


def test_ipv6_off_in_the_kernel_is_an_answer_not_missing_data(lab_factory: Any) -> None:
    """ipv6.disable=1 cannot be booted here: take a real snapshot of a lab host, then remove
    what such a kernel does not have (/proc/sys/net/ipv6, IPv6 addresses and sockets)."""
    lab = lab_factory(scenarios.pair().with_host("server", listeners=()))
    data = json.loads(json.dumps(collect_netns(lab.ns("server"), __version__)))
    data["ipv6_proc"] = False
    data["cmdline"] = "BOOT_IMAGE=/vmlinuz root=/dev/vda ro ipv6.disable=1"
    data["sysctl"] = {k: v for k, v in data["sysctl"].items() if not k.startswith("net.ipv6.")}
    for iface in data["interfaces"]:
        iface["addresses"] = [a for a in iface.get("addresses", []) if a["family"] == "ipv4"]
    data["routes"] = [r for r in data.get("routes", []) if r["family"] == "ipv4"]
    data["neighbours"] = [n for n in data.get("neighbours", []) if n["family"] == "ipv4"]
    report = run_checks(from_data(data, "ipv6-off snapshot"), Profile.DISABLED)
    assert finding(report, "V6G-STATE-03").status is Status.PASS
    for f in report.findings:
        assert f.status in (Status.PASS, Status.SKIP, Status.INFO), f
        if f.status is Status.SKIP and not f.reason.startswith("does not apply to profile"):
            assert "ipv6.disable=1" in f.reason, f
    assert "IPv6 is off in the kernel" in finding(report, "V6G-STATE-01").reason
    skipped_for_kernel = [f.id for f in report.findings if "ipv6.disable=1" in f.reason]
    assert {"V6G-NDP-01", "V6G-NDP-02", "V6G-NDP-03", "V6G-FW-02"} <= set(skipped_for_kernel)


def test_cli_audit_netns_json_and_exit_code(lab_factory: Any) -> None:
    lab = lab_factory(scenarios.gap())
    proc = subprocess.run(
        [sys.executable, "-m", "v6gap", "audit", "--netns", lab.ns("server"), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr  # critical failures found
    doc = json.loads(proc.stdout)
    assert doc["target"] == {"hostname": lab.ns("server"), "source": "netns", "profile": "server"}
    statuses = {f["id"]: f["status"] for f in doc["findings"]}
    assert statuses["V6G-FW-01"] == "fail"
    assert len(doc["findings"]) == 33


DROP_ALL_BUT_SSH = """\
table inet v6gap_lab {
	chain input {
		type filter hook input priority filter; policy drop;
		iif "lo" accept
		ct state established,related accept
		tcp dport 22 accept
	}
}
"""


def test_dropping_neighbour_discovery_breaks_ipv6_and_fw04_says_so(lab_factory: Any) -> None:
    """FIELD-NOTES: a policy-drop input chain without NS/NA cuts IPv6 while IPv4 keeps working."""
    scenario = scenarios.pair().with_host(
        "server",
        listeners=(Listener("tcp", "::", 22, v6only=False, name="lab-ssh"),),
        firewall=Firewall(nft=DROP_ALL_BUT_SSH),
    )
    lab = lab_factory(scenario)
    fw04 = finding(audit(lab, "server"), "V6G-FW-04")
    assert fw04.status is Status.FAIL, fw04
    assert {s.port for s in fw04.subjects} == {135, 136}
    assert lab.connect("client", "tcp", lab.addr("server", 4), 22).outcome == "open"
    assert lab.connect("client", "tcp", lab.addr("server", 6), 22).outcome != "open"

    fixed = DROP_ALL_BUT_SSH.replace(
        "tcp dport 22 accept",
        "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept\n\t\ttcp dport 22 accept",
    )
    lab.load_nft("server", "flush ruleset\n" + fixed)
    assert finding(audit(lab, "server"), "V6G-FW-04").status is Status.PASS
    assert lab.connect("client", "tcp", lab.addr("server", 6), 22, timeout=5).outcome == "open"
