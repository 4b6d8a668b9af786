"""ICMPv6 beyond echo: the neighbour solicitation we send, the NA we accept, the error probe."""

from __future__ import annotations

import json

from v6gap.probe.icmp import ERROR_PORT, UNTESTABLE, error_result
from v6gap.probe.model import Echo, IcmpTest, Observation, ProbeRun
from v6gap.probe.ndp import build_ns, interface_of, parse_na, solicited_node
from v6gap.probe.parity import build_rows, to_json_data
from v6gap.probe.targets import Targets
from v6gap.probe.text import render_text

V4, V6 = "192.0.2.10", "2001:db8:1::10"
ROUTES = [
    {"family": "ipv6", "dst": "2001:db8:1::/64", "dev": "eth0"},
    {"family": "ipv6", "dst": "2001:db8:2::/64", "dev": "eth0", "gateway": "2001:db8:1::1"},
]


def test_solicitation_is_rfc4861_shaped() -> None:
    assert solicited_node("2001:db8:1::10") == "ff02::1:ff00:10"
    assert solicited_node("fe80::a1b2:c3d4%eth0") == "ff02::1:ffb2:c3d4"
    packet = build_ns(V6, bytes.fromhex("020000000001"))
    assert len(packet) == 32 and packet[:2] == bytes([135, 0])
    assert packet[8:24] == bytes.fromhex("20010db8000100000000000000000010")
    assert packet[24:] == bytes.fromhex("0101020000000001")  # source link-layer address


def test_only_advertisements_for_an_address_are_read() -> None:
    advert = bytes([136, 0, 0, 0, 0x60, 0, 0, 0]) + bytes.fromhex(
        "20010db8000100000000000000000010"
    )
    assert parse_na(advert) == (V6, "solicited, override")
    assert parse_na(bytes([135]) + advert[1:]) is None  # a solicitation
    assert parse_na(advert[:20]) is None


def test_only_on_link_targets_are_solicited() -> None:
    assert interface_of(V6, ROUTES) == "eth0"
    assert interface_of("2001:db8:2::5", ROUTES) is None  # behind 2001:db8:1::1
    assert interface_of("fe80::1%eth1", ROUTES) == "eth1"
    assert interface_of("2001:db8:9::1", ROUTES) is None  # no route at all


def test_error_probe_results() -> None:
    def result(state: str, reason: str, detail: str = "") -> str:
        obs = Observation(V6, "udp", ERROR_PORT, state, reason, detail)  # type: ignore[arg-type]
        return error_result(obs).result

    assert result("closed", "refused") == "port-unreachable"
    assert result("filtered", "reject", "EACCES") == "reject"
    assert result("open", "reply") == "reply"
    assert result("open|filtered", "no-answer") == "no-answer"


def run_of(neighbour: str, error6: str) -> ProbeRun:
    obs = (
        Observation(V4, "tcp", 22, "open", "syn-ack"),
        Observation(V6, "tcp", 22, "open", "syn-ack"),
    )
    return ProbeRun(
        Targets((V4,), (V6,)),
        obs,
        {V4: Echo(True, 0.1), V6: Echo(False)},
        1.0,
        neighbour={V6: IcmpTest(neighbour, "d")},
        errors={V4: IcmpTest("port-unreachable"), V6: IcmpTest(error6)},
    )


def test_json_and_text_carry_the_tests_and_what_cannot_be_tested() -> None:
    run = run_of("answered", "no-answer")
    assert ProbeRun.from_data(json.loads(json.dumps(run.to_data()))) == run
    icmp = to_json_data(run, build_rows(run))["icmp"]
    assert icmp["neighbour"] == {V6: {"result": "answered", "detail": "d"}}
    assert icmp["errors"][V6] == {"port": ERROR_PORT, "result": "no-answer", "detail": ""}
    assert icmp["untestable"] == list(UNTESTABLE)
    text = render_text(run, build_rows(run))
    rows = {line.split("  ")[0]: line.split() for line in text.splitlines() if "  " in line}
    assert rows["echo"] == ["echo", "reply,", "0.1", "ms", "no", "reply"]
    assert rows["neighbour solicitation"][-2:] == ["-", "answered"]
    assert rows[f"error from udp/{ERROR_PORT}"][-2:] == ["port-unreachable", "no-answer"]
    assert f"note: {V6} answers neighbour solicitations but not echo" in text
    assert f"note: no ICMPv6 error came back from {V6}" in text
    assert "not testable from outside:\n  - packet-too-big accepted" in text


def test_quiet_notes_when_the_tests_agree() -> None:
    run = run_of("no-answer", "port-unreachable")
    text = render_text(run, build_rows(run))
    assert "answers neighbour solicitations" not in text
    assert "no ICMPv6 error came back" not in text
