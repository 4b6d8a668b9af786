"""``v6gap probe`` against a lab server whose families are firewalled differently.

The probe always runs from inside the client namespace (``--from-netns``); the test process in
the root namespace sends nothing.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, Tuple

import pytest
from click.testing import CliRunner

from v6gap.cli.probe import probe as probe_command
from v6gap.errors import InputError
from v6gap.lab import scenarios
from v6gap.lab.build import Lab
from v6gap.lab.pytest_plugin import LabFactory
from v6gap.lab.scenario import Firewall, Listener
from v6gap.lab.scenarios import SEG1
from v6gap.probe.engine import ProbeOptions
from v6gap.probe.model import Observation, ProbeRun
from v6gap.probe.parity import build_rows
from v6gap.probe.ports import NMAP_SERVICES
from v6gap.probe.run import probe_from_netns
from v6gap.probe.targets import Targets
from v6gap.probe.text import render_text

LISTENERS = (
    Listener("tcp", "::", 22, v6only=False, name="t-ssh"),  # dual-stack
    Listener("tcp", "0.0.0.0", 80, name="t-web4"),  # IPv4 only
    Listener("tcp", "::", 443, v6only=False, name="t-web"),  # dual-stack
    Listener("tcp", "::", 5000, v6only=False, name="t-app"),  # dual-stack, dropped both ways
    Listener("tcp", "::", 8080, v6only=True, name="t-admin6"),  # IPv6 only
    Listener("udp", "::", 5353, v6only=False, name="t-udp"),  # dual-stack UDP
)

# IPv4: default drop, one reset, one ICMP host-unreachable. IPv6: default reject
# (admin-prohibited), one explicit drop. NDP and echo pass in both.
NFT = """\
table inet v6gap_probe {
	chain input {
		type filter hook input priority filter; policy accept;
		iif "lo" accept
		ct state established,related accept
		meta l4proto { icmp, ipv6-icmp } accept
		tcp dport 22 accept
		udp dport { 5353, 5354 } accept
		meta nfproto ipv4 tcp dport { 80, 8080 } accept
		meta nfproto ipv4 tcp dport 9000 reject with tcp reset
		meta nfproto ipv4 tcp dport 9001 reject with icmp type host-unreachable
		meta nfproto ipv4 drop
		meta nfproto ipv6 tcp dport { 443, 7000, 8080 } accept
		meta nfproto ipv6 tcp dport 5000 drop
		meta nfproto ipv6 reject with icmpv6 type admin-prohibited
	}
}
"""

# (proto, port) -> (IPv4 state, IPv6 state); "filtered!" = filtered by a reject (an ICMP answer).
TRUTH: Dict[Tuple[str, int], Tuple[str, str]] = {
    ("tcp", 22): ("open", "open"),
    ("tcp", 80): ("open", "filtered!"),
    ("tcp", 443): ("filtered", "open"),
    ("tcp", 5000): ("filtered", "filtered"),
    ("tcp", 7000): ("filtered", "closed"),
    ("tcp", 8080): ("closed", "open"),
    ("tcp", 9000): ("closed", "filtered!"),
    ("tcp", 9001): ("filtered!", "filtered!"),
    ("tcp", 9999): ("filtered", "filtered!"),
    ("udp", 161): ("open|filtered", "filtered!"),
    ("udp", 5353): ("open", "open"),
    ("udp", 5354): ("closed", "closed"),
}
VERDICTS = {
    ("tcp", 80): "ipv4-wider",
    ("tcp", 443): "ipv6-wider",
    ("tcp", 8080): "ipv6-wider",
    ("udp", 161): "ipv4-wider",
}
TCP = tuple(sorted(p for proto, p in TRUTH if proto == "tcp"))
UDP = tuple(sorted(p for proto, p in TRUTH if proto == "udp"))


def build(lab_factory: LabFactory, loss_percent: int = 0) -> Lab:
    nft = NFT
    if loss_percent:  # this kernel has no netem: lose probes at random on the server's input
        lose = f"meta l4proto {{ tcp, udp }} numgen random mod 100 < {loss_percent} drop"
        nft = nft.replace('iif "lo" accept', f'iif "lo" accept\n\t\t{lose}')
    scenario = scenarios.pair("client", "server").with_host(
        "server", listeners=LISTENERS, firewall=Firewall(nft=nft)
    )
    return lab_factory(scenario)


def assert_matches_truth(run: ProbeRun, targets: Targets) -> None:
    seen: Dict[Tuple[str, str, int], Observation] = {
        (o.address, o.proto, o.port): o for o in run.observations
    }
    v4, v6 = targets.ipv4[0], targets.ipv6[0]
    for (proto, port), expected in TRUTH.items():
        for address, want in zip((v4, v6), expected):
            got = seen[(address, proto, port)]
            state = got.state + ("!" if got.reason == "reject" else "")
            assert state == want, f"{proto}/{port} on {address}: {got}"
    verdicts = {(r.proto, r.port): r.verdict for r in build_rows(run)}
    assert verdicts == {key: VERDICTS.get(key, "parity") for key in TRUTH}


def invoke(*argv: str) -> Tuple[int, str]:
    """Run the command as ``v6gap`` does (its return value is the exit status)."""
    result = CliRunner().invoke(probe_command, list(argv), standalone_mode=False)
    assert result.exception is None, result.output
    return int(result.return_value), result.output


def server_targets(lab: Lab) -> Targets:
    return Targets((lab.addr("server", 4),), (lab.addr("server", 6),))


@pytest.mark.lab
def test_probe_table_matches_the_truth_for_both_families(lab_factory: LabFactory) -> None:
    lab = build(lab_factory)
    targets = server_targets(lab)
    run = probe_from_netns(lab.ns("client"), targets, TCP, UDP)
    assert_matches_truth(run, targets)
    assert all(e.answered for e in run.echo.values())


@pytest.mark.lab
def test_packet_loss_does_not_change_the_table(lab_factory: LabFactory) -> None:
    """15% of probes lost on the way in: unanswered probes are retried, never guessed."""
    lab = build(lab_factory, loss_percent=15)
    targets = server_targets(lab)
    run = probe_from_netns(lab.ns("client"), targets, TCP, UDP, ProbeOptions(retries=6))
    assert_matches_truth(run, targets)


@pytest.mark.lab
def test_cli_json_and_exit_status_from_a_namespace(lab_factory: LabFactory) -> None:
    lab = build(lab_factory)
    v4, v6 = lab.addr("server", 4), lab.addr("server", 6)
    argv = ["--from-netns", lab.ns("client"), "--ports", "22,80,443,8080", "--udp", "5353"]
    code, out = invoke(v4, v6, *argv, "--format", "json")
    assert code == 1, out  # IPv6 exposes 443 and 8080
    doc = json.loads(out)
    assert set(doc) == {"schema", "targets", "results", "icmp"}
    assert doc["schema"] == "v6gap.probe/1"
    assert doc["targets"] == {"ipv4": [v4], "ipv6": [v6]}
    assert [r["verdict"] for r in doc["results"][:2]] == ["ipv6-wider", "ipv6-wider"]
    assert {r["port"] for r in doc["results"][:2]} == {443, 8080}
    first = doc["results"][0]
    assert set(first) == {"proto", "port", "states", "verdict"}

    code, out = invoke(v4, v6, *argv, "--no-fail-on-mismatch")
    assert code == 0, out
    assert "IPv6 wider" in out

    code, out = invoke(
        v4, v6, "--from-netns", lab.ns("client"), "--ports", "22", "--no-fail-on-mismatch",
        "--expect-open", "22", "--expect-closed", "443",
    )  # fmt: skip
    assert code == 1, out  # 443 is open over IPv6
    assert f"FAIL tcp/443 on {v6}: open, expected closed" in out


@pytest.mark.lab
def test_a_rate_limited_reject_policy_is_still_right_over_thousands_of_ports(
    lab_factory: LabFactory,
) -> None:
    """2,999 ports: IPv4 drops, IPv6 rejects with ICMPv6 the kernel rate-limits. The rejects
    that come back are taken as answers at once; the rest are retried like drops, and every
    port ends filtered either way. (The time it takes is a benchmark's business, not a test's.)"""
    lab = build(lab_factory)
    targets = server_targets(lab)
    run = probe_from_netns(lab.ns("client"), targets, range(6001, 9000), icmp=False)
    states = {(o.address, o.port): o.state for o in run.observations}
    v4, v6 = targets.ipv4[0], targets.ipv6[0]
    assert states.pop((v4, 8080)) == "closed"
    assert states.pop((v6, 8080)) == "open"
    assert states.pop((v6, 7000)) == "closed"
    assert set(states.values()) == {"filtered"}
    reasons = {(o.address, o.reason) for o in run.observations if o.state == "filtered"}
    assert (v6, "reject") in reasons and (v4, "reject") not in reasons
    print(f"2x2999 ports: {run.elapsed_s:.1f}s")


REJECT_ALL = """\
table inet v6gap_probe {
	chain input {
		type filter hook input priority filter; policy accept;
		meta l4proto { icmp, ipv6-icmp } accept
		tcp dport 22 accept
		reject
	}
}
"""


@pytest.mark.lab
def test_rate_limited_port_unreachable_is_told_from_a_reset(lab_factory: LabFactory) -> None:
    """``reject`` answers with ICMP port-unreachable, which the kernel rate-limits: the closed
    ports it does answer are marked as ICMP, and the text says the silence is ambiguous."""
    scenario = scenarios.pair("client", "server").with_host(
        "server",
        listeners=(Listener("tcp", "::", 22, v6only=False),),
        firewall=Firewall(nft=REJECT_ALL),
    )
    lab = lab_factory(scenario)
    targets = server_targets(lab)
    run = probe_from_netns(lab.ns("client"), targets, range(1, 301))
    for address in targets.addresses:
        mine = [o for o in run.observations if o.address == address]
        closed = [o for o in mine if o.state == "closed"]
        assert closed and all(o.detail == "icmp" for o in closed)
        assert {o.state for o in mine} <= {"open", "closed", "filtered"}
    v4 = {o.state for o in run.observations if o.address == targets.ipv4[0]}
    assert "filtered" in v4  # 1 ICMP error a second for IPv4 (burst 6): most probes unanswered
    text = render_text(run, build_rows(run))
    assert f"note: {targets.ipv4[0]} answered" in text and "rate-limits" in text


@pytest.mark.lab
def test_self_probes_every_global_address_of_a_namespace(lab_factory: LabFactory) -> None:
    """``--self --self-netns server --from-netns client``: the server's own global addresses
    (no link-local), probed from the client; the same verdicts as naming them."""
    lab = build(lab_factory)
    v4, v6 = lab.addr("server", 4), lab.addr("server", 6)
    code, out = invoke(
        "--self", "--self-netns", lab.ns("server"), "--from-netns", lab.ns("client"),
        "--ports", "22,80,443,8080", "--format", "json", "--no-icmp",
    )  # fmt: skip
    assert code == 1, out
    doc = json.loads(out)
    assert doc["targets"] == {"ipv4": [v4], "ipv6": [v6]}
    verdicts = {r["port"]: r["verdict"] for r in doc["results"]}
    assert verdicts == {22: "parity", 80: "ipv4-wider", 443: "ipv6-wider", 8080: "ipv6-wider"}


@pytest.mark.lab
def test_sarif_and_junit_carry_the_findings(lab_factory: LabFactory) -> None:
    lab = build(lab_factory)
    v4, v6 = lab.addr("server", 4), lab.addr("server", 6)
    argv = [v4, v6, "--from-netns", lab.ns("client"), "--ports", "22,80,443,8080"]
    code, out = invoke(*argv, "--format", "sarif", "--expect-open", "22")
    assert code == 1, out
    sarif = json.loads(out)
    run = sarif["runs"][0]
    results = {r["ruleId"]: r for r in run["results"]}
    assert set(results) == {"V6G-PROBE-01"}  # expectations held, echo alike, link fine
    ports = {
        (loc["properties"]["port"], loc["properties"]["address"])
        for loc in results["V6G-PROBE-01"]["locations"][0]["logicalLocations"]
    }
    assert ports == {(443, v6), (8080, v6)}
    assert run["properties"]["summary"]["fail"] == 1
    assert {r["id"] for r in run["tool"]["driver"]["rules"]} == {
        f"V6G-PROBE-0{n}" for n in range(1, 6)
    }
    code, out = invoke(*argv, "--format", "junit", "--no-fail-on-mismatch")
    assert code == 0, out
    assert out.startswith("<?xml") and out.count("<failure") == 1
    assert "V6G-PROBE-01" in out and "tcp/8080" in out


# The case: a policy-drop input chain that only lets tcp 22 in. ARP is not in the inet
# family, so IPv4 works; neighbour solicitations are dropped, so IPv6 is dead at the link.
DROP_NDP = """\
table inet v6gap_probe {
	chain input {
		type filter hook input priority filter; policy drop;
		tcp dport 22 accept
	}
}
"""


@pytest.mark.lab
def test_ipv6_broken_at_the_link_is_not_called_filtered(lab_factory: LabFactory) -> None:
    scenario = scenarios.pair("client", "server").with_host(
        "server",
        listeners=(Listener("tcp", "::", 22, v6only=False, name="t-ssh"),),
        firewall=Firewall(nft=DROP_NDP),
    )
    lab = lab_factory(scenario)
    v4, v6 = lab.addr("server", 4), lab.addr("server", 6)
    argv = [v4, v6, "--from-netns", lab.ns("client"), "--ports", "22,80"]
    code, out = invoke(*argv, "--format", "json")
    doc = json.loads(out)
    states = {r["port"]: r["states"] for r in doc["results"]}
    assert states[22] == {v4: "open", v6: "filtered"}
    assert code == 0, out  # IPv6 exposes nothing: narrower, not wider
    assert set(doc) == {"schema", "targets", "results", "icmp", "diagnosis"}
    assert list(doc["diagnosis"]) == [v6]  # IPv4 answered (22 open); only IPv6 was silent
    diagnosis = doc["diagnosis"][v6]
    assert diagnosis["verdict"] == "broken-at-link" and diagnosis["family"] == "ipv6"
    assert doc["icmp"]["neighbour"][v6]["result"] == "no-answer"  # our own solicitations too
    assert doc["icmp"]["errors"][v6]["result"] == "unknown"  # our kernel's error, not its
    assert diagnosis["neighbour"] in ("incomplete", "failed", "missing")
    assert diagnosis["message"] == (
        f"IPv6 broken at the link: no neighbour advertisement from {v6}; likely cause: the "
        "target's firewall drops neighbour solicitations (V6G-FW-04)"
    )
    _, text = invoke(*argv)
    assert f"note: {v6} answered nothing at all: IPv6 broken at the link" in text
    assert "filtered (no link)" in text
    _, out = invoke(*argv, "--format", "sarif")
    results = {r["ruleId"]: r for r in json.loads(out)["runs"][0]["results"]}
    assert "V6G-PROBE-04" in results and results["V6G-PROBE-04"]["kind"] == "fail"


@pytest.mark.lab
def test_a_target_that_resolves_but_drops_everything_is_filtered(
    lab_factory: LabFactory,
) -> None:
    """NDP allowed, everything else dropped: the neighbour resolves, so "filtered", not broken."""
    nft = DROP_NDP.replace(
        "tcp dport 22 accept",
        "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept",
    )
    scenario = scenarios.pair("client", "server").with_host("server", firewall=Firewall(nft=nft))
    lab = lab_factory(scenario)
    v6 = lab.addr("server", 6)
    run = probe_from_netns(lab.ns("client"), Targets((), (v6,)), (22, 80))
    assert {o.state for o in run.observations} == {"filtered"}
    assert run.diagnosis[v6].verdict == "filtered"
    assert run.diagnosis[v6].neighbour not in ("incomplete", "failed", "missing")


@pytest.mark.lab
def test_top_1000_ranks_by_nmap_services_or_says_built_in(lab_factory: LabFactory) -> None:
    lab = build(lab_factory)
    v4, v6 = lab.addr("server", 4), lab.addr("server", 6)
    assert os.path.isfile(NMAP_SERVICES), "nmap is a test prerequisite (install-system-deps.sh)"
    code, out = invoke(
        v4, v6, "--from-netns", lab.ns("client"), "--top", "1000", "--no-fail-on-mismatch"
    )
    assert code == 0, out
    assert f"ports: the 1000 most common TCP ports, from {NMAP_SERVICES} (ranked by open " in out
    assert "tcp/443" in out and "tcp/8080" in out  # both IPv6 wider, both in any top 1000


# The server lets TCP 22 in only from the client's second pair of addresses (host 5).
ALLOW_HOST5 = """\
table inet v6gap_probe {
	chain input {
		type filter hook input priority filter; policy drop;
		iif "lo" accept
		ct state established,related accept
		meta l4proto { icmp, ipv6-icmp } accept
		ip saddr 192.0.2.5 tcp dport 22 accept
		ip6 saddr 2001:db8:1::5 tcp dport 22 accept
	}
}
"""


@pytest.mark.lab
def test_self_from_a_given_source_address(lab_factory: LabFactory) -> None:
    """``--source`` binds every probe (and ping) to that address: the server's allow-list by
    source shows 22 open from host 5 and filtered from host 1, in both families."""
    client = SEG1.addresses("eth0", 1) + SEG1.addresses("eth0", 5)
    scenario = (
        scenarios.pair("client", "server")
        .with_host("client", addresses=client)
        .with_host(
            "server",
            listeners=(Listener("tcp", "::", 22, v6only=False),),
            firewall=Firewall(nft=ALLOW_HOST5),
        )
    )
    lab = lab_factory(scenario)
    v4, v6 = lab.addr("server", 4), lab.addr("server", 6)
    assert "192.0.2.5" in ALLOW_HOST5 and SEG1.v4(5).startswith("192.0.2.5/")
    states = {}
    for host in (5, 1):
        sources = [SEG1.v4(host).split("/")[0], SEG1.v6(host).split("/")[0]]
        code, out = invoke(
            "--self", "--self-netns", lab.ns("server"), "--from-netns", lab.ns("client"),
            "--source", sources[0], "--source", sources[1], "--ports", "22", "--format", "json",
        )  # fmt: skip
        assert code == 0, out
        doc = json.loads(out)
        assert doc["targets"] == {"ipv4": [v4], "ipv6": [v6]}
        states[host] = doc["results"][0]["states"]
        assert all(e["answered"] for e in doc["icmp"]["echo"].values())  # ping -I, both
    assert states[5] == {v4: "open", v6: "open"}
    assert states[1] == {v4: "filtered", v6: "filtered"}

    _, text = invoke(
        v6, "--from-netns", lab.ns("client"), "--source", "2001:db8:1::5", "--ports", "22"
    )
    assert text.startswith(f"probed {v6} from namespace {lab.ns('client')} (source 2001:db8:1::5)")
    result = CliRunner().invoke(
        probe_command,
        [v4, "--from-netns", lab.ns("client"), "--source", "192.0.2.9", "--ports", "22"],
        standalone_mode=False,
    )
    assert isinstance(result.exception, InputError)
    assert str(result.exception) == (
        "--source 192.0.2.9: cannot send from it here (Cannot assign requested address): not "
        f"an address of the probing host (in namespace {lab.ns('client')})"
    )


DROP_ECHO = """\
table inet v6gap_probe {
	chain input {
		type filter hook input priority filter; policy accept;
		icmpv6 type echo-request drop
	}
}
"""
# Everything in; the target's own ICMPv6 errors never leave (PMTU discovery breaks alike).
DROP_OWN_ERRORS = """\
table inet v6gap_probe {
	chain output {
		type filter hook output priority filter; policy accept;
		icmpv6 type { destination-unreachable, packet-too-big } drop
		icmpv6 type { time-exceeded, parameter-problem } drop
	}
}
"""


def icmp_of(lab_factory: LabFactory, nft: str) -> Tuple[Lab, Dict[str, Any], str]:
    scenario = scenarios.pair("client", "server").with_host(
        "server",
        listeners=(Listener("tcp", "::", 22, v6only=False),),
        firewall=Firewall(nft=nft),
    )
    lab = lab_factory(scenario)
    argv = [lab.addr("server", 4), lab.addr("server", 6), "--from-netns", lab.ns("client")]
    code, out = invoke(*argv, "--ports", "22", "--format", "json")
    assert code == 0, out
    _, text = invoke(*argv, "--ports", "22")
    doc: Dict[str, Any] = json.loads(out)
    assert {r["port"]: set(r["states"].values()) for r in doc["results"]} == {22: {"open"}}
    return lab, doc["icmp"], text


@pytest.mark.lab
def test_a_target_that_drops_echo_still_answers_neighbour_solicitations(
    lab_factory: LabFactory,
) -> None:
    lab, icmp, text = icmp_of(lab_factory, DROP_ECHO)
    v4, v6 = lab.addr("server", 4), lab.addr("server", 6)
    assert icmp["echo"][v4]["answered"] and not icmp["echo"][v6]["answered"]
    assert icmp["verdict"] == "ipv4-wider"
    assert list(icmp["neighbour"]) == [v6]
    assert icmp["neighbour"][v6]["result"] == "answered"
    assert "solicited" in icmp["neighbour"][v6]["detail"]
    assert {a: e["result"] for a, e in icmp["errors"].items()} == {
        v4: "port-unreachable",
        v6: "port-unreachable",
    }
    assert any("packet-too-big" in line for line in icmp["untestable"])
    assert f"note: {v6} answers neighbour solicitations but not echo" in text
    table = {line.split("  ")[0]: line.split() for line in text.splitlines()}
    assert table["neighbour solicitation"][-2:] == ["-", "answered"]
    assert "not testable from outside:\n  - packet-too-big accepted" in text


@pytest.mark.lab
def test_a_target_that_drops_its_own_icmpv6_errors_is_noticed(lab_factory: LabFactory) -> None:
    lab, icmp, text = icmp_of(lab_factory, DROP_OWN_ERRORS)
    v4, v6 = lab.addr("server", 4), lab.addr("server", 6)
    assert all(e["answered"] for e in icmp["echo"].values())
    assert icmp["neighbour"][v6]["result"] == "answered"
    assert icmp["errors"][v4]["result"] == "port-unreachable"
    assert icmp["errors"][v6] == {
        "port": 33434,
        "result": "no-answer",
        "detail": "udp/33434: no error came back: the probe was dropped on the way in or the "
        "target's error was dropped on the way out (not told apart from outside)",
    }
    assert f"note: no ICMPv6 error came back from {v6} for udp/33434 where {v4} sent one" in text


@pytest.mark.lab
def test_neighbour_discovery_behind_a_router_is_said_untestable(lab_factory: LabFactory) -> None:
    lab = lab_factory(scenarios.routed())
    v6 = lab.addr("server", 6)
    code, out = invoke(v6, "--from-netns", lab.ns("client"), "--ports", "22", "--format", "json")
    assert code == 0, out
    icmp = json.loads(out)["icmp"]
    assert icmp["neighbour"][v6]["result"] == "off-link"
    assert icmp["echo"][v6]["answered"]  # routed, and reachable: only NDP is out of sight
    _, text = invoke(v6, "--from-netns", lab.ns("client"), "--ports", "22")
    assert f"note: neighbour solicitation to {v6}: behind a router" in text
