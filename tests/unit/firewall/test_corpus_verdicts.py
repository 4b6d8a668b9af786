"""The engine on the shared corpus (Docker's bridge driver, kube-proxy; tests/fixtures/rulesets
README): the verdicts those projects' own rules give, on the input and the forward hook."""

from __future__ import annotations

import dataclasses

import pytest

from tests.unit.firewall.rulesets import fixture
from v6gap.firewall import _names
from v6gap.firewall.evaluate import PacketClass, judge
from v6gap.firewall.model import TCP, Ruleset
from v6gap.firewall.parity import explain, parity

CONTAINER = {"ipv6": "fd49:efd7:54aa::1", "ipv4": "192.168.0.2"}


def _forward(case: str, family: str, port: int, iif: str, oif: str) -> tuple[str, str]:
    daddr = _names.address_range(CONTAINER[family], family) if oif == "br-dummy" else None
    c = PacketClass(family, TCP, (port, port), hook="forward", iif=iif, oif=oif, daddr=daddr)
    found = judge(fixture(case), c)
    return found.verdict, found.trace[-1]


@pytest.mark.parametrize("backend", ["iptables", "nft"])
@pytest.mark.parametrize("family", ["ipv4", "ipv6"])
def test_docker_nat_mode_drops_direct_access_to_the_container_in_raw_prerouting(
    backend: str, family: str
) -> None:
    case = f"docker-published-port-{backend}"
    for port in (80, 81):
        verdict, rule = _forward(case, family, port, "eth0", "br-dummy")
        assert verdict == "drop"
        if backend == "iptables":
            prefix = "ip6tables-save" if family == "ipv6" else "iptables-save"
            assert rule.startswith(f"{prefix}: line 5: -A PREROUTING -d {CONTAINER[family]}")
        else:
            assert rule.endswith("docker-bridges chain raw-PREROUTING handle 22 → drop")
    verdict, rule = _forward(case, family, 80, "br-dummy", "eth0")  # containers reach out
    assert verdict == "accept"


@pytest.mark.parametrize("family", ["ipv4", "ipv6"])
def test_docker_routed_mode_opens_only_the_published_container_port(family: str) -> None:
    case = "docker-routed-nft"
    assert _forward(case, family, 80, "eth0", "br-dummy") == (
        "accept",
        f"nft -j list ruleset: {'ip6' if family == 'ipv6' else 'ip'} docker-bridges chain "
        "filter-forward-in__br-dummy handle 25 → accept",
    )
    verdict, rule = _forward(case, family, 81, "eth0", "br-dummy")
    assert verdict == "drop" and rule.endswith("filter-forward-in__br-dummy handle 26 → drop")


# The host's own addresses on eth0 and on Docker's bridge (192.168.0.1 / fd49:…::/64 gateway).
HOST = {"ipv4": ("203.0.113.10", "192.168.0.1"), "ipv6": ("2001:db8:5::10", "fd49:efd7:54aa::")}


def _with_host_addresses(ruleset: Ruleset) -> Ruleset:
    local = {
        (family, span)
        for family, addresses in HOST.items()
        for a in addresses
        if (span := _names.address_range(a, family))
    }
    return dataclasses.replace(ruleset, local=frozenset(local))


@pytest.mark.parametrize("case", ["docker-published-port", "docker-internal", "docker-routed"])
def test_docker_leaves_the_hosts_input_alone(case: str) -> None:
    # Packets to the host cross raw PREROUTING too, where Docker drops packets to its containers'
    # addresses (-d <container> ! -i <bridge>). Those are not the host's addresses: with the
    # host's addresses known (a snapshot) input is decided, and the pass-through raw chain is
    # left out of the trace.
    for backend in ("iptables", "nft"):
        read = fixture(f"{case}-{backend}")
        ruleset = _with_host_addresses(read)
        assert parity(read) == [] and parity(ruleset) == []
        for family in ("ipv4", "ipv6"):
            found = explain(ruleset, family, TCP, 8080)
            assert found.verdict == "accept"
            assert not any("PREROUTING" in step for step in found.trace)
            daddr = HOST[family][0]
            assert explain(read, family, TCP, 8080, daddr=daddr).verdict == "accept"


@pytest.mark.parametrize("family", ["ipv4", "ipv6"])
def test_docker_container_drop_is_a_condition_when_the_hosts_addresses_are_unknown(
    family: str,
) -> None:
    # A ruleset file alone does not say which addresses are the host's: the container's might
    # be, so the drop is one side of a conditional verdict, named in the trace.
    found = explain(fixture("docker-published-port-iptables"), family, TCP, 8080)
    assert found.verdict == "conditional"
    assert any(f"-A PREROUTING -d {CONTAINER[family]}" in step for step in found.other_trace)


def test_kube_proxy_iptables_tables_come_from_the_save_dumps() -> None:
    # kube-proxy's --noflush restore never names INPUT: nf_tables has no such base chain, while
    # iptables-save still prints `:INPUT ACCEPT`. The save copy replaces the opaque xt JSON.
    ruleset = fixture("kube-proxy-iptables")
    # The only notes: the nat tables' DNAT rules (the xt JSON's notes are gone with its tables).
    assert [n.split(" (")[0] for n in ruleset.notes] == [
        "ip6tables-save: *nat rewrites destinations in 2 rules",
        "iptables-save: *nat rewrites destinations in 2 rules",
    ]
    assert {(t.family, t.name, t.source) for t in ruleset.tables} == {
        ("ip", "filter", "iptables-save"),
        ("ip", "nat", "iptables-save"),
        ("ip6", "filter", "ip6tables-save"),
        ("ip6", "nat", "ip6tables-save"),
    }
    assert all(not c.is_base for t in ruleset.tables for c in t.chains)
    found = explain(ruleset, "ipv6", TCP, 30001)
    assert (found.verdict, found.trace) == (
        "accept",
        ("no ipv6 filter chain on the input hook: accepted",),
    )


def test_kube_proxy_nft_input_chain_accepts_by_policy() -> None:
    found = explain(fixture("kube-proxy-nft-ip6"), "ipv6", TCP, 3001)
    assert found.verdict == "accept"
    assert (
        found.trace[-1] == "nft -j list ruleset: ip6 kube-proxy chain filter-input: policy accept"
    )
