"""An image's boot ruleset (``--root``, collect.boot_firewall) is named as such in the evidence:
it is what a unit loads at boot, not a live ``nft -j list ruleset``."""

from __future__ import annotations

from tests.conftest import make_snapshot
from tests.unit.firewall.rulesets import FIXTURES
from v6gap.checks.run import run_checks
from v6gap.model import Firewall, Profile

BOOT = "nftables.service loads /etc/nftables.conf"


def _evidence(boot: str | None) -> dict[str, list[str]]:
    nft = (FIXTURES / "inet-policy-drop" / "nft.json").read_text()
    snapshot = make_snapshot(firewall=Firewall(nft_json=nft, boot=boot))
    return {f.id: list(f.evidence) for f in run_checks(snapshot, Profile("server")).findings}


def test_boot_ruleset_is_named_in_presence_and_engine_evidence() -> None:
    found = _evidence(BOOT)
    for check in ("V6G-FW-01", "V6G-FW-02", "V6G-FW-04", "V6G-FW-10"):
        assert any(f"boot ruleset: {BOOT}" in e for e in found[check]), check
        assert not any("nft -j list ruleset" in e for e in found[check]), check
    assert f"IPv6 input: rules nftables read from boot ruleset: {BOOT}" in found["V6G-FW-02"]


def test_live_ruleset_keeps_the_dump_name() -> None:
    found = _evidence(None)
    assert "IPv6 input: rules nftables read from nft -j list ruleset" in found["V6G-FW-02"]
    assert not any("boot ruleset" in e for f in found.values() for e in f)
