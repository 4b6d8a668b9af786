"""FW-07: rules an earlier rule always pre-empts."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.analysis_fw.rulesets import recorded_firewall
from tests.unit.checks.helpers import judge
from v6gap.checks.fw import no_shadowed_rules
from v6gap.firewall.iptables import read_save
from v6gap.firewall.model import Rule
from v6gap.model import Status

CHECK = no_shadowed_rules.CHECK


def rules(*lines: str) -> list[Rule]:
    text = "*filter\n:INPUT DROP [0:0]\n" + "".join(f"-A INPUT {x}\n" for x in lines) + "COMMIT\n"
    return list(read_save(text, "ip6tables-save").tables[0].chains[0].rules)


def test_seed_rate_limited_echo_is_shadowed() -> None:
    result = judge(CHECK, firewall=recorded_firewall("seed-option2"))
    assert result.status is Status.FAIL
    assert result.evidence == (
        "nft -j list ruleset: inet filter chain input handle 10 never matches: "
        "nft -j list ruleset: inet filter chain input handle 9 decides first",
    )


@pytest.mark.parametrize(
    ("earlier", "later", "shadowed"),
    [
        ("-p tcp -j ACCEPT", "-p tcp -m tcp --dport 22 -j DROP", True),
        (
            "-p tcp -m multiport --dports 20:30 -j ACCEPT",
            "-p tcp -m tcp --dport 22 -j ACCEPT",
            True,
        ),
        ("-p tcp -m tcp --dport 22 -j ACCEPT", "-p tcp -j DROP", False),
        ("-p udp -j ACCEPT", "-p tcp -m tcp --dport 22 -j DROP", False),
        ("-s 2001:db8::/32 -j DROP", "-s 2001:db8:1::/48 -p tcp -j ACCEPT", True),
        ("-s 2001:db8:1::/48 -j DROP", "-s 2001:db8::/32 -j ACCEPT", False),
        ("-m limit --limit 5/min -j ACCEPT", "-j DROP", False),
        ("-j LOG", "-p tcp -j DROP", False),
        ("! -p tcp -j ACCEPT", "-p udp -j DROP", False),  # negation never implies here
        ("-j ACCEPT", "-p tcp -m tcp --dport 22 -j DROP", True),
    ],
)
def test_shadowing_pairs(earlier: str, later: str, shadowed: bool) -> None:
    first, second = rules(earlier, later)
    assert no_shadowed_rules.shadows(first, second) is shadowed


def test_real_rulesets_have_no_shadowed_rules() -> None:
    for case in ("docker-published-port-nft", "kube-proxy-iptables", "inet-policy-drop"):
        assert judge(CHECK, firewall=recorded_firewall(case)).status is Status.PASS, case


# The filed search must find exactly what comparing every pair finds.
_MATCHES = st.sampled_from(
    [
        "-p tcp",
        "-p udp",
        "-p tcp -m tcp --dport 22",
        "-p tcp -m tcp --dport 80",
        "-p udp -m udp --dport 80",
        "-p tcp -m multiport --dports 22,80",
        "-p tcp -m multiport --dports 20:30",
        "-d 2001:db8::1/128",
        "-d 2001:db8::2/128",
        "-d 2001:db8::/64",
        "-s 2001:db8::/32",
        "-m conntrack --ctstate NEW",
        "-m limit --limit 5/min",
        "",
    ]
)
_TARGETS = st.sampled_from(["-j ACCEPT", "-j DROP", "-j RETURN", "-j LOG"])


def _pairwise(chain: list[Rule]) -> list[tuple[Rule, Rule]]:
    found = []
    for i, later in enumerate(chain):
        earlier = next((e for e in chain[:i] if no_shadowed_rules.shadows(e, later)), None)
        if earlier is not None:
            found.append((earlier, later))
    return found


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_MATCHES, _MATCHES, _TARGETS), min_size=1, max_size=14))
def test_filed_search_finds_what_every_pair_finds(lines: list[tuple[str, str, str]]) -> None:
    chain = rules(*(" ".join(x for x in line if x) for line in lines))
    assert no_shadowed_rules._shadowed(tuple(chain)) == _pairwise(chain)
