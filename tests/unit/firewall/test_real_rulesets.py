"""The engine on rulesets real tools made (scripts/record_real_rulesets.py; provenance in
tests/fixtures/rulesets/real-tools/README.md): ufw 0.36.2 with its default rules, and with two
user rules, and firewalld 1.3.3's default zone on the nftables backend. Every verdict here was
read from the recorded rules, not assumed."""

from __future__ import annotations

import json
from typing import Optional

import pytest

from tests.unit.firewall.rulesets import ACCEPT, FIXTURES, fixture, inet_input_nft, match
from v6gap.cli.firewall import firewall
from v6gap.firewall.model import ICMPV6, TCP, UDP, AnyOf, FamilyMatch, Ruleset, Unknown
from v6gap.firewall.parity import explain, parity
from v6gap.firewall.sources import read_firewall

UFW = "real-tools/ufw-default"
UFW_RULES = "real-tools/ufw-rules"
FIREWALLD = "real-tools/firewalld-default"


def _verdict(
    ruleset: Ruleset,
    family: str,
    protocol: int,
    dport: Optional[int] = None,
    icmp_type: Optional[int] = None,
    saddr: Optional[str] = None,
    ct_state: str = "new",
    hop_limit: Optional[int] = None,
) -> tuple[str, str]:
    """The verdict and the rule that decided it (the trace's last step)."""
    found = explain(
        ruleset, family, protocol, dport, icmp_type, saddr, ct_state=ct_state, hop_limit=hop_limit
    )
    return found.verdict, found.trace[-1]


def _rows(ruleset: Ruleset) -> list[tuple[object, ...]]:
    return [(d.proto, d.from_port, d.to_port, d.ipv4, d.ipv6) for d in parity(ruleset)]


# --------------------------------------------------------------------------- ufw


@pytest.mark.parametrize("case", [UFW, UFW_RULES])
def test_ufw_denies_incoming_by_default_on_both_families(case: str) -> None:
    ruleset = fixture(case)
    assert ruleset.notes == ()  # iptables-nft tables read from the save dumps, not the xt JSON
    for protocol in (TCP, UDP):
        verdict, rule = _verdict(ruleset, "ipv6", protocol, 9999)
        assert (verdict, rule) == ("drop", "ip6tables-save: *filter INPUT: policy drop")
        # IPv4 crosses ufw-not-local (addrtype: local, multicast and broadcast destinations
        # return from it) and ends at the same policy.
        verdict, rule = _verdict(ruleset, "ipv4", protocol, 9999)
        assert (verdict, rule) == ("drop", "iptables-save: *filter INPUT: policy drop")


def test_ufw_before6_rules_take_neighbour_discovery_only_with_hop_limit_255() -> None:
    ruleset = fixture(UFW)
    for icmp_type, line in ((133, 83), (134, 84), (135, 85), (136, 86)):
        verdict, rule = _verdict(
            ruleset, "ipv6", ICMPV6, icmp_type=icmp_type, ct_state="untracked", hop_limit=255
        )
        assert verdict == "accept"
        assert rule.startswith(f"ip6tables-save: line {line}: ")
        assert f"--icmpv6-type {icmp_type} -m hl --hl-eq 255 -j ACCEPT" in rule
        # Forwarded from off-link (hop limit below 255): not neighbour discovery, dropped.
        assert _verdict(
            ruleset, "ipv6", ICMPV6, icmp_type=icmp_type, ct_state="untracked", hop_limit=64
        ) == ("drop", "ip6tables-save: *filter INPUT: policy drop")


def test_ufw_before6_rules_take_icmpv6_errors_echo_and_mld_from_link_local() -> None:
    ruleset = fixture(UFW)
    for icmp_type in (1, 2, 3, 4, 128):
        verdict, rule = _verdict(ruleset, "ipv6", ICMPV6, icmp_type=icmp_type)
        assert verdict == "accept" and f"--icmpv6-type {icmp_type} -j ACCEPT" in rule
    for source, verdict in (("fe80::1", "accept"), ("2001:db8::1", "drop")):
        assert (
            _verdict(
                ruleset,
                "ipv6",
                ICMPV6,
                icmp_type=130,
                saddr=source,
                ct_state="untracked",
                hop_limit=1,
            )[0]
            == verdict
        )


def test_ufw_dhcpv6_client_only_from_link_local_servers() -> None:
    ruleset = fixture(UFW)
    verdict, rule = _verdict(ruleset, "ipv6", UDP, 546, saddr="fe80::1")
    # Accepted only when also sent to a link-local address from port 547: conditional.
    assert verdict == "conditional"
    assert "-s fe80::/10 -d fe80::/10 -p udp -m udp --sport 547 --dport 546 -j ACCEPT" in rule
    verdict, rule = _verdict(ruleset, "ipv6", UDP, 546, saddr="2001:db8::1")
    assert verdict == "drop" and "ufw6-skip-to-policy-input -j DROP" in rule


def test_ufw_routing_header_drop_never_decides_the_judged_packets() -> None:
    ruleset = fixture(UFW)
    rh0 = [
        r
        for t in ruleset.tables
        for c in t.chains
        for r in c.rules
        if any(isinstance(m, AnyOf) and m.text.startswith("-m rt --rt-type 0") for m in r.matches)
    ]
    assert {r.verdict.kind for r in rh0} == {"drop"} and len(rh0) == 3  # input, forward, output
    assert not any(
        isinstance(m, Unknown)
        for t in ruleset.tables
        for c in t.chains
        for r in c.rules
        for m in r.matches
        if t.family == "ip6"
    )


def test_ufw_parity_the_real_asymmetries() -> None:
    # IPv6 takes echo replies as new packets (before6.rules) where IPv4 does not; DHCPv6 from
    # link-local servers against DHCPv4's 67 -> 68. Multicast mDNS and SSDP are accepted to their
    # groups on both families: IPv4's path crosses ufw-not-local's addrtype matches, which return
    # for local, multicast and broadcast destinations (all a packet to the host can have).
    assert _rows(fixture(UFW)) == [
        ("udp", 68, 68, "conditional", "drop"),
        ("udp", 546, 546, "drop", "conditional"),
        ("icmpv6", 129, 129, "drop", "accept"),
    ]
    for port in (1900, 5353):
        for family in ("ipv4", "ipv6"):
            assert _verdict(fixture(UFW), family, UDP, port)[0] == "conditional", (family, port)


def test_ufw_user_rules_an_ipv4_only_source_rule() -> None:
    ruleset = fixture(UFW_RULES)
    # `ufw allow 22/tcp` writes both families; `ufw allow from 198.51.100.0/24 … 8080` IPv4 only.
    assert _verdict(ruleset, "ipv6", TCP, 22)[0] == "accept"
    # IPv4 passes ufw-not-local's `-m addrtype --dst-type LOCAL -j RETURN` first: a TCP
    # connection to the host is to one of its own (local) addresses, so it returns.
    assert _verdict(ruleset, "ipv4", TCP, 8080, saddr="198.51.100.7")[0] == "accept"
    assert _verdict(ruleset, "ipv4", TCP, 8080, saddr="203.0.113.7")[0] == "drop"
    assert _verdict(ruleset, "ipv6", TCP, 8080)[0] == "drop"
    assert _verdict(ruleset, "ipv4", TCP, 22)[0] == "accept"
    rows = _rows(ruleset)
    assert rows[:1] == [("tcp", 8080, 8080, "conditional", "drop")]  # from 198.51.100.0/24
    assert rows[1:] == _rows(fixture(UFW))


# --------------------------------------------------------------------------- firewalld


def test_firewalld_public_zone_ssh_and_dhcpv6_client() -> None:
    ruleset = fixture(FIREWALLD)
    assert ruleset.notes == ()
    for family in ("ipv4", "ipv6"):
        verdict, rule = _verdict(ruleset, family, TCP, 22)
        assert verdict == "accept" and "chain filter_IN_public_allow handle 73" in rule
        for protocol, port in ((TCP, 8080), (UDP, 9999)):
            verdict, rule = _verdict(ruleset, family, protocol, port)
            assert verdict == "drop" and rule.endswith("chain filter_IN_public handle 72 → reject")
    # dhcpv6-client: `ip6 daddr fe80::/64 udp dport 546 accept`: only to link-local addresses.
    verdict, rule = _verdict(ruleset, "ipv6", UDP, 546)
    assert verdict == "conditional" and "filter_IN_public_allow handle 74" in rule
    assert _verdict(ruleset, "ipv4", UDP, 68)[0] == "drop"


def test_firewalld_ct_status_dnat_never_holds_without_dnat_rules() -> None:
    ruleset = fixture(FIREWALLD)
    (table,) = ruleset.tables
    first = table.chain("filter_INPUT")
    assert first is not None
    dnat = [r for r in first.rules if any(isinstance(m, AnyOf) for m in r.matches)]
    assert len(dnat) == 1 and "ct status dnat" in str(dnat[0].matches)
    assert dnat[0].verdict.kind == "accept"


def test_firewalld_icmpv6() -> None:
    ruleset = fixture(FIREWALLD)
    # allow-host-ipv6 takes NS, NA, RA (any hop limit: firewalld does not check it) ...
    for icmp_type, handle in ((134, 173), (135, 172), (136, 171)):
        for hop_limit in (255, 64):
            verdict, rule = _verdict(
                ruleset,
                "ipv6",
                ICMPV6,
                icmp_type=icmp_type,
                ct_state="untracked",
                hop_limit=hop_limit,
            )
            assert verdict == "accept" and f"allow-host-ipv6_allow handle {handle}" in rule
    # ... and the public zone every other ICMP and ICMPv6 type.
    for icmp_type in (1, 2, 3, 4, 128, 130):
        verdict, rule = _verdict(ruleset, "ipv6", ICMPV6, icmp_type=icmp_type)
        assert verdict == "accept" and "chain filter_IN_public handle 129" in rule


def test_firewalld_parity_only_dhcp() -> None:
    assert _rows(fixture(FIREWALLD)) == [("udp", 546, 546, "drop", "conditional")]


CT_STATUS_DNAT = [match({"ct": {"key": "status"}}, "dnat", "in"), ACCEPT]


def test_ct_status_dnat_stays_unknown_when_some_rule_rewrites_destinations() -> None:
    alone = read_firewall(inet_input_nft(CT_STATUS_DNAT).text(), {})
    assert explain(alone, "ipv6", TCP, 22).verdict == "drop"
    nat = inet_input_nft(CT_STATUS_DNAT).chain("inet", "t", "pre", "prerouting", -100)
    nat.rule("inet", "t", "pre", {"dnat": {"addr": "192.0.2.9", "family": "ip"}})
    with_dnat = read_firewall(nat.text(), {})
    (rule,) = with_dnat.tables[0].chains[0].rules
    assert rule.matches == (Unknown("ct status dnat"),)
    assert explain(with_dnat, "ipv6", TCP, 22).verdict == "unknown"
    # The iptables side counts too: Docker's nat table DNATs published ports.
    docker = (
        "*nat\n:PREROUTING ACCEPT [0:0]\n"
        "-A PREROUTING -p tcp --dport 8080 -j DNAT --to-destination 192.0.2.9:80\nCOMMIT\n"
    )
    both = read_firewall(inet_input_nft(CT_STATUS_DNAT).text(), {"iptables-legacy-save": docker})
    assert explain(both, "ipv6", TCP, 22).verdict == "unknown"


def test_firewalld_reverse_path_filter_never_drops_the_judged_packets() -> None:
    (table,) = fixture(FIREWALLD).tables
    prerouting = table.chain("filter_PREROUTING")
    assert prerouting is not None and prerouting.hook == "prerouting"
    ipv6_only, never = prerouting.rules[1].matches
    assert ipv6_only == FamilyMatch(frozenset({"ipv6"}))
    assert isinstance(never, AnyOf) and "reverse-path" not in never.text  # the raw match …
    assert "not routed back through their input interface" in never.text  # … and why
    assert prerouting.rules[1].verdict.kind == "drop"


def _lint(capsys: pytest.CaptureFixture[str], case: str) -> dict[str, dict[str, object]]:
    folder = FIXTURES / case
    args = ["lint", "--nft", str(folder / "nft.json"), "--format", "json", "--fail-on", "critical"]
    args += ["--iptables", str(folder / "iptables-save.txt")]
    args += ["--ip6tables", str(folder / "ip6tables-save.txt")]
    assert firewall.main(args=args, standalone_mode=False) == 0
    return {f["id"]: f for f in json.loads(capsys.readouterr().out)["findings"]}


def test_lint_of_the_real_rulesets(capsys: pytest.CaptureFixture[str]) -> None:
    ufw = _lint(capsys, UFW)
    # NS/NA/RA with hop limit 255, errors, MLD from link-local: ufw's before6.rules pass; its
    # default drops are logged with a limit in ufw6-after-logging-input, which INPUT jumps to.
    for check in ("V6G-FW-04", "V6G-FW-05", "V6G-FW-06", "V6G-FW-07", "V6G-FW-09", "V6G-FW-11"):
        assert ufw[check]["status"] == "pass", (check, ufw[check]["reason"])
    # ufw declares chains it only jumps to once a user asks for them (limit, logging-allow).
    assert ufw["V6G-FW-08"]["status"] == "fail"
    assert "ufw6-user-limit" in str(ufw["V6G-FW-08"]["reason"])
    found = _lint(capsys, FIREWALLD)
    for check in ("V6G-FW-04", "V6G-FW-05", "V6G-FW-07", "V6G-FW-08", "V6G-FW-09", "V6G-FW-12"):
        assert found[check]["status"] == "pass", (check, found[check]["reason"])
    # firewalld's default LogDenied=off: its final rejects are not logged.
    assert found["V6G-FW-11"]["status"] == "fail"
    assert "filter_INPUT" in str(found["V6G-FW-11"]["reason"])
