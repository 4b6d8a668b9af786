"""FW-04 and FW-05 on recorded rulesets (the lab test proves FW-04 with real packets)."""

from __future__ import annotations

from tests.unit.analysis_fw.rulesets import recorded_firewall
from tests.unit.checks.helpers import judge
from tests.unit.firewall.rulesets import ACCEPT, CT_STATE, match, payload, snapshot_firewall
from v6gap.checks.fw import essential_icmpv6_accepted, mld_accepted
from v6gap.model import Status

FW04 = essential_icmpv6_accepted.CHECK
FW05 = mld_accepted.CHECK


def test_final_reject_drops_neighbour_discovery() -> None:
    result = judge(FW04, firewall=recorded_firewall("inet-accept-final-reject"))
    assert result.status is Status.FAIL
    assert {s.port for s in result.subjects} == {135, 136}
    # errors about the host's own flows come in through "ct state established,related"
    assert any(e.startswith("icmpv6 2 packet too big (related): accept") for e in result.evidence)


def test_seed_accepts_essentials_but_not_mld() -> None:
    assert judge(FW04, firewall=recorded_firewall("seed-option2")).status is Status.PASS
    mld = judge(FW05, firewall=recorded_firewall("seed-option2"))
    assert mld.status is Status.FAIL
    assert {s.port for s in mld.subjects} == {130, 131, 132, 143}


def test_ras_are_essential_only_where_the_profile_takes_them() -> None:
    fw = recorded_firewall("seed-option2")
    server = judge(FW04, "server", firewall=fw)
    slaac = judge(FW04, "slaac-host", firewall=fw)
    assert not any("134" in e for e in server.evidence)
    assert any(e.startswith("icmpv6 134 router advertisement") for e in slaac.evidence)
    assert slaac.status is Status.PASS  # the seed accepts RAs from fe80::/10


def test_no_filtering_lets_everything_in() -> None:
    assert judge(FW04, firewall=recorded_firewall("empty")).status is Status.PASS
    assert judge(FW05, firewall=recorded_firewall("empty")).status is Status.PASS


def test_unreadable_ruleset_is_unknown() -> None:
    missing = {"nft": "nft: permission denied (run as root)"}
    assert judge(FW04, unavailable=missing).status is Status.UNKNOWN
    assert judge(FW05, unavailable=missing).status is Status.UNKNOWN


def _ra_rule_with_hoplimit(hoplimit: int) -> dict[str, object]:
    icmpv6_type = payload("icmpv6", "type")
    established = [match(CT_STATE, ["established", "related"], "in"), ACCEPT]
    nd = [match(icmpv6_type, {"set": ["nd-neighbor-solicit", "nd-neighbor-advert"]}), ACCEPT]
    ra = [
        match(icmpv6_type, "nd-router-advert"),
        match(payload("ip6", "hoplimit"), hoplimit),
        ACCEPT,
    ]
    return snapshot_firewall(established, nd, ra)


def test_ra_accept_guarded_by_hop_limit_255_lets_real_ras_in() -> None:
    """Routers send RAs with hop limit 255: the guard's hop-limit match is judged as such."""
    result = judge(FW04, "slaac-host", firewall=_ra_rule_with_hoplimit(255))
    assert result.status is Status.PASS, result


def test_ra_accept_for_another_hop_limit_drops_real_ras() -> None:
    result = judge(FW04, "slaac-host", firewall=_ra_rule_with_hoplimit(64))
    assert result.status is Status.FAIL
    assert [s.port for s in result.subjects] == [134]
