"""FW-12 on the real ufw ruleset (tests/fixtures/rulesets/real-tools/ufw-default).

ufw's before6.rules forward ICMPv6 destination unreachable, packet too big, time exceeded,
parameter problem and echo request/reply on any interface (``-A ufw6-before-forward -p icmpv6
--icmpv6-type … -j ACCEPT``); everything else falls to FORWARD's policy DROP. That is not a
default-allow forward path: the rules name the message types, an allow-list. The four errors are
what RFC 4890 section 4.3.1 says transit traffic must not lose (path MTU discovery breaks
without packet too big). Echo is in that section's list too, for connectivity checks, yet the
RFC's own example script lets echo requests in only to chosen hosts: forwarding it everywhere
is a policy choice, which the evidence says, not a default. No port or service is forwarded.
"""

from __future__ import annotations

from tests.unit.analysis_fw.rulesets import recorded_firewall
from tests.unit.checks.helpers import judge
from tests.unit.firewall.rulesets import ACCEPT, Nft, match, meta
from v6gap.checks.fw import ipv6_forward_default_deny
from v6gap.model import Status

CHECK = ipv6_forward_default_deny.CHECK
FORWARDING = {"net.ipv6.conf.all.forwarding": "1"}


def test_real_ufw_forward_path_defaults_to_deny_with_its_icmpv6_named() -> None:
    fw = recorded_firewall("real-tools/ufw-default")
    result = judge(CHECK, "router", firewall=fw, sysctl=FORWARDING)
    assert result.status is Status.PASS
    note = next(e for e in result.evidence if e.startswith("ICMPv6 forwarded by rules"))
    assert "errors 1, 2, 3, 4 (RFC 4890 4.3.1: transit errors must not be dropped)" in note
    assert "echo 128, 129" in note and "policy choice" in note
    assert "other types" not in note
    assert any(
        e.startswith("tcp 0-65535: drop") and "FORWARD: policy drop" in e for e in result.evidence
    )


def test_a_blanket_icmpv6_accept_names_the_other_types() -> None:
    nft = (
        Nft()
        .table("ip6", "f")
        .chain("ip6", "f", "forward", "forward", 0, policy="drop")
        .rule("ip6", "f", "forward", match(meta("l4proto"), "ipv6-icmp"), ACCEPT)
    )
    result = judge(CHECK, "router", firewall={"nft_json": nft.text()}, sysctl=FORWARDING)
    assert result.status is Status.PASS
    note = next(e for e in result.evidence if e.startswith("ICMPv6 forwarded by rules"))
    assert "other types 0, 5, 6" in note and "errors 1, 2, 3, 4" in note
