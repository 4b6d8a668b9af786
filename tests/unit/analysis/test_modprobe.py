"""parse_modprobe: kmod's precedence, syntax and lookups."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import make_snapshot
from tests.unit.analysis.roots import root_snapshot
from v6gap.analysis.modprobe import (
    ModprobeConfig,
    is_noop_command,
    parse_modprobe,
    parse_modprobe_text,
    underscores,
)


def config(name: str) -> ModprobeConfig:
    return parse_modprobe(root_snapshot(name))


def status(result: ModprobeConfig, path: str) -> str:
    (found,) = [f for f in result.files if f.path == path]
    return f"{found.status}: {found.detail}"


def test_seed_modprobe_conf_is_ignored_by_kmod() -> None:
    result = config("disable-modprobe-conf")
    assert result.option("ipv6", "disable") is None
    ignored = result.ignored_option("ipv6", "disable")
    assert ignored is not None
    assert ignored.describe() == (
        "/etc/modprobe.conf:1 options ipv6 disable=1 "
        "(kmod never reads /etc/modprobe.conf: this line has no effect (use modprobe.d))"
    )
    assert status(result, "/etc/modprobe.conf").startswith("not-applied: kmod never reads")


def test_seed_modprobe_d_local_conf_sets_the_option() -> None:
    result = config("disable-modprobe-local")
    found = result.option("ipv6", "disable")
    assert (
        found is not None
        and found.describe() == "/etc/modprobe.d/local.conf:1 options ipv6 disable=1"
    )
    assert result.option_value("ipv6", "disable") == "1"
    assert result.ignored == ()


def test_hardened_tunnels_are_blocked() -> None:
    result = config("hardened")
    for module in ("sit", "tunnel6", "tunnel4", "ip6_tunnel", "ip6_gre", "ip6-gre", "ip6_vti"):
        blocked = result.blocks_loading(module)
        assert blocked is not None, module
    assert result.blocks_loading("ipip") is None
    assert result.install_for("ipip") is None


def test_ubuntu_blacklists_do_not_block_explicit_loading() -> None:
    result = config("ubuntu-22.04")
    black = result.blacklisted("firewire_ohci")  # written "firewire-ohci"
    assert black is not None and black.path == "/etc/modprobe.d/blacklist-firewire.conf"
    assert result.blocks_loading("firewire_ohci") is None
    alias = result.alias("net-pf-3")
    assert alias is not None and alias.args == "off"
    assert result.option_value("bonding", "max_bonds") == "0"
    removal = result.remove_for("iwlwifi")
    assert removal is not None and removal.line == 5 and "xargs /sbin/rmmod" in removal.args


def test_rhel_install_commands_that_load_are_not_blocks() -> None:
    result = config("rhel-9")
    conntrack = result.install_for("nf_conntrack")
    assert conntrack is not None and "--ignore-install" in conntrack.args
    assert result.blocks_loading("nf_conntrack") is None
    assert result.blocks_loading("libnvdimm") is None
    assert result.blacklisted("sctp") is not None


def test_edge_cases_precedence_masking_and_first_install_wins() -> None:
    result = config("edge-cases")
    assert status(result, "/usr/lib/modprobe.d/tunnels.conf") == (
        "overridden: overridden by /etc/modprobe.d/tunnels.conf"
    )
    assert status(result, "/etc/modprobe.d/masked.conf") == "masked: link to /dev/null"
    assert result.install_for("tunnel4") is None  # only in the masked vendor file
    sit = result.blocks_loading("sit")
    assert sit is not None and sit.path == "/etc/modprobe.d/tunnels.conf" and sit.line == 2
    tunnel = result.blocks_loading("ip6_tunnel")  # "ip6-tunnel \\\n /bin/false"
    assert tunnel is not None and tunnel.line == 3 and tunnel.args == "/bin/false"
    assert result.blocks_loading("ip6_gre") is None  # "/bin/true; modprobe ..." loads it
    assert result.blocks_loading("ip6_vti") is not None  # echo loads nothing
    assert result.blocks_loading("tunnel6") is None
    assert result.blacklisted("tunnel6") is not None
    assert result.blocks_loading("ipip") is not None  # /run/modprobe.d
    gre = result.alias("ip6gre")
    assert gre is not None and gre.path == "/lib/modprobe.d/gre.alias"


def test_options_for_one_parameter_last_line_wins() -> None:
    result = config("edge-cases")
    found = result.option("ipv6", "disable")
    assert found is not None and found.path == "/etc/modprobe.d/zz-ipv6.conf" and found.line == 1
    assert result.option_value("ipv6", "disable") == "1"
    assert result.option_value("ipv6", "disable_ipv6") == "1"
    assert result.option_value("ipv6", "autoconf") == "0"
    assert result.option_value("ipv6", "nothing") is None
    # /etc/modprobe.conf's lines are parsed but do nothing
    assert result.install_for("ipv6") is None
    ignored_install = [d for d in result.ignored if d.kind == "install"]
    assert ignored_install and ignored_install[0].note


def test_parse_syntax() -> None:
    text = (
        "# comment\n"
        "   # indented comment\n"
        "blacklist\n"  # no module: bad line
        "options foo\n"  # no options: bad line
        "install bar\t/bin/true  --quiet\n"
        "softdep baz pre: a b post: c\n"
        "remove qux /sbin/rmmod qux\n"
        "alias net-pf-10 off extra\n"
        "include /etc/other.conf\n"
        "frobnicate x\n"
        "options a-b c=1 \\\n"
        "  d=2\n"
        "blacklist e\\\\f\n"
    )
    got = [(d.kind, d.module, d.args, d.line) for d in parse_modprobe_text(text, "/f")]
    assert got == [
        ("install", "bar", "/bin/true  --quiet", 5),
        ("softdep", "baz", "pre: a b post: c", 6),
        ("remove", "qux", "/sbin/rmmod qux", 7),
        ("alias", "net_pf_10", "off", 8),
        ("options", "a_b", "c=1   d=2", 11),
        ("blacklist", "e\\f", "", 13),
    ]


def test_install_pattern_matches_with_fnmatch() -> None:
    snapshot = make_snapshot(
        files={
            "/etc/modprobe.d/x.conf": {"text": "install ip6_* /bin/false\ninstall sit /bin/sh\n"}
        },
        dirs={"/etc/modprobe.d": ["x.conf"]},
    )
    result = parse_modprobe(snapshot)
    assert result.blocks_loading("ip6_tunnel") is not None
    assert result.blocks_loading("ip6-gre") is not None
    assert result.softdep_for("sit") is None
    assert result.install_for("sit") is not None and result.blocks_loading("sit") is None


@pytest.mark.parametrize(
    ("command", "noop"),
    [
        ("/bin/true", True),
        ("/bin/false", True),
        ("/usr/bin/true", True),
        ("/usr/bin/false --anything", True),
        ("true", True),
        ("false", True),
        (":", True),
        ("exit 1", True),
        ('/bin/echo "disabled by policy"', True),
        ("/bin/true; /sbin/modprobe --ignore-install sit", False),
        ("/bin/false || /sbin/modprobe --ignore-install sit", False),
        ("/sbin/modprobe --ignore-install sit", False),
        ("/bin/truex", False),
        ("", False),
    ],
)
def test_noop_commands(command: str, noop: bool) -> None:
    assert is_noop_command(command) is noop


def test_underscores_keep_bracket_classes() -> None:
    assert underscores("ip6-gre") == "ip6_gre"
    assert underscores("snd-[a-z]*") == "snd_[a-z]*"


def test_unreadable_directory_is_a_problem() -> None:
    snapshot = make_snapshot(files={"/etc/modprobe.d": {"error": "permission denied"}})
    assert parse_modprobe(snapshot).problems == ("/etc/modprobe.d: permission denied",)


@given(st.text())
def test_parse_never_raises(text: str) -> None:
    for directive in parse_modprobe_text(text, "/f"):
        assert directive.kind and directive.module and directive.line >= 1


@given(st.text(alphabet="installoptbk \t\\\n#-_=:;", max_size=200))
def test_parse_never_raises_on_directive_words(text: str) -> None:
    parse_modprobe_text(text)
