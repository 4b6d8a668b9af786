"""NDP-07: on a server, the RA-related knobs behind accept_ra are closed too."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.checks.helpers import conf, judge
from v6gap.checks.ndp import ra_defence_in_depth
from v6gap.model import Status, Subject

CHECK = ra_defence_in_depth.CHECK

CLOSED = {
    "accept_ra_defrtr": "0",
    "accept_ra_pinfo": "0",
    "accept_ra_rtr_pref": "0",
    "autoconf": "0",
    "router_solicitations": "0",
    "max_addresses": "1",
    "dad_transmits": "0",
}


def scopes(**overrides: dict[str, str]) -> dict[str, str]:
    values = {name: dict(CLOSED) for name in ("all", "default", "eth0", "lo")}
    for name, changed in overrides.items():
        values[name].update(changed)
    return conf(values)


def test_all_closed_passes() -> None:
    result = judge(CHECK, sysctl=scopes())
    assert result.status is Status.PASS
    assert result.subjects == ()
    assert result.reason == "every RA-related knob is closed on all, default and every interface"


def test_max_addresses_kernel_default_16_fails() -> None:
    result = judge(CHECK, sysctl=scopes(eth0={"max_addresses": "16"}))
    assert result.status is Status.FAIL
    assert result.reason == "left open: max_addresses (1 settings)"
    assert result.subjects == (
        Subject(kind="sysctl", name="net.ipv6.conf.eth0.max_addresses", value="16"),
    )
    assert result.evidence == ("net.ipv6.conf.eth0.max_addresses = 16 (running); wanted 1",)
    assert "net.ipv6.conf.default.max_addresses = 1" in CHECK.meta.remediation


@pytest.mark.parametrize(
    ("value", "status"),
    [("0", Status.FAIL), ("1", Status.PASS), ("2", Status.FAIL), ("16", Status.FAIL)],
    ids=["0-unlimited", "1", "2", "16"],
)
def test_max_addresses_zero_means_unlimited(value: str, status: Status) -> None:
    result = judge(CHECK, sysctl=scopes(default={"max_addresses": value}))
    assert result.status is status


@pytest.mark.parametrize(
    "key",
    ["accept_ra_defrtr", "accept_ra_pinfo", "accept_ra_rtr_pref", "autoconf", "dad_transmits"],
)
def test_each_knob_left_at_one_fails(key: str) -> None:
    result = judge(CHECK, sysctl=scopes(all={key: "1"}))
    assert result.status is Status.FAIL
    assert [s.name for s in result.subjects] == [f"net.ipv6.conf.all.{key}"]


def test_router_solicitations_minus_one_means_forever() -> None:
    result = judge(CHECK, sysctl=scopes(all={"router_solicitations": "-1"}))
    assert result.status is Status.FAIL
    assert result.evidence == ("net.ipv6.conf.all.router_solicitations = -1 (running); wanted 0",)


def test_several_open_knobs_are_listed_by_key() -> None:
    result = judge(
        CHECK, sysctl=scopes(eth0={"autoconf": "1", "accept_ra_pinfo": "1", "max_addresses": "16"})
    )
    assert result.status is Status.FAIL
    assert result.reason == "left open: accept_ra_pinfo, autoconf, max_addresses (3 settings)"


def test_loopback_is_not_judged() -> None:
    assert judge(CHECK, sysctl=scopes(lo={"autoconf": "1"})).status is Status.PASS


@pytest.mark.parametrize("profile", ["disabled", "slaac-host", "router", "k8s-node"])
def test_only_server_is_judged(profile: str) -> None:
    result = judge(CHECK, profile, sysctl=scopes(eth0={"max_addresses": "16"}))
    assert result.status is Status.SKIP


def test_sysctl_not_read_is_unknown() -> None:
    result = judge(CHECK, unavailable={"sysctl": "permission denied"})
    assert result.status is Status.UNKNOWN
    assert "sysctl: permission denied" in result.reason


def test_a_key_not_collected_is_unknown() -> None:
    sysctl = {k: v for k, v in scopes().items() if not k.endswith(".dad_transmits")}
    result = judge(CHECK, sysctl=sysctl)
    assert result.status is Status.UNKNOWN
    assert result.reason == "not collected: dad_transmits"


def test_image_without_files_fails_on_kernel_defaults() -> None:
    result = judge(CHECK, source="root")
    assert result.status is Status.FAIL
    assert len(result.subjects) == 14  # seven keys, all and default
    assert "net.ipv6.conf.default.max_addresses = 16 (kernel default); wanted 1" in result.evidence


def test_image_with_the_keys_persisted_passes() -> None:
    text = "".join(
        f"net.ipv6.conf.{scope}.{key} = {value}\n"
        for key, value in CLOSED.items()
        for scope in ("all", "default")
    )
    files: dict[str, Any] = {
        "files": {"/etc/sysctl.d/61-ra-depth.conf": {"text": text}},
        "dirs": {"/etc/sysctl.d": ["61-ra-depth.conf"]},
    }
    assert judge(CHECK, source="root", **files).status is Status.PASS


def test_pass_shows_the_values_that_decided_it() -> None:
    result = judge(CHECK, sysctl=scopes())
    assert "net.ipv6.conf.eth0.max_addresses = 1 (running)" in result.evidence


def test_a_value_that_is_not_a_number_is_unknown_not_fail() -> None:
    result = judge(ra_defence_in_depth.CHECK, sysctl=scopes(eth0={"autoconf": "yes"}))
    assert result.status is Status.UNKNOWN
    assert "autoconf on eth0" in result.reason
