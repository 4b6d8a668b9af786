"""STATE-04: under ``disabled``, nothing depends on ::1 that would break."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.checks.helpers import judge
from v6gap.checks.state import loopback_dependencies
from v6gap.model import Status, Subject

CHECK = loopback_dependencies.CHECK

POSTGRES_V6_ONLY = {
    "proto": "tcp",
    "family": "ipv6",
    "address": "::1",
    "port": 5432,
    "process": "postgres",
}
HARMLESS_SOCKETS = [
    {"proto": "tcp", "family": "ipv4", "address": "127.0.0.1", "port": 25, "process": "exim4"},
    {"proto": "tcp", "family": "ipv6", "address": "::", "port": 22, "process": "sshd"},
    {"proto": "udp", "family": "ipv4", "address": "0.0.0.0", "port": 68, "process": "dhclient"},
]
DEBIAN_HOSTS = (
    "127.0.0.1\tlocalhost\n127.0.1.1\thost\n\n"
    "# The following lines are desirable for IPv6 capable hosts\n"
    "::1     localhost ip6-localhost ip6-loopback\n"
    "ff02::1 ip6-allnodes\n"
)
IPV4_ONLY_HOSTS = "127.0.0.1 localhost\n::1 ip6-localhost ip6-loopback\n"
# Debian's stock gai.conf carries the line commented out: it must not count.
DEBIAN_GAI = "#precedence  ::ffff:0:0/96  100\n"


def hosts(text: str, gai: str | None = None) -> dict[str, Any]:
    files = {"/etc/hosts": {"text": text}}
    if gai is not None:
        files["/etc/gai.conf"] = {"text": gai}
    return {"files": files}


def disabled(**fields: Any) -> Any:
    return judge(CHECK, "disabled", **fields)


def test_listener_only_on_ipv6_loopback_fails() -> None:
    result = disabled(sockets=[POSTGRES_V6_ONLY, *HARMLESS_SOCKETS], **hosts(IPV4_ONLY_HOSTS))
    assert result.status is Status.FAIL
    assert result.reason == "1 listeners bound only to ::1"
    assert result.subjects == (
        Subject(
            kind="port", family="ipv6", proto="tcp", port=5432, address="::1", process="postgres"
        ),
    )
    assert result.evidence == ("tcp [::1]:5432 (postgres)",)


def test_listener_without_a_process_name() -> None:
    sock = {k: v for k, v in POSTGRES_V6_ONLY.items() if k != "process"}
    result = disabled(sockets=[sock], **hosts(IPV4_ONLY_HOSTS))
    assert result.status is Status.FAIL
    assert result.evidence == ("tcp [::1]:5432 (unknown process)",)


def test_localhost_on_ipv6_loopback_in_hosts_fails() -> None:
    result = disabled(sockets=HARMLESS_SOCKETS, **hosts(DEBIAN_HOSTS))
    assert result.status is Status.FAIL
    assert result.reason == "localhost resolves to ::1 first"
    assert result.subjects == (
        Subject(
            kind="file", name="/etc/hosts:5", value="::1     localhost ip6-localhost ip6-loopback"
        ),
    )
    assert result.evidence == ("/etc/hosts:5 ::1     localhost ip6-localhost ip6-loopback",)


def test_long_spelling_of_ipv6_loopback_is_recognised() -> None:
    result = disabled(sockets=[], **hosts("0:0:0:0:0:0:0:1 localhost\n"))
    assert result.status is Status.FAIL
    assert [s.name for s in result.subjects] == ["/etc/hosts:1"]


def test_both_dependencies_are_listed_together() -> None:
    result = disabled(sockets=[POSTGRES_V6_ONLY], **hosts(DEBIAN_HOSTS))
    assert result.status is Status.FAIL
    assert result.reason == "1 listeners bound only to ::1; localhost resolves to ::1 first"
    assert [s.kind for s in result.subjects] == ["port", "file"]


def test_gai_conf_preferring_ipv4_mapped_keeps_localhost_on_ipv4() -> None:
    gai = "# local policy\nprecedence ::ffff:0:0/96 100\n"
    result = disabled(sockets=HARMLESS_SOCKETS, **hosts(DEBIAN_HOSTS, gai))
    assert result.status is Status.PASS
    assert result.evidence == (
        "/etc/gai.conf prefers IPv4-mapped addresses: localhost stays on 127.0.0.1",
    )


@pytest.mark.parametrize(
    "gai",
    [DEBIAN_GAI, "precedence ::ffff:0:0/96 10\n", "label ::ffff:0:0/96 4\n"],
    ids=["commented-out", "low-precedence", "label-only"],
)
def test_gai_conf_that_does_not_raise_ipv4_still_fails(gai: str) -> None:
    result = disabled(sockets=HARMLESS_SOCKETS, **hosts(DEBIAN_HOSTS, gai))
    assert result.status is Status.FAIL
    assert [s.name for s in result.subjects] == ["/etc/hosts:5"]


def test_nothing_on_ipv6_loopback_passes() -> None:
    result = disabled(sockets=HARMLESS_SOCKETS, **hosts(IPV4_ONLY_HOSTS))
    assert result.status is Status.PASS
    assert result.subjects == ()
    assert result.reason == "no listener on ::1 alone and localhost resolves to 127.0.0.1 first"


@pytest.mark.parametrize("profile", ["server", "slaac-host", "router", "k8s-node"])
def test_other_profiles_skip(profile: str) -> None:
    result = judge(CHECK, profile, sockets=[POSTGRES_V6_ONLY], **hosts(DEBIAN_HOSTS))
    assert result.status is Status.SKIP


def test_ipv6_off_in_the_kernel_still_judged() -> None:
    """needs_ipv6 is off: /etc/hosts still sends localhost to a ::1 that does not exist."""
    result = disabled(
        ipv6_proc=False, cmdline="ro ipv6.disable=1", sockets=[], **hosts(DEBIAN_HOSTS)
    )
    assert result.status is Status.FAIL


def test_neither_listeners_nor_hosts_read_is_unknown() -> None:
    result = disabled(unavailable={"sockets": "ss: permission denied"})
    assert result.status is Status.UNKNOWN
    assert result.evidence == ("listeners not checked: sockets: ss: permission denied",)


def test_sockets_missing_does_not_hide_a_hosts_failure() -> None:
    result = disabled(unavailable={"sockets": "ss: permission denied"}, **hosts(DEBIAN_HOSTS))
    assert result.status is Status.FAIL
    assert "listeners not checked: sockets: ss: permission denied" in result.evidence


def test_listeners_not_read_is_not_a_pass() -> None:
    result = disabled(unavailable={"sockets": "ss: permission denied"}, **hosts(IPV4_ONLY_HOSTS))
    assert result.status is Status.UNKNOWN


def test_unreadable_hosts_is_not_a_pass() -> None:
    result = disabled(
        sockets=HARMLESS_SOCKETS, files={"/etc/hosts": {"error": "permission denied"}}
    )
    assert result.status is Status.UNKNOWN
    assert "/etc/hosts" in result.reason


def test_service_also_on_ipv4_loopback_keeps_working() -> None:
    """PostgreSQL on both ::1 and 127.0.0.1 only warns when ::1 goes away: not a dependency."""
    also_v4 = {**POSTGRES_V6_ONLY, "family": "ipv4", "address": "127.0.0.1"}
    result = disabled(sockets=[POSTGRES_V6_ONLY, also_v4], **hosts(IPV4_ONLY_HOSTS))
    assert result.status is Status.PASS
