"""Preflight: each refusal, refused when the snapshot shows the use and not otherwise."""

from __future__ import annotations

from typing import Any, Optional

import pytest

from tests.conftest import make_snapshot
from tests.unit.firewall.rulesets import ACCEPT, Nft, inet_input, tcp_dport
from v6gap.harden.init import policy_from_snapshot
from v6gap.harden.policy import Policy, dump_policy, parse_policy
from v6gap.harden.preflight import Session, parse_ssh_connection, preflight
from v6gap.harden.render import render

SSH = "services: [{port: 22}]\n"
LISTEN_22 = [{"proto": "tcp", "family": "ipv6", "address": "::", "port": 22, "process": "sshd"}]


def codes(policy_text: str, session: Optional[Session] = None, **fields: Any) -> dict[str, str]:
    """code -> reason of every refusal, the snapshot defaulting to sshd listening and read."""
    fields.setdefault("sockets", LISTEN_22)
    policy = parse_policy(policy_text)
    snapshot = make_snapshot(**fields)
    refusals = preflight(policy, snapshot, render(policy, snapshot), session)
    found = {r.code: r.reason for r in refusals}
    assert len(found) == len(refusals), refusals  # one refusal per code
    return found


def test_a_plain_server_is_not_refused() -> None:
    assert codes(SSH) == {}


def test_ssh_connection_is_parsed_or_ignored() -> None:
    assert parse_ssh_connection("2001:db8::5 50000 2001:db8::10 22") == Session(
        "2001:db8::5", 50000, "2001:db8::10", 22
    )
    assert parse_ssh_connection("") is None
    assert parse_ssh_connection("a b c") is None
    assert parse_ssh_connection("1.2.3.4 x 5.6.7.8 22") is None


# --------------------------------------------------------------------------- ::1


HOSTS_V6_FIRST = {"/etc/hosts": {"text": "127.0.0.1 localhost\n::1 localhost ip6-localhost\n"}}
HOSTS_V4 = {"/etc/hosts": {"text": "127.0.0.1 localhost\n::1 ip6-localhost\n"}}


def test_disabling_ipv6_refused_while_something_uses_loopback() -> None:
    lo6 = [{"proto": "tcp", "family": "ipv6", "address": "::1", "port": 5432, "process": "pg"}]
    found = codes("profile: disabled", sockets=lo6, files=HOSTS_V4)
    assert "tcp [::1]:5432 (pg)" in found["ipv6-loopback-in-use"]
    found = codes("profile: disabled", files=HOSTS_V6_FIRST)
    assert "/etc/hosts:2" in found["ipv6-loopback-in-use"]
    assert codes("profile: disabled", files=HOSTS_V4) == {}


def test_disabling_ipv6_refused_when_listeners_unreadable() -> None:
    found = codes("profile: disabled", files=HOSTS_V4, unavailable={"sockets": "not root"})
    assert "cannot tell" in found["ipv6-loopback-in-use"]


# --------------------------------------------------------------------------- RAs


RA_ROUTE = {"family": "ipv6", "dst": "default", "gateway": "fe80::1", "dev": "eth0", "proto": "ra"}
SLAAC_ADDR = {
    "name": "eth0",
    "index": 2,
    "up": True,
    "addresses": [
        {
            "family": "ipv6",
            "address": "2001:db8:1::abcd",
            "prefixlen": 64,
            "flags": ["dynamic", "mngtmpaddr"],
        }
    ],
}


def test_accept_ra_off_refused_while_ras_configure_the_host() -> None:
    found = codes(SSH, routes=[RA_ROUTE])
    assert "default via fe80::1 dev eth0 proto ra" in found["slaac-in-use"]
    found = codes(SSH, interfaces=[SLAAC_ADDR])
    assert "2001:db8:1::abcd/64" in found["slaac-in-use"]
    assert "slaac-in-use" not in codes(SSH + "profile: slaac-host", routes=[RA_ROUTE])
    static = {**RA_ROUTE, "proto": "static"}
    assert codes(SSH, routes=[static]) == {}


def test_ra_guard_refused_when_it_drops_the_router_in_use() -> None:
    policy = SSH + "profile: slaac-host\nrouters: [fe80::2]\n"
    found = codes(policy, routes=[RA_ROUTE])
    assert "fe80::1" in found["router-not-allowed"]
    assert "fe80::2" in found["router-not-allowed"]
    assert codes(SSH + "profile: slaac-host\nrouters: [fe80::1]\n", routes=[RA_ROUTE]) == {}
    # Routers not decided in the policy: the ones in use are kept.
    assert codes(SSH + "profile: slaac-host\n", routes=[RA_ROUTE]) == {}


# --------------------------------------------------------------------------- tunnels


def tunnel_iface(address: str, kind: Optional[str] = "sit", up: bool = True) -> dict[str, Any]:
    return {
        "name": "tun6",
        "index": 5,
        "kind": kind,
        "up": up,
        "addresses": [{"family": "ipv6", "address": address, "prefixlen": 64}],
    }


def test_blocking_tunnels_refused_while_one_carries_traffic() -> None:
    found = codes(SSH, interfaces=[tunnel_iface("2001:db8:9::1")])
    assert "tun6 (sit, up): 2001:db8:9::1/64" in found["tunnel-in-use"]
    six_to_four = tunnel_iface("2002:c000:201::1", kind=None)
    assert "2002:c000:201::1" in codes(SSH, interfaces=[six_to_four])["tunnel-in-use"]
    assert codes(SSH + "tunnels_used: true", interfaces=[tunnel_iface("2001:db8:9::1")]) == {}
    assert codes(SSH, interfaces=[tunnel_iface("2001:db8:9::1", up=False)]) == {}
    assert codes(SSH, interfaces=[tunnel_iface("2001:db8:9::1", kind="veth")]) == {}


# --------------------------------------------------------------------------- listeners


def test_listener_not_in_the_policy_refused() -> None:
    web = {"proto": "tcp", "family": "ipv4", "address": "0.0.0.0", "port": 80, "process": "nginx"}
    local = {"proto": "tcp", "family": "ipv4", "address": "127.0.0.1", "port": 25}
    found = codes(SSH, sockets=[*LISTEN_22, web, local])
    assert found["listener-blocked"].endswith("(tcp/80 (nginx))")
    assert codes("services: [{port: 80, sources: [192.0.2.0/24]}]", sockets=[web]) == {}
    found = codes(SSH, unavailable={"sockets": "not root"})
    assert "cannot tell" in found["listener-blocked"]
    image = codes(SSH, source="root", unavailable={"sockets": "image"})
    assert image == {}  # an image runs nothing


# --------------------------------------------------------------------------- SSH session


@pytest.mark.parametrize(
    ("client", "policy", "refused"),
    [
        ("2001:db8:100::5", SSH, False),
        ("2001:db8:100::5", "services: [{port: 2222}]", True),
        ("2001:db8:100::5", "services: [{port: 22, proto: udp}]", True),
        ("2001:db8:100::5", "services: [{port: 22, sources: [2001:db8:100::/48]}]", False),
        ("2001:db8:200::5", "services: [{port: 22, sources: [2001:db8:100::/48]}]", True),
        ("192.0.2.9", "services: [{port: 22, sources: [2001:db8:100::/48]}]", True),
        ("::ffff:192.0.2.9", "services: [{port: 22, sources: [192.0.2.0/24]}]", False),
        ("fe80::9%eth0", "services: [{port: 22, sources: [fe80::/10]}]", False),
        ("::1", "services: []", False),
    ],
)
def test_ssh_session_judged_on_the_rendered_services(
    client: str, policy: str, refused: bool
) -> None:
    session = Session(client, 50000, "2001:db8::10", 22)
    found = codes(policy, session, sockets=[])
    assert ("ssh-session-dropped" in found) is refused, found
    if refused:
        assert f"tcp/22 from {client.replace('::ffff:', '')}" in found["ssh-session-dropped"]
        assert "50000" in found["ssh-session-dropped"]


def test_ssh_session_with_a_bad_client_is_refused() -> None:
    found = codes(SSH, Session("not-an-address", 1, "x", 22))
    assert "not an address" in found["ssh-session-dropped"]


# --------------------------------------------------------------------------- forwarding


DOCKER0 = {"name": "docker0", "index": 3, "kind": "bridge", "up": True}
DOCKER0_UP = {
    **DOCKER0,
    "addresses": [
        {"family": "ipv4", "address": "172.17.0.1", "prefixlen": 16},
        {"family": "ipv6", "address": "fd00:d0c::1", "prefixlen": 64},
        {"family": "ipv6", "address": "fe80::1", "prefixlen": 64, "scope": "link"},
    ],
}
POD_ROUTE = {"family": "ipv4", "dst": "10.244.1.0/24", "dev": "docker0", "gateway": "10.244.1.1"}
POD_POLICY = SSH + "profile: k8s-node\nforward: {pod_prefixes: [10.244.0.0/16, fd00:10:244::/56]}\n"


def test_container_forwarding_refused_unless_the_node_names_its_pods() -> None:
    found = codes(SSH, interfaces=[DOCKER0])
    assert "interface docker0" in found["container-forwarding"]
    assert "forwarding off" in found["container-forwarding"]
    found = codes(SSH + "profile: router", interfaces=[DOCKER0])
    assert "pod_prefixes" in found["container-forwarding"]
    assert "container-forwarding" not in codes(POD_POLICY, interfaces=[DOCKER0])
    found = codes(SSH, interfaces=[{"name": "cni0", "index": 7, "kind": "bridge"}])
    assert "interface cni0" in found["container-forwarding"]
    # Processes are the whole machine's (also inside a namespace): not evidence.
    assert "container-forwarding" not in codes(SSH, processes=["kubelet", "dockerd"])


def test_a_plain_bridge_is_not_a_container_network() -> None:
    br_lan = {"name": "br-lan", "index": 4, "kind": "bridge", "up": True}
    assert "container-forwarding" not in codes(SSH, interfaces=[br_lan])
    docker_net = {**br_lan, "name": "br-0123456789ab"}
    assert "container-forwarding" in codes(SSH, interfaces=[docker_net])


def test_init_names_the_container_networks_as_pod_prefixes() -> None:
    snapshot = make_snapshot(interfaces=[DOCKER0_UP], routes=[POD_ROUTE])
    policy = policy_from_snapshot(snapshot)
    assert policy.profile.value == "k8s-node"
    assert policy.forward.pod_prefixes == ("172.17.0.0/16", "fd00:d0c::/64", "10.244.1.0/24")
    assert parse_policy(dump_policy(policy)) == policy  # what init writes is a valid policy


def test_container_forwarding_seen_in_docker_chains() -> None:
    nft = Nft().table("ip6", "filter").chain("ip6", "filter", "DOCKER-USER").text()
    found = codes(SSH, firewall={"nft_json": nft})
    assert "ip6 filter: DOCKER-USER" in found["container-forwarding"]


def test_turning_forwarding_off_refused_while_the_host_forwards() -> None:
    found = codes(SSH, sysctl={"net.ipv4.ip_forward": "1"})
    assert "net.ipv4.ip_forward = 1" in found["forwarding-in-use"]
    assert codes(SSH + "profile: router", sysctl={"net.ipv6.conf.all.forwarding": "1"}) == {}
    assert codes(SSH, sysctl={"net.ipv6.conf.all.forwarding": "0"}) == {}


# --------------------------------------------------------------------------- init, then preflight


@pytest.mark.parametrize(
    "fields",
    [
        {"sockets": LISTEN_22},
        {"routes": [RA_ROUTE], "interfaces": [SLAAC_ADDR]},
        {"interfaces": [SLAAC_ADDR]},
        {"interfaces": [tunnel_iface("2002:c000:201::1", kind=None)]},
        {"interfaces": [tunnel_iface("2001:db8:9::1")]},
        {"sysctl": {"net.ipv6.conf.all.forwarding": "1"}},
        {"interfaces": [DOCKER0_UP], "sysctl": {"net.ipv4.ip_forward": "1"}},
        {"interfaces": [DOCKER0], "routes": [POD_ROUTE]},
    ],
)
def test_a_policy_from_init_is_not_refused_on_its_host(fields: dict[str, Any]) -> None:
    """``harden init`` reads the same evidence preflight judges: its first plan cuts nothing."""
    snapshot = make_snapshot(**fields)
    policy = policy_from_snapshot(snapshot)
    assert preflight(policy, snapshot, render(policy, snapshot)) == ()
    # The default policy is refused on each: the cases are not trivially clean.
    assert preflight(Policy(), snapshot, render(Policy(), snapshot)) != ()


def test_ssh_session_judged_by_the_engine_when_given_the_ruleset() -> None:
    session = Session("2001:db8:100::5", 50000, "2001:db8::10", 22)
    policy = parse_policy("services: []")  # the policy alone would refuse
    snapshot = make_snapshot()
    artefacts = render(policy, snapshot)
    opened = inet_input([tcp_dport(22), ACCEPT])
    assert preflight(policy, snapshot, artefacts, session, ruleset=opened) == ()
    [refusal] = preflight(policy, snapshot, artefacts, session, ruleset=inet_input())
    assert refusal.code == "ssh-session-dropped" and "is dropped" in refusal.reason
    v4 = Session("::ffff:192.0.2.9", 50000, "::ffff:192.0.2.10", 22)
    assert preflight(policy, snapshot, artefacts, v4, ruleset=opened) == ()


@pytest.mark.parametrize(
    ("policy", "section", "code"),
    [
        (SSH, "routes", "slaac-in-use"),
        (SSH + "profile: slaac-host\nrouters: [fe80::2]\n", "routes", "router-not-allowed"),
        (SSH, "interfaces", "tunnel-in-use"),
        (SSH, "interfaces", "container-forwarding"),
        (SSH, "sysctl", "forwarding-in-use"),
    ],
)
def test_what_was_not_read_is_refused(policy: str, section: str, code: str) -> None:
    """No promise about what was not seen: an unread section is a refusal saying so."""
    found = codes(policy, unavailable={section: "permission denied"})
    assert found[code] == f"{found[code].split(' (')[0]} ({section}: permission denied)"
    assert found[code].startswith("cannot tell ")
    assert code not in codes(policy)
    image = codes(policy, source="root", unavailable={section: "image"})
    assert code not in image  # an image runs nothing


def test_codes_lists_every_refusal_code() -> None:
    """``--override`` refuses codes outside CODES, so every code preflight uses must be there."""
    import re
    from pathlib import Path

    from v6gap.harden import preflight as module

    source = Path(module.__file__).read_text(encoding="utf-8")
    used = set(re.findall(r'_(?:refuse|unseen)\(\s*(?:snapshot,\s*)?"([a-z0-9-]+)"', source))
    assert used and used == set(module.CODES)
