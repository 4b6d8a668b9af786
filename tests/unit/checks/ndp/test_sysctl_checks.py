"""NDP-01..04: the per-interface sysctl checks, passing and failing on snapshot data."""

from __future__ import annotations

from tests.unit.checks.helpers import conf, judge
from v6gap.checks.ndp import (
    forwarding_off,
    redirects_refused,
    router_advertisements_refused,
    source_route_refused,
)
from v6gap.model import Status

HARDENED = {
    "accept_ra": "0",
    "accept_redirects": "0",
    "accept_source_route": "0",
    "forwarding": "0",
    "disable_ipv6": "0",
}


def _scopes(**overrides: dict[str, str]) -> dict[str, str]:
    scopes = {name: dict(HARDENED) for name in ("all", "default", "eth0", "eth1", "lo")}
    for name, values in overrides.items():
        scopes[name].update(values)
    return conf(scopes)


def test_redirects_pass_when_zero_everywhere() -> None:
    result = judge(redirects_refused.CHECK, sysctl=_scopes())
    assert result.status is Status.PASS
    assert any("net.ipv6.conf.eth1.accept_redirects = 0" in e for e in result.evidence)


def test_redirects_fail_names_the_one_interface() -> None:
    result = judge(redirects_refused.CHECK, sysctl=_scopes(eth1={"accept_redirects": "1"}))
    assert result.status is Status.FAIL
    assert [s.name for s in result.subjects] == ["net.ipv6.conf.eth1.accept_redirects"]
    assert "net.ipv6.conf.eth1.accept_redirects = 0" in (result.remediation or "")


def test_loopback_is_not_judged() -> None:
    result = judge(redirects_refused.CHECK, sysctl=_scopes(lo={"accept_redirects": "1"}))
    assert result.status is Status.PASS


def test_unreadable_value_is_unknown_not_pass() -> None:
    result = judge(redirects_refused.CHECK, sysctl=_scopes(eth0={"accept_redirects": "x"}))
    assert result.status is Status.UNKNOWN


def test_missing_sysctls_are_unknown() -> None:
    result = judge(redirects_refused.CHECK, unavailable={"sysctl": "permission denied"})
    assert result.status is Status.UNKNOWN
    assert "permission denied" in result.reason


def test_accept_ra_one_fails_on_server() -> None:
    result = judge(router_advertisements_refused.CHECK, sysctl=_scopes(eth0={"accept_ra": "1"}))
    assert result.status is Status.FAIL
    assert [s.name for s in result.subjects] == ["net.ipv6.conf.eth0.accept_ra"]


def test_accept_ra_one_with_forwarding_is_not_effective() -> None:
    sysctl = _scopes(eth0={"accept_ra": "1", "forwarding": "1"})
    result = judge(router_advertisements_refused.CHECK, "router", sysctl=sysctl)
    assert result.status is Status.PASS


def test_accept_ra_two_with_forwarding_is_effective() -> None:
    sysctl = _scopes(eth0={"accept_ra": "2", "forwarding": "1"})
    result = judge(router_advertisements_refused.CHECK, "router", sysctl=sysctl)
    assert result.status is Status.FAIL
    assert "accept_ra = 2" in result.reason


def test_accept_ra_on_interface_with_ipv6_disabled_is_harmless() -> None:
    sysctl = _scopes(eth0={"accept_ra": "1", "disable_ipv6": "1"})
    assert judge(router_advertisements_refused.CHECK, sysctl=sysctl).status is Status.PASS


def test_accept_ra_check_skips_slaac_host() -> None:
    result = judge(
        router_advertisements_refused.CHECK, "slaac-host", sysctl=_scopes(eth0={"accept_ra": "1"})
    )
    assert result.status is Status.SKIP


def test_source_route_negative_is_stricter_and_passes() -> None:
    sysctl = _scopes(all={"accept_source_route": "-1"})
    assert judge(source_route_refused.CHECK, sysctl=sysctl).status is Status.PASS


def test_source_route_positive_fails() -> None:
    sysctl = _scopes(default={"accept_source_route": "1"})
    result = judge(source_route_refused.CHECK, sysctl=sysctl)
    assert result.status is Status.FAIL
    assert result.subjects[0].name == "net.ipv6.conf.default.accept_source_route"


def test_forwarding_fails_on_server_and_skips_on_router() -> None:
    sysctl = _scopes(all={"forwarding": "1"})
    assert judge(forwarding_off.CHECK, sysctl=sysctl).status is Status.FAIL
    assert judge(forwarding_off.CHECK, "router", sysctl=sysctl).status is Status.SKIP
    assert judge(forwarding_off.CHECK, sysctl=_scopes()).status is Status.PASS


def test_kernel_without_ipv6_skips_with_reason() -> None:
    result = judge(redirects_refused.CHECK, ipv6_proc=False, cmdline="ro ipv6.disable=1 quiet")
    assert result.status is Status.SKIP
    assert "ipv6.disable=1" in result.reason
