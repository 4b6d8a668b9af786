"""The rendered ruleset on a real kernel: nft accepts it, v6gap's own checks find nothing in it,
and ``harden init`` from a lab host keeps every listener it runs. Only ``v6g-`` namespaces."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from v6gap import __version__
from v6gap.checks.lint import lint_checks, lint_snapshot
from v6gap.checks.registry import all_checks
from v6gap.checks.run import run_checks
from v6gap.collect.snapshot import collect_netns
from v6gap.firewall.parity import explain
from v6gap.firewall.sources import read_snapshot
from v6gap.harden.init import policy_from_snapshot
from v6gap.harden.owner import DROPIN_PATH, NFTABLES_PATH
from v6gap.harden.policy import Policy, Service, load_policy, parse_policy
from v6gap.harden.preflight import Session, preflight
from v6gap.harden.render import Artefact, render, render_nftables, ruleset_artefact
from v6gap.harden.verify import RULESET_COVERED
from v6gap.lab import scenarios
from v6gap.lab.build import Lab
from v6gap.model import Profile, Status
from v6gap.snapshot_io import from_data

pytestmark = pytest.mark.lab

SEG2_V6, SEG2_V4 = str(scenarios.SEG2.ipv6), str(scenarios.SEG2.ipv4)

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "v6gap.example.yaml"
POLICIES = {
    "example": EXAMPLE.read_text(),
    "slaac-no-router": "profile: slaac-host\nrouters: []\nservices: [{port: 80}]\n",
    "router-output-drop": (
        "profile: router\nrouters: [fe80::1, fe80::2]\n"
        "output: {policy: drop, allow: [{port: 53, proto: udp}]}\n"
    ),
    "quiet": "echo: {ipv4_per_second: 0, ipv6_per_second: 1}\ntunnels_used: true\n",
    "k8s-node-pods": (
        "profile: k8s-node\noutput: {policy: drop}\nforward:\n"
        "  pod_prefixes: [10.244.0.0/16, 'fd00:10:244::/56']\n"
        "  allow: [{destinations: ['2001:db8:5::/48'], proto: tcp, port: 443}]\n"
    ),
}


def load_rendered(lab: Lab, host: str, policy: Policy) -> str:
    text = render_nftables(policy)
    checked = lab.exec(host, ["nft", "-c", "-f", "-"], input=text)
    assert checked.returncode == 0, checked.stderr
    lab.load_nft(host, text)
    return text


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_rendered_ruleset_passes_nft_and_own_checks(lab_factory: Any, name: str) -> None:
    policy = parse_policy(POLICIES[name], name)
    lab = lab_factory(scenarios.pair())
    load_rendered(lab, "server", policy)
    load_rendered(lab, "server", policy)  # loading twice replaces the table, no duplicate
    snap = from_data(collect_netns(lab.ns("server"), __version__), "lab snapshot")
    checks = [c for c in all_checks() if c.meta.id in RULESET_COVERED]
    assert {c.meta.id for c in checks} == set(RULESET_COVERED)
    report = run_checks(snap, policy.profile, checks=checks)
    failed = [(f.id, f.reason, f.evidence) for f in report.findings if f.status is Status.FAIL]
    assert not failed, failed
    judged = {f.id: f for f in report.findings}
    assert all(judged[i].status is Status.PASS for i in ("V6G-FW-02", "V6G-FW-09")), judged
    fw04 = judged["V6G-FW-04"]
    assert fw04.status is Status.PASS, fw04  # RAs judged as sent: hop limit 255
    if policy.profile is Profile.SLAAC_HOST:
        assert any(e.startswith("icmpv6 134 router advertisement") for e in fw04.evidence)
    listed = lab.exec("server", ["nft", "list", "tables"], check=True).stdout
    assert listed.count("table inet v6gap") == 1
    # v6gap's own lint (FW-12 judged as if forwarding were on) finds nothing either.
    linted = run_checks(
        lint_snapshot(snap.firewall, dict(snap.unavailable), "lab"),
        policy.profile,
        checks=lint_checks(),
    )
    lint_failed = [(f.id, f.reason) for f in linted.findings if f.status is Status.FAIL]
    assert not lint_failed, lint_failed
    assert {f.id: f.status for f in linted.findings}["V6G-FW-12"] is Status.PASS


def test_rendered_ruleset_lets_services_and_echo_through(lab_factory: Any) -> None:
    lab = lab_factory(scenarios.pair())
    lab.start_listener("server", "tcp", "::", 2222, v6only=False, name="lab-svc")
    policy = parse_policy("services: [{port: 2222}]")
    load_rendered(lab, "server", policy)
    for family in (4, 6):
        address = lab.addr("server", family)
        assert lab.ping("client", address), family
        assert lab.connect("client", "tcp", address, 2222).open, family


def test_init_from_a_lab_host_keeps_its_listeners(lab_factory: Any, tmp_path: Path) -> None:
    lab = lab_factory(scenarios.basic())
    snap = from_data(collect_netns(lab.ns("server"), __version__), "lab snapshot")
    policy = policy_from_snapshot(snap)
    kept = {(s.proto, s.port) for s in policy.services}
    assert {("tcp", 22), ("tcp", 80), ("tcp", 8080), ("udp", 5353)} <= kept
    assert policy.profile is Profile.SERVER
    assert preflight(policy, snap, render(policy, snap)) == ()  # its first plan cuts nothing
    # The same through the command line, then the rendered ruleset accepts those ports.
    from v6gap.cli.main import main

    out = tmp_path / "v6gap.yaml"
    with pytest.raises(SystemExit) as exited:
        main(["harden", "init", "-o", str(out), "--netns", lab.ns("server")])
    assert exited.value.code == 0
    from_cli = load_policy(str(out))
    assert {(s.proto, s.port) for s in from_cli.services} >= kept - {("udp", 5353)}
    text = render_nftables(from_cli)
    for proto, port in kept:
        assert f"{proto} dport {port} accept" in text


def test_router_forwards_only_what_the_policy_allows(lab_factory: Any) -> None:
    """routed: the router's rendered forward chain passes replies and forward.allow; a port it
    does not name is dropped in both families, where it passed before."""
    lab = lab_factory(scenarios.routed())
    for port in (443, 8443):
        lab.start_listener("server", "tcp", "::", port, v6only=False, name=f"lab-{port}")
    targets = [lab.addr("server", family) for family in (4, 6)]
    for address in targets:  # the control: before hardening the router forwards everything
        assert lab.connect("client", "tcp", address, 8443).open, address
    policy = parse_policy(
        "profile: router\nforward:\n  allow:\n"
        f"    - {{destinations: ['{SEG2_V6}', {SEG2_V4}], proto: tcp, port: 443}}\n"
    )
    load_rendered(lab, "router", policy)
    for address in targets:
        assert lab.connect("client", "tcp", address, 443).open, address
        assert not lab.connect("client", "tcp", address, 8443).open, address


@pytest.mark.parametrize(
    ("client_host", "sources", "refused"),
    [("client", (), False), ("client", ("2001:db8:ff::/48",), True)],
)
def test_preflight_session_verdict_agrees_with_the_engine(
    lab_factory: Any, client_host: str, sources: tuple[str, ...], refused: bool
) -> None:
    """The SSH refusal judges the policy's services; the engine, judging the rendered ruleset
    as loaded and read back, must agree (a reconnect from the session's client)."""
    lab = lab_factory(scenarios.pair())
    policy = Policy(services=(Service(port=22, sources=sources),))
    load_rendered(lab, "server", policy)
    client = lab.addr(client_host, 6)
    session = Session(client, 40000, lab.addr("server", 6), 22)
    snap = from_data(collect_netns(lab.ns("server"), __version__), "lab snapshot")
    artefacts = render(policy, snap)
    refusals = preflight(policy, snap, artefacts, session)
    assert ("ssh-session-dropped" in {r.code for r in refusals}) is refused, refusals
    ruleset = read_snapshot(snap)
    verdict = explain(ruleset, "ipv6", 6, dport=22, saddr=client).verdict
    assert verdict == ("drop" if refused else "accept"), verdict
    # Given the ruleset, preflight asks the engine itself, and says the same.
    by_engine = preflight(policy, snap, artefacts, session, ruleset=ruleset)
    assert [r.code for r in by_engine] == [r.code for r in refusals], by_engine
    if refused:
        reason = by_engine[-1].reason
        assert "is dropped" in reason and "policy drop" in reason, reason


OTHER_OWNER_NFT = """\
table inet filter {
	chain input {
		type filter hook input priority filter; policy accept;
		tcp dport 9000 accept
	}
}
"""


def test_drop_in_table_beside_another_owner(lab_factory: Any) -> None:
    """Another tool's main ruleset is detected from the host, kept, and the drop-in table beside
    it decides: its accept of tcp/9000 does not open what v6gap's table drops."""
    lab = lab_factory(scenarios.pair())
    for port in (2222, 9000):
        lab.start_listener("server", "tcp", "::", port, v6only=False, name=f"lab-{port}")
    policy = parse_policy("services: [{port: 2222}]")
    # v6gap's own main file (the machine's /etc/nftables.conf and /etc/ufw are hidden, so
    # another test's ufw cannot make this host look owned): v6gap owns it.
    lab.write_file("server", "ufw/ufw.conf", "ENABLED=no\n")
    lab.write_file("server", "nftables.conf", render_nftables(policy))
    snap = from_data(collect_netns(lab.ns("server"), __version__), "lab snapshot")
    assert ruleset_artefact(render(policy, snap)) == Artefact(
        NFTABLES_PATH, render_nftables(policy)
    )
    # Another tool's file, loaded as that tool would.
    lab.write_file("server", "nftables.conf", OTHER_OWNER_NFT)
    lab.exec("server", ["nft", "-f", "/etc/nftables.conf"], check=True)
    server6 = lab.addr("server", 6)
    assert lab.connect("client", "tcp", server6, 9000).open  # the control
    snap = from_data(collect_netns(lab.ns("server"), __version__), "lab snapshot")
    assert snap.files[NFTABLES_PATH].text == OTHER_OWNER_NFT
    artefacts = render(policy, snap)
    table = ruleset_artefact(artefacts)
    assert table is not None and table.path == DROPIN_PATH, [a.path for a in artefacts]
    assert NFTABLES_PATH not in [a.path for a in artefacts]
    loaded = lab.exec("server", ["nft", "-f", "-"], input=table.content)
    assert loaded.returncode == 0, loaded.stderr
    for family in (4, 6):
        address = lab.addr("server", family)
        assert lab.connect("client", "tcp", address, 2222).open, family
        assert not lab.connect("client", "tcp", address, 9000).open, family
    listed = lab.exec("server", ["nft", "list", "tables"], check=True).stdout
    assert "table inet filter" in listed and "table inet v6gap" in listed


def test_output_drop_keeps_neighbour_discovery_and_replies(lab_factory: Any) -> None:
    """output: drop on a real kernel: the host still answers (echo replies, TCP replies) and
    resolves its neighbours (NS/NA out), and opens only the connections ``allow`` names."""
    lab = lab_factory(scenarios.pair())
    lab.start_listener("server", "tcp", "::", 2222, v6only=False, name="lab-svc")
    for port in (443, 8443):
        lab.start_listener("client", "tcp", "::", port, v6only=False, name=f"lab-{port}")
    client6 = lab.addr("client", 6)
    assert lab.connect("server", "tcp", client6, 8443).open  # the control: output open
    policy = parse_policy(
        "services: [{port: 2222}]\noutput: {policy: drop, allow: [{port: 443}]}\n"
    )
    load_rendered(lab, "server", policy)
    for host in ("client", "server"):
        lab.exec(host, ["ip", "-6", "neigh", "flush", "dev", "eth0"], check=True)
    for family in (4, 6):
        server, client = lab.addr("server", family), lab.addr("client", family)
        assert lab.ping("client", server), family  # NS/NA out, echo reply as established
        assert lab.connect("client", "tcp", server, 2222).open, family
        assert lab.connect("server", "tcp", client, 443).open, family
        assert not lab.connect("server", "tcp", client, 8443).open, family
