"""The sysctl.d line syntax, key spellings and glob matching, as systemd-sysctl has them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from v6gap.analysis.sysctl_syntax import (
    dotted,
    expand_braces,
    glob_matches,
    is_glob,
    normalize_key,
    parse_sysctl_text,
    to_slash_key,
)


@pytest.mark.parametrize(
    ("written", "normalised"),
    [
        ("net.ipv6.conf.all.accept_ra", "net/ipv6/conf/all/accept_ra"),
        ("net/ipv6/conf/all/accept_ra", "net/ipv6/conf/all/accept_ra"),
        # first separator "/": dots stay dots (a VLAN interface)
        ("net/ipv6/conf/eth0.100/accept_ra", "net/ipv6/conf/eth0.100/accept_ra"),
        # first separator ".": dots and slashes swap
        ("net.ipv6.conf.eth0/100.accept_ra", "net/ipv6/conf/eth0.100/accept_ra"),
        ("net.ipv6.conf.eth0.100.accept_ra", "net/ipv6/conf/eth0/100/accept_ra"),
        ("/net/ipv4/ip_forward", "net/ipv4/ip_forward"),
        ("net..ipv4.ip_forward", "net/ipv4/ip_forward"),
        ("kernel", "kernel"),
        ("", ""),
    ],
)
def test_normalize_key(written: str, normalised: str) -> None:
    assert normalize_key(written) == normalised


def test_dotted_and_lookup_spellings() -> None:
    assert dotted("net/ipv6/conf/eth0.100/accept_ra") == "net.ipv6.conf.eth0/100.accept_ra"
    # the snapshot's dotted keys keep interface dots: conf/neigh keys are unambiguous
    assert to_slash_key("net.ipv6.conf.eth0.100.accept_ra") == "net/ipv6/conf/eth0.100/accept_ra"
    assert to_slash_key("net.ipv6.conf.eth0/100.accept_ra") == "net/ipv6/conf/eth0.100/accept_ra"
    assert to_slash_key("net/ipv6/conf/eth0.100/accept_ra") == "net/ipv6/conf/eth0.100/accept_ra"
    assert to_slash_key("net.ipv6.neigh.default.gc_thresh3") == "net/ipv6/neigh/default/gc_thresh3"
    assert to_slash_key("net.ipv6.bindv6only") == "net/ipv6/bindv6only"


def test_glob_detection_and_matching() -> None:
    assert is_glob("net/ipv6/conf/*/accept_ra")
    assert is_glob("net/ipv6/conf/eth[01]/accept_ra")
    assert not is_glob("net/ipv6/conf/{a,b}/accept_ra")  # braces alone are no glob
    assert glob_matches("net/ipv6/conf/*/accept_ra", "net/ipv6/conf/all/accept_ra")
    assert glob_matches("net/ipv6/conf/*/accept_ra", "net/ipv6/conf/eth0.100/accept_ra")
    assert not glob_matches("net/ipv6/conf/*/accept_ra", "net/ipv6/conf/a/b/accept_ra")
    assert not glob_matches("net/ipv6/conf/*/accept_ra", "net/ipv6/conf/all/accept_ra_pinfo")
    assert not glob_matches("net/ipv6/*", "net/ipv6/conf/all/accept_ra")
    assert glob_matches("net/ipv6/conf/e?h[0-9]/accept_ra", "net/ipv6/conf/eth1/accept_ra")
    assert not glob_matches("net/ipv6/conf/*/x", "net/ipv6/conf/.hidden/x")
    assert glob_matches("net/ipv6/conf/{eth,wl}*/accept_ra", "net/ipv6/conf/wlan0/accept_ra")


def test_expand_braces() -> None:
    assert sorted(expand_braces("a{b,c}d")) == ["abd", "acd"]
    assert sorted(expand_braces("{a,b}{1,2}")) == ["a1", "a2", "b1", "b2"]
    assert sorted(expand_braces("x{a,{b,c}}")) == ["xa", "xb", "xc"]
    assert expand_braces("{x}") == ["{x}"]
    assert expand_braces("{open") == ["{open"]
    assert len(expand_braces("{a,b}" * 20)) <= 300  # bounded


def test_parse_lines() -> None:
    text = (
        "# comment\n"
        "; also a comment\n"
        "\n"
        "  net.ipv6.conf.all.accept_ra   =   0  \n"
        "-net.ipv6.conf.eth9.accept_ra = 1\n"
        "-net.ipv6.conf.eth2.accept_ra\n"
        "not an assignment\n"
        "kernel.printk = 4 4 1 7\n"
        "empty.value =\n"
        " = 3\n"
    )
    lines = parse_sysctl_text(text)
    assert [(x.key, x.value, x.line, x.ignore_failure) for x in lines] == [
        ("net/ipv6/conf/all/accept_ra", "0", 4, False),
        ("net/ipv6/conf/eth9/accept_ra", "1", 5, True),
        ("net/ipv6/conf/eth2/accept_ra", None, 6, True),
        ("kernel/printk", "4 4 1 7", 8, False),
        ("empty/value", "", 9, False),
    ]
    assert lines[0].text == "net.ipv6.conf.all.accept_ra   =   0"


def test_value_may_contain_equals() -> None:
    (line,) = parse_sysctl_text("kernel.core_pattern=|/bin/x a=b\n")
    assert line.value == "|/bin/x a=b"


@given(st.text())
def test_parse_never_raises(text: str) -> None:
    for line in parse_sysctl_text(text):
        assert line.key and "//" not in line.key and line.line >= 1


@given(st.text(alphabet="*?[]{},./ab-", max_size=40), st.text(alphabet="./ab", max_size=30))
def test_glob_never_raises(pattern: str, key: str) -> None:
    glob_matches(pattern, key)
