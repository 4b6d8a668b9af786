"""``v6gap audit --netns SERVER --probe-from-netns ATTACKER``: packets confirm the audit.

The seed's gap (strict IPv4, IPv6 wide open) is found by the ruleset checks and again by real
connections from the attacker namespace; a server filtering both families alike gives no
mismatch. The test process in the root namespace sends nothing.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Tuple

import jsonschema
import pytest

from v6gap.cli.main import main
from v6gap.lab import scenarios
from v6gap.lab.build import Lab
from v6gap.lab.pytest_plugin import LabFactory
from v6gap.lab.scenario import Firewall
from v6gap.report.json_report import load_schema

# The gap scenario's IPv4 policy for both families (inet), NDP and echo let in.
PARITY_NFT = """\
table inet v6gap_lab {
	chain input {
		type filter hook input priority filter; policy drop;
		iif "lo" accept
		ct state established,related accept
		meta l4proto { icmp, ipv6-icmp } accept
		tcp dport 22 accept
	}
}
"""


def audit(capsys: pytest.CaptureFixture[str], *argv: str) -> Tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(["audit", *argv])
    out, err = capsys.readouterr()
    code = exited.value.code
    return (code if isinstance(code, int) else 0), out, err


def audit_json(capsys: pytest.CaptureFixture[str], lab: Lab) -> Dict[str, Any]:
    code, out, err = audit(
        capsys, "--netns", lab.ns("server"), "--probe-from-netns", lab.ns("attacker"),
        "--probe-ports", "443,9000", "--format", "json",
    )  # fmt: skip
    assert code in (0, 1), err
    doc: Dict[str, Any] = json.loads(out)
    jsonschema.Draft202012Validator(load_schema()).validate(doc)
    return doc


def by_id(doc: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
    return {f["id"]: f for f in doc["findings"]}


def evidence(finding: Dict[str, Any], prefix: str) -> List[str]:
    return [e for e in finding["evidence"] if e.startswith(prefix)]


@pytest.mark.lab
def test_probe_confirms_the_ipv6_only_exposure_of_the_gap(
    lab_factory: LabFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    lab = lab_factory(scenarios.gap())
    v4, v6 = lab.addr("server", 4), lab.addr("server", 6)
    origin = f"namespace {lab.ns('attacker')}"
    doc = audit_json(capsys, lab)
    found = by_id(doc)
    assert len(doc["findings"]) == 33 + 5
    assert sum(doc["summary"].values()) == 38

    probe01 = found["V6G-PROBE-01"]
    assert probe01["status"] == "fail"
    exposed = {(s["proto"], s["port"], s["address"]) for s in probe01["subjects"]}
    assert ("tcp", 8080, v6) in exposed and ("udp", 5353, v6) in exposed
    assert not any(address == v4 for _, _, address in exposed)
    assert any(e.endswith(f"from {origin}") for e in probe01["evidence"])
    assert any("the host's 3 TCP listener port(s) and --probe-ports 443,9000" in e
               for e in probe01["evidence"])  # fmt: skip

    exp03 = found["V6G-EXP-03"]
    assert exp03["status"] == "fail"  # the engine's verdict, now backed by packets
    assert evidence(exp03, "confirmed by a connection from") == [
        f"confirmed by a connection from {origin}: tcp/8080 open over IPv6, filtered over IPv4",
        f"confirmed by a connection from {origin}: udp/5353 open over IPv6, "
        "open|filtered over IPv4",
    ]
    assert not evidence(exp03, "contradicted")
    fw03 = found["V6G-FW-03"]
    assert fw03["status"] == "fail"
    (confirmed,) = evidence(fw03, "confirmed by connections from")
    assert "tcp/8080 open over IPv6, filtered over IPv4" in confirmed
    assert "tcp/9000 closed over IPv6, filtered over IPv4" in confirmed  # a reset: got through
    assert not evidence(fw03, "contradicted")
    assert found["V6G-PROBE-04"]["status"] == "pass"  # the gap's IPv6 works at the link

    code, out, err = audit(
        capsys, "--netns", lab.ns("server"), "--probe-from-netns", lab.ns("attacker"),
        "--probe-ports", "443", "--format", "sarif",
    )  # fmt: skip
    assert code == 1, err
    results = {r["ruleId"] for r in json.loads(out)["runs"][0]["results"]}
    assert {"V6G-PROBE-01", "V6G-EXP-03", "V6G-FW-03"} <= results


@pytest.mark.lab
def test_a_parity_host_gives_no_mismatch(
    lab_factory: LabFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    lab = lab_factory(scenarios.basic().with_host("server", firewall=Firewall(nft=PARITY_NFT)))
    origin = f"namespace {lab.ns('attacker')}"
    found = by_id(audit_json(capsys, lab))
    assert found["V6G-PROBE-01"]["status"] == "pass"
    assert found["V6G-PROBE-01"]["subjects"] == []
    assert found["V6G-PROBE-03"]["status"] == "pass"  # echo answered in both families
    for check_id in ("V6G-EXP-03", "V6G-FW-03"):
        assert found[check_id]["status"] == "pass", found[check_id]
        (line,) = evidence(found[check_id], "confirmed by connections from")
        assert line.startswith(f"confirmed by connections from {origin}: none of ")
        assert not evidence(found[check_id], "contradicted")


@pytest.mark.lab
def test_a_missing_probing_namespace_is_a_one_line_error(
    lab_factory: LabFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    lab = lab_factory(scenarios.pair())
    code, out, err = audit(capsys, "--netns", lab.ns("server"), "--probe-from-netns", "v6g-nope-0")
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and "--probe-from-netns v6g-nope-0: no such" in err
