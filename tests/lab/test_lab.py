"""Build real labs: connectivity, listeners, firewalls, sysctls, files, and teardown."""

from __future__ import annotations

import json
import os
import subprocess
import time
from typing import Callable, List

import pytest
from click.testing import CliRunner

from v6gap.cli.lab import lab as lab_group
from v6gap.errors import LabError
from v6gap.lab import Firewall, Host, Lab, Link, Listener, Scenario, netns, scenarios, state
from v6gap.lab.plan import segment
from v6gap.lab.pytest_plugin import check_lab_prerequisites, unique_suffix
from v6gap.lab.teardown import down_all

pytestmark = pytest.mark.lab

LabFactory = Callable[..., Lab]

DROP_8080_NFT = """\
table inet v6gap_test {
	chain input {
		type filter hook input priority filter; policy accept;
		tcp dport 8080 drop
	}
}
"""


def root_links() -> List[str]:
    out = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
    return sorted(line.split(":")[1].strip().split("@")[0] for line in out.splitlines())


def root_sysctl(key: str) -> str:
    with open("/proc/sys/" + key.replace(".", "/")) as fh:
        return fh.read().strip()


def assert_gone(namespaces: List[str], lab_id: str) -> None:
    present = set(netns.list_namespaces())
    assert not present & set(namespaces)
    for ns in namespaces:
        assert not os.path.exists(os.path.join(netns.ETC_NETNS_DIR, ns))
    assert not os.path.exists(state.state_path(lab_id))


def test_pair_pings_over_both_families(lab_factory: LabFactory) -> None:
    sfx = unique_suffix()
    names = (f"c{sfx}", f"s{sfx}")  # interface names no one else uses
    sc = Scenario(
        "pair",
        hosts=(
            Host("client", addresses=segment(1).addresses(names[0], 1)),
            Host("server", addresses=segment(1).addresses(names[1], 2)),
        ),
        links=(Link("client", "server", a_if=names[0], b_if=names[1]),),
    )
    lab = lab_factory(sc, suffix=sfx)
    for src, dst in (("client", "server"), ("server", "client")):
        for family in ("ipv4", "ipv6"):
            target = lab.addr(dst, family)
            proc = lab.exec(src, ["ping", "-c1", "-W2", target])
            assert proc.returncode == 0, f"{src} -> {dst} {target}: {proc.stdout}{proc.stderr}"
    assert not set(names) & set(root_links())  # no interface ever lands in the root namespace
    assert lab.ns("client") == f"v6g-client-{sfx}"
    assert names[0] in lab.exec("client", ["ip", "-br", "link"], check=True).stdout
    assert lab.ping("client", lab.addr("server", 6))


def test_basic_listeners_v6only_and_dual_stack(lab: Lab) -> None:
    v4, v6 = lab.addr("server", "ipv4"), lab.addr("server", "ipv6")
    attacker_v4 = lab.addr("attacker", 4)

    dual4 = lab.connect("attacker", "tcp", v4, 22)
    assert dual4.open and dual4.banner.endswith(f"::ffff:{attacker_v4}")
    assert lab.connect("attacker", "tcp", v6, 22).open

    assert lab.connect("attacker", "tcp", v6, 8080).open  # v6only: IPv6 yes
    assert lab.connect("attacker", "tcp", v4, 8080).outcome == "refused"  # IPv4 no

    assert lab.connect("attacker", "tcp", v4, 80).open  # IPv4-only listener
    assert lab.connect("attacker", "tcp", v6, 80).outcome == "refused"

    assert lab.connect("attacker", "udp", v4, 5353).open
    assert lab.connect("attacker", "udp", v6, 5353).open

    ss = lab.exec("server", ["ss", "-Hltnp"], check=True).stdout
    assert "*:22" in ss and "[::]:8080" in ss and "0.0.0.0:80" in ss
    assert '"lab-admin"' in ss  # listener names become process names


def test_started_listener_reports_port_and_stops(lab_factory: LabFactory) -> None:
    lab = lab_factory(scenarios.pair())
    server6 = lab.addr("server", 6)
    running = lab.start_listener("server", "tcp", "::", 0, v6only=True)
    assert running.port > 0
    assert lab.connect("client", "tcp", server6, running.port).open
    assert lab.connect("client", "tcp", lab.addr("server", 4), running.port).outcome == "refused"
    assert any(p.pid == running.pid for p in lab.record.processes)
    lab.stop_listener(running)
    assert lab.connect("client", "tcp", server6, running.port).outcome == "refused"
    assert state.process_starttime(running.pid) is None
    assert not any(p.pid == running.pid for p in lab.record.processes)


def test_listener_on_a_bad_address_fails_with_its_reason(lab_factory: LabFactory) -> None:
    lab = lab_factory(scenarios.pair())
    with pytest.raises(LabError, match="did not start"):
        lab.start_listener("server", "tcp", "2001:db8:99::1", 1)


def test_loaded_nft_ruleset_drops_a_port(lab_factory: LabFactory) -> None:
    base = scenarios.pair()
    lab = lab_factory(base.with_host("server", listeners=(Listener("tcp", "::", 8080, False),)))
    for family in (4, 6):
        assert lab.connect("client", "tcp", lab.addr("server", family), 8080).open
    lab.load_nft("server", DROP_8080_NFT)
    for family in (4, 6):
        got = lab.connect("client", "tcp", lab.addr("server", family), 8080, timeout=1.0)
        assert got.outcome == "timeout"
    assert "v6gap_test" in lab.exec("server", ["nft", "list", "tables"], check=True).stdout
    assert lab.ping("client", lab.addr("server", 6))  # only the port is dropped


def test_iptables_backends_load_inside_the_namespace(lab_factory: LabFactory) -> None:
    rules = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport 8080 -j DROP\nCOMMIT\n"
    server = Host(
        "server",
        addresses=segment(1).addresses("eth0", 2),
        listeners=(Listener("tcp", "::", 8080, False),),
        firewall=Firewall(ip6tables=rules, iptables_backend="legacy"),
    )
    sc = Scenario(
        "fw", hosts=(scenarios.pair().host("client"), server), links=(Link("client", "server"),)
    )
    lab = lab_factory(sc)
    six = lab.connect("client", "tcp", lab.addr("server", 6), 8080, timeout=1.0)
    assert six.outcome == "timeout"
    assert lab.connect("client", "tcp", lab.addr("server", 4), 8080).open
    saved = lab.exec("server", ["ip6tables-legacy-save"], check=True).stdout
    assert "--dport 8080 -j DROP" in saved
    lab.load_iptables("server", rules, family=4, backend="nft")
    four = lab.connect("client", "tcp", lab.addr("server", 4), 8080, timeout=1.0)
    assert four.outcome == "timeout"


@pytest.mark.parametrize("lab", ["gap"], indirect=True)
def test_gap_scenario_lets_ipv6_in(lab: Lab) -> None:
    v4, v6 = lab.addr("server", 4), lab.addr("server", 6)
    assert lab.connect("attacker", "tcp", v4, 80, timeout=1.0).outcome == "timeout"
    assert lab.connect("attacker", "tcp", v4, 22).open
    assert lab.connect("attacker", "tcp", v6, 8080).open
    assert lab.connect("attacker", "tcp", v6, 22).open


@pytest.mark.parametrize("lab", ["routed"], indirect=True)
def test_routed_forwards_inside_the_router_only(lab: Lab) -> None:
    root_fwd = (root_sysctl("net.ipv4.ip_forward"), root_sysctl("net.ipv6.conf.all.forwarding"))
    for family in (4, 6):
        assert lab.ping("client", lab.addr("server", family))
        assert lab.ping("server", lab.addr("client", family))
    fwd = lab.exec("router", ["sysctl", "-n", "net.ipv6.conf.all.forwarding"], check=True)
    assert fwd.stdout.strip() == "1"
    assert root_fwd == (
        root_sysctl("net.ipv4.ip_forward"),
        root_sysctl("net.ipv6.conf.all.forwarding"),
    )
    routes = lab.exec("client", ["ip", "-6", "route"], check=True).stdout
    assert "default" not in routes


def test_sysctls_and_files_stay_inside(lab_factory: LabFactory) -> None:
    root_ra = root_sysctl("net.ipv6.conf.all.accept_ra")
    host = Host(
        "server",
        addresses=segment(1).addresses("eth0", 2),
        sysctls={
            "net.ipv6.conf.default.accept_ra": "0",
            "net.ipv6.conf.all.accept_ra": "0",
            "net.ipv6.conf.eth0.accept_ra": 2,  # per interface: applied once eth0 exists
        },
        files={
            "sysctl.d/99-lab.conf": "net.ipv6.conf.all.accept_ra = 0\n",
            "hosts": "2001:db8:1::1 client\n",
        },
    )
    sc = Scenario(
        "files", hosts=(scenarios.pair().host("client"), host), links=(Link("client", "server"),)
    )
    lab = lab_factory(sc)

    def value(key: str) -> str:
        return lab.exec("server", ["sysctl", "-n", key], check=True).stdout.strip()

    assert value("net.ipv6.conf.all.accept_ra") == "0"
    assert value("net.ipv6.conf.eth0.accept_ra") == "2"
    assert value("net.ipv6.conf.default.accept_ra") == "0"
    assert root_sysctl("net.ipv6.conf.all.accept_ra") == root_ra
    seen = lab.exec("server", ["cat", "/etc/sysctl.d/99-lab.conf"], check=True).stdout
    assert seen == "net.ipv6.conf.all.accept_ra = 0\n"
    assert "client" in lab.exec("server", ["cat", "/etc/hosts"], check=True).stdout
    assert os.path.isdir(lab.etc_dir("server"))
    lab.set_sysctls("server", {"net.ipv6.conf.eth0.accept_redirects": 0})
    assert value("net.ipv6.conf.eth0.accept_redirects") == "0"


def test_link_local_appears_and_answers(lab_factory: LabFactory) -> None:
    lab = lab_factory(scenarios.pair())
    ll = lab.wait_link_local("server", "eth0")
    assert ll.startswith("fe80:")
    lab.wait_link_local("client", "eth0")
    assert lab.ping("client", f"{ll}%eth0")


def test_tunnel_kinds_and_6to4_address(lab_factory: LabFactory) -> None:
    kinds = netns.probe_link_kinds()
    assert kinds["veth"] and kinds["bridge"]
    lab = lab_factory(scenarios.tunnel())  # vxlan: present on this kernel
    addrs = lab.exec("server", ["ip", "-6", "-o", "addr"], check=True).stdout
    assert "2002:c000:201::1/48" in addrs
    assert "tun6" in lab.exec("server", ["ip", "-br", "link"], check=True).stdout
    if kinds["ip6tnl"]:
        lab_factory(scenarios.tunnel("ip6tnl"))
    else:
        with pytest.raises(LabError, match="'ip6tnl' is not supported by this kernel"):
            lab_factory(scenarios.tunnel("ip6tnl"))


def test_failure_midway_removes_what_was_made() -> None:
    check_lab_prerequisites()
    bad_fw = scenarios.pair().with_host(
        "server", files={"hosts": "x\n"}, firewall=Firewall(nft="table inet t { oops }\n")
    )
    built = Lab(bad_fw, suffix=unique_suffix())
    names = [built.ns(h) for h in built.hosts]
    with pytest.raises(LabError, match="nft rejected the ruleset"):
        built.up()
    assert_gone(names, built.lab_id)


def test_teardown_when_the_body_raises() -> None:
    check_lab_prerequisites()
    sc = scenarios.basic().with_host("attacker", files={"resolv.conf": "nameserver 2001:db8::53\n"})
    for exc_type in (RuntimeError, KeyboardInterrupt):
        pids: List[int] = []
        with pytest.raises(exc_type), Lab(sc, suffix=unique_suffix()) as built:
            names = [built.ns(h) for h in built.hosts]
            lab_id = built.lab_id
            pids = [r.pid for r in built.listeners]
            extra = built.popen("attacker", ["sleep", "60"])
            assert os.path.isdir(built.etc_dir("attacker"))
            raise exc_type("boom")
        assert_gone(names, lab_id)
        assert pids and all(state.process_starttime(p) is None for p in pids)
        assert extra.poll() is not None


def test_down_all_removes_leftovers_but_only_kills_recorded_processes() -> None:
    check_lab_prerequisites()
    tag = f"d{unique_suffix()[:6]}"  # host names are unique to this test: the prefix is ours
    sc = Scenario(
        "leftover",
        hosts=(
            Host(
                f"{tag}a",
                addresses=segment(1).addresses("eth0", 1),
                listeners=(Listener("tcp", "::", 0),),
                files={"hosts": "\n"},
            ),
            Host(f"{tag}b", addresses=segment(1).addresses("eth0", 2)),
        ),
        links=(Link(f"{tag}a", f"{tag}b"),),
    )
    crashed = Lab(sc).up()
    crashed.detach()  # as if the process that built it had died
    pid = crashed.listeners[0].pid
    stray_ns = f"v6g-{tag}z"
    netns.add_ns(stray_ns)
    os.makedirs(os.path.join(netns.ETC_NETNS_DIR, f"v6g-{tag}y"))
    stray = subprocess.Popen(netns.exec_argv(stray_ns, ["sleep", "30"]))
    try:
        time.sleep(0.2)
        report = down_all(prefix=f"v6g-{tag}")
        assert crashed.lab_id in report.labs
        assert pid in report.killed and state.process_starttime(pid) is None
        assert set(report.namespaces) >= {crashed.ns(f"{tag}a"), crashed.ns(f"{tag}b"), stray_ns}
        assert stray.poll() is None  # not started by a lab: left running, and said so
        assert any(str(stray.pid) in p for p in report.problems)
        assert_gone([crashed.ns(h) for h in crashed.hosts] + [stray_ns], crashed.lab_id)
        assert not os.path.exists(os.path.join(netns.ETC_NETNS_DIR, f"v6g-{tag}y"))
    finally:
        stray.kill()
        stray.wait()
        down_all(prefix=f"v6g-{tag}")


def test_cli_up_status_down() -> None:
    check_lab_prerequisites()
    runner = CliRunner()
    sfx = unique_suffix()
    try:
        result = runner.invoke(lab_group, ["up", "basic", "--name-suffix", sfx])
        assert result.exit_code == 0, result.output
        assert f"v6g-server-{sfx}" in result.output
        assert f"v6gap lab down {sfx}" in result.output

        result = runner.invoke(lab_group, ["status", sfx])
        assert result.exit_code == 0, result.output
        assert f"lab {sfx}  scenario basic" in result.output
        assert "2001:db8:1::10/64" in result.output
        assert "tcp [::]:8080 v6only" in result.output and "running" in result.output

        result = runner.invoke(lab_group, ["status", "--json", sfx])
        data = json.loads(result.output)
        (rec,) = data["labs"]
        assert all(h["present"] for h in rec["hosts"])
        assert all(p["running"] for p in rec["processes"])
        pids = [p["pid"] for p in rec["processes"]]

        result = runner.invoke(lab_group, ["down", sfx])
        assert result.exit_code == 0, result.output
        assert f"v6g-attacker-{sfx}" in result.output
        assert all(state.process_starttime(p) is None for p in pids)
        assert_gone([f"v6g-{h}-{sfx}" for h in ("router", "server", "attacker")], sfx)

        result = runner.invoke(lab_group, ["down", sfx])
        assert result.exit_code != 0 and isinstance(result.exception, LabError)
    finally:
        if os.path.exists(state.state_path(sfx)):
            runner.invoke(lab_group, ["down", sfx])


def test_three_host_lab_is_quick() -> None:
    check_lab_prerequisites()
    start = time.monotonic()
    with Lab(scenarios.basic(), suffix=unique_suffix()):
        pass
    assert time.monotonic() - start < 10


def test_link_loss_and_delay_need_netem(lab_factory: LabFactory) -> None:
    base = scenarios.pair()
    sc = Scenario("lossy", hosts=base.hosts, links=(Link("client", "server", delay_ms=20),))
    if netns.probe_link_kinds()["netem"]:
        lab = lab_factory(sc)
        assert "netem" in lab.exec("client", ["tc", "qdisc", "show", "dev", "eth0"]).stdout
    else:
        sfx = unique_suffix()
        with pytest.raises(LabError, match="no netem qdisc"):
            lab_factory(sc, suffix=sfx)
        assert_gone([f"v6g-client-{sfx}", f"v6g-server-{sfx}"], sfx)


def test_mtu_is_set_on_both_ends(lab_factory: LabFactory) -> None:
    base = scenarios.pair()
    sc = Scenario("mtu", hosts=base.hosts, links=(Link("client", "server", mtu=1280),))
    lab = lab_factory(sc)
    for host in lab.hosts:
        assert "mtu 1280" in lab.exec(host, ["ip", "link", "show", "eth0"], check=True).stdout
