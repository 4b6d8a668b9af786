"""Broken is not filtered: the neighbour table of the probing side decides, from recorded tables."""

from __future__ import annotations

import json
from typing import Any, Dict, List, Tuple

import pytest

from v6gap.probe import diagnose as diag
from v6gap.probe.diagnose import diagnose, diagnose_run, route_for, silent_addresses
from v6gap.probe.model import Echo, LinkDiagnosis, Observation, ProbeRun
from v6gap.probe.parity import build_rows, to_json_data
from v6gap.probe.targets import Targets
from v6gap.probe.text import render_text

V4, V6 = "192.0.2.2", "2001:db8:1::2"
ROUTES: List[Dict[str, Any]] = [
    {"family": "ipv6", "dst": "2001:db8:1::/64", "dev": "eth0", "proto": "kernel"},
    {"family": "ipv6", "dst": "fe80::/64", "dev": "eth0", "proto": "kernel"},
    {"family": "ipv6", "dst": "default", "dev": "eth0", "gateway": "2001:db8:1::1"},
    {"family": "ipv4", "dst": "192.0.2.0/24", "dev": "eth0", "proto": "kernel"},
]
BROKEN_MESSAGE = (
    f"IPv6 broken at the link: no neighbour advertisement from {V6}; likely cause: the target's "
    "firewall drops neighbour solicitations (V6G-FW-04)"
)


def neigh(address: str, state: str) -> Dict[str, Any]:
    return {"family": "ipv6" if ":" in address else "ipv4", "address": address, "dev": "eth0",
            "state": state}  # fmt: skip


@pytest.mark.parametrize("state", ["failed", "incomplete", None])
def test_unresolved_on_link_neighbour_is_broken_at_the_link(state: Any) -> None:
    table = [neigh(V6, state)] if state else []
    got = diagnose(V6, "ipv6", table, ROUTES)
    assert got.verdict == "broken-at-link"
    assert got.neighbour == (state or "missing")
    assert got.message == BROKEN_MESSAGE


@pytest.mark.parametrize("state", ["reachable", "stale", "delay", "probe", "stale|probe"])
def test_resolved_neighbour_means_filtered(state: str) -> None:
    got = diagnose(V6, "ipv6", [neigh(V6, state)], ROUTES)
    assert got.verdict == "filtered" and got.neighbour == state
    assert "the link works" in got.message


def test_ipv4_without_arp_reply_and_off_link_and_unroutable() -> None:
    v4 = diagnose(V4, "ipv4", [neigh(V4, "failed")], ROUTES)
    assert v4.verdict == "broken-at-link" and "no ARP reply" in v4.message
    far = diagnose("2001:db8:9::9", "ipv6", [neigh("2001:db8:1::1", "reachable")], ROUTES)
    assert far.verdict == "off-link" and far.via == "2001:db8:1::1"
    assert "cannot be told apart" in far.message
    dead_gw = diagnose("2001:db8:9::9", "ipv6", [], ROUTES)
    assert dead_gw.verdict == "off-link" and "did not resolve" in dead_gw.message
    nowhere = diagnose("198.51.100.9", "ipv4", [], ROUTES)
    assert nowhere.verdict == "unknown" and "no route" in nowhere.message
    scoped = diagnose("fe80::2%eth0", "ipv6", [neigh("fe80::2", "failed")], ROUTES)
    assert scoped.verdict == "broken-at-link"


def test_longest_prefix_wins() -> None:
    assert route_for(V6, ROUTES) == ROUTES[0]
    assert route_for("2001:db8:2::1", ROUTES) == ROUTES[2]
    assert route_for("203.0.113.1", ROUTES) is None


def run_of(*observations: Tuple[str, int, str, str, str], **echo: bool) -> ProbeRun:
    obs = tuple(
        Observation(a, "tcp", p, s, r, d)  # type: ignore[arg-type]
        for a, p, s, r, d in observations
    )
    echoes = {a: Echo(ok) for a, ok in (("v4", echo.get("v4", False)), ("v6", False))}
    echoes = {V4: echoes["v4"], V6: echoes["v6"]}
    return ProbeRun(Targets((V4,), (V6,)), obs, echoes, 1.0)


SEEN = (
    (V4, 22, "open", "syn-ack", ""),
    (V6, 22, "filtered", "reject", "EHOSTUNREACH"),  # this side's own "address unreachable"
    (V4, 80, "filtered", "no-answer", ""),
    (V6, 80, "filtered", "reject", "EHOSTUNREACH"),
)


def test_silent_means_no_answer_only_the_target_could_give() -> None:
    assert silent_addresses(run_of(*SEEN)) == [V6]
    refused = run_of((V4, 1, "closed", "refused", ""), (V6, 1, "closed", "refused", "icmp"))
    assert silent_addresses(refused) == []
    echo_only = run_of((V4, 80, "filtered", "no-answer", ""), v4=True)
    assert silent_addresses(echo_only) == [V6]  # an echo reply is an answer


def test_diagnose_run_reads_the_tables_once_and_survives_a_failure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: List[int] = []

    def tables() -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
        calls.append(1)
        return [neigh(V6, "failed"), neigh(V4, "reachable")], ROUTES

    monkeypatch.setattr(diag, "read_tables", tables)
    found = diagnose_run(run_of(*SEEN))
    assert list(found) == [V6] and found[V6].verdict == "broken-at-link" and calls == [1]
    both = run_of((V4, 1, "open", "syn-ack", ""), (V6, 1, "open", "syn-ack", ""))
    assert diagnose_run(both) == {}
    assert calls == [1]  # nothing silent: the tables are not read

    def failing() -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
        raise PermissionError("denied")

    monkeypatch.setattr(diag, "read_tables", failing)
    found = diagnose_run(run_of(*SEEN))
    assert found[V6].verdict == "unknown" and "could not be read" in found[V6].message


def with_diagnosis(run: ProbeRun) -> ProbeRun:
    broken = LinkDiagnosis("broken-at-link", "ipv6", "failed", BROKEN_MESSAGE)
    return ProbeRun(run.targets, run.observations, run.echo, run.elapsed_s, {V6: broken})


def test_json_gains_a_diagnosis_key_only_when_an_address_was_silent() -> None:
    plain = run_of(*SEEN)
    assert set(to_json_data(plain, build_rows(plain))) == {"schema", "targets", "results", "icmp"}
    run = with_diagnosis(plain)
    doc = json.loads(json.dumps(to_json_data(run, build_rows(run))))
    assert set(doc) == {"schema", "targets", "results", "icmp", "diagnosis"}
    assert doc["diagnosis"] == {
        V6: {
            "verdict": "broken-at-link",
            "family": "ipv6",
            "neighbour": "failed",
            "message": BROKEN_MESSAGE,
        }
    }
    without = {k: v for k, v in doc.items() if k != "diagnosis"}
    assert without == to_json_data(plain, build_rows(plain))  # nothing else changed


def test_diagnosis_crosses_the_namespace_pipe_and_old_payloads_still_load() -> None:
    run = with_diagnosis(run_of(*SEEN))
    data = json.loads(json.dumps(run.to_data()))
    assert ProbeRun.from_data(data) == run
    del data["diagnosis"]
    assert ProbeRun.from_data(data).diagnosis == {}


def test_text_says_broken_at_the_link_and_marks_the_cells() -> None:
    run = with_diagnosis(run_of(*SEEN))
    text = render_text(run, build_rows(run))
    assert f"note: {V6} answered nothing at all: {BROKEN_MESSAGE}" in text
    assert "filtered (no link)" in text and "filtered (reject)" not in text
