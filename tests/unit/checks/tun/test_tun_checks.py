"""TUN-01..04 on snapshot data: a passing and a failing example for each, side by side."""

from __future__ import annotations

from typing import Any

from tests.unit.analysis_fw.rulesets import recorded_firewall
from tests.unit.checks.helpers import judge
from v6gap.checks.tun import (
    teredo_client_absent,
    tunnel_modules_blocked,
    tunnels_absent,
    unused_tunnel_traffic_refused,
)
from v6gap.checks.tun._tunnels import tunnel_address_kind
from v6gap.model import Status

ALL_BLOCKED = "".join(
    f"install {m} /bin/false\n" for m in ("sit", "ip6_tunnel", "tunnel6", "ip6_gre")
)
MODULAR = {
    "CONFIG_MODULES": "y",
    "CONFIG_IPV6": "y",
    "CONFIG_IPV6_SIT": "m",
    "CONFIG_IPV6_TUNNEL": "m",
    "CONFIG_INET6_TUNNEL": "m",
    "CONFIG_IPV6_GRE": "m",
}


def _modprobe(text: str, name: str = "tunnels.conf") -> dict[str, Any]:
    return {
        "files": {f"/etc/modprobe.d/{name}": {"text": text}},
        "dirs": {"/etc/modprobe.d": [name]},
    }


def _kernel(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "kernel_config": dict(MODULAR),
        "modules_loaded": ("ext4",),
        "modules_builtin": ("ipv6",),
    }
    fields.update(overrides)
    return fields


# --------------------------------------------------------------------------- TUN-01


def test_tun01_passes_when_every_module_is_blocked() -> None:
    result = judge(tunnel_modules_blocked.CHECK, **_kernel(), **_modprobe(ALL_BLOCKED))
    assert result.status is Status.PASS
    assert "sit: /etc/modprobe.d/tunnels.conf:1 install sit /bin/false" in result.evidence


def test_tun01_fails_naming_the_loadable_module() -> None:
    text = ALL_BLOCKED.replace("install sit /bin/false\n", "blacklist sit\n")
    result = judge(tunnel_modules_blocked.CHECK, **_kernel(), **_modprobe(text))
    assert result.status is Status.FAIL
    assert [(s.name, s.value) for s in result.subjects] == [("sit", "loadable")]
    assert any("only stops loading by alias" in e for e in result.evidence)
    assert "install sit /bin/false" in (result.remediation or "")


def test_tun01_loaded_module_fails_even_with_an_install_line() -> None:
    fields = _kernel(modules_loaded=("sit", "tunnel4"))
    result = judge(tunnel_modules_blocked.CHECK, **fields, **_modprobe(ALL_BLOCKED))
    assert result.status is Status.FAIL
    assert [(s.name, s.value) for s in result.subjects] == [("sit", "loaded")]


def test_tun01_built_in_is_its_own_reason() -> None:
    config = dict(MODULAR, CONFIG_IPV6_SIT="y")
    result = judge(
        tunnel_modules_blocked.CHECK, **_kernel(kernel_config=config), **_modprobe(ALL_BLOCKED)
    )
    assert result.status is Status.FAIL
    assert [(s.name, s.value) for s in result.subjects] == [("sit", "built-in")]
    assert "modprobe cannot block it" in (result.remediation or "")


def test_tun01_kernel_without_the_options_passes() -> None:
    # This machine: no module support, CONFIG_IPV6_SIT off, the others not even listed.
    config = {"CONFIG_MODULES": "n", "CONFIG_IPV6": "y", "CONFIG_IPV6_SIT": "n"}
    result = judge(
        tunnel_modules_blocked.CHECK,
        kernel_config=config,
        modules_loaded=(),
        sysctl_notes={"modules_loaded": "no /proc/modules: this kernel has no loadable modules"},
        unavailable={"modules_builtin": "no modules.builtin"},
    )
    assert result.status is Status.PASS
    assert any("CONFIG_IPV6_SIT is not set" in e for e in result.evidence)
    assert any("absent from the kernel config" in e for e in result.evidence)


def test_tun01_no_module_support_and_nothing_known_is_unknown() -> None:
    result = judge(
        tunnel_modules_blocked.CHECK,
        modules_loaded=(),
        sysctl_notes={"modules_loaded": "no /proc/modules: this kernel has no loadable modules"},
        unavailable={"kernel_config": "not found", "modules_builtin": "not found"},
    )
    assert result.status is Status.UNKNOWN


# --------------------------------------------------------------------------- TUN-02

ETH0 = {
    "name": "eth0",
    "index": 2,
    "up": True,
    "addresses": [
        {"family": "ipv6", "address": "2001:db8::10", "prefixlen": 64},
        {"family": "ipv6", "address": "fe80::1", "prefixlen": 64, "scope": "link"},
    ],
}


def test_tun02_passes_without_tunnels_and_ignores_a_down_fallback_device() -> None:
    sit0 = {"name": "sit0", "index": 3, "kind": "sit", "up": False}
    result = judge(tunnels_absent.CHECK, interfaces=[ETH0, sit0])
    assert result.status is Status.PASS
    assert any("sit0: fallback device" in e for e in result.evidence)


def test_tun02_fails_on_a_6in4_tunnel_and_a_6to4_address() -> None:
    tunnel = {
        "name": "he-ipv6",
        "index": 4,
        "kind": "sit",
        "up": True,
        "addresses": [{"family": "ipv6", "address": "2002:c000:201::1", "prefixlen": 16}],
    }
    result = judge(tunnels_absent.CHECK, interfaces=[ETH0, tunnel])
    assert result.status is Status.FAIL
    kinds = {(s.kind, s.value) for s in result.subjects}
    assert kinds == {("interface", "sit"), ("address", "6to4")}
    assert "sudo ip link delete he-ipv6" in (result.remediation or "")
    assert "no tunnel allow-list" in (result.remediation or "")


def test_tun02_gre_carrying_ipv6_counts() -> None:
    gre = {
        "name": "gre1",
        "index": 5,
        "kind": "gre",
        "up": True,
        "addresses": [{"family": "ipv6", "address": "2001:db8:1::1", "prefixlen": 64}],
    }
    assert judge(tunnels_absent.CHECK, interfaces=[gre]).status is Status.FAIL


def test_tun02_image_and_missing_interfaces_are_unknown() -> None:
    assert judge(tunnels_absent.CHECK, source="root").status is Status.UNKNOWN
    missing = judge(tunnels_absent.CHECK, unavailable={"interfaces": "netlink: denied"})
    assert missing.status is Status.UNKNOWN and "netlink: denied" in missing.reason


def test_tunnel_address_forms() -> None:
    assert tunnel_address_kind("2002:c000:0201::1") == "6to4"
    assert tunnel_address_kind("2001:0:4136:e378:8000:63bf:3fff:fdd2") == "Teredo"
    assert tunnel_address_kind("2001:db8::1") is None  # 2001:db8::/32 is not Teredo
    assert tunnel_address_kind("fe80::5efe:c000:201") == "ISATAP"
    assert tunnel_address_kind("2001:db8::200:5efe:c000:201") == "ISATAP"
    assert tunnel_address_kind("2001:db8::5efe:1") is None


# --------------------------------------------------------------------------- TUN-03


def test_tun03_passes_when_miredo_is_absent() -> None:
    result = judge(teredo_client_absent.CHECK, binaries=["/usr/sbin/sshd"], processes=["sshd"])
    assert result.status is Status.PASS


def test_tun03_fails_when_miredo_runs() -> None:
    result = judge(
        teredo_client_absent.CHECK,
        binaries=["/usr/sbin/miredo"],
        processes=["miredo"],
        files={"/etc/miredo.conf": {"text": "InterfaceName teredo\n"}},
    )
    assert result.status is Status.FAIL
    assert {(s.name, s.value) for s in result.subjects} == {
        ("miredo", "installed"),
        ("miredo", "running"),
    }


def test_tun03_unknown_processes_on_a_live_host_is_not_a_pass() -> None:
    result = judge(teredo_client_absent.CHECK, unavailable={"processes": "/proc: not mounted"})
    assert result.status is Status.UNKNOWN
    image = judge(
        teredo_client_absent.CHECK,
        source="root",
        unavailable={"processes": "image: no running system"},
    )
    assert image.status is Status.PASS  # an image is judged on what is installed


# --------------------------------------------------------------------------- TUN-04


def test_tun04_fails_when_nothing_filters_ipv4_and_tunnels_are_unused() -> None:
    result = judge(
        unused_tunnel_traffic_refused.CHECK, interfaces=[ETH0], firewall=recorded_firewall("empty")
    )
    assert result.status is Status.FAIL
    assert {s.name for s in result.subjects} == {"protocol 41", "UDP 3544"}
    assert "ip protocol 41 drop" in (result.remediation or "")


def test_tun04_passes_when_the_tunnels_are_in_use() -> None:
    teredo = {
        "name": "teredo",
        "index": 6,
        "kind": "tun",
        "up": True,
        "addresses": [
            {"family": "ipv6", "address": "2001:0:4136:e378:8000:63bf:3fff:fdd2", "prefixlen": 32}
        ],
    }
    sit = {"name": "6in4", "index": 7, "kind": "sit", "up": True}
    result = judge(
        unused_tunnel_traffic_refused.CHECK,
        interfaces=[ETH0, teredo, sit],
        firewall=recorded_firewall("empty"),
    )
    assert result.status is Status.PASS


def test_tun04_ipv4_policy_drop_refuses_tunnel_traffic() -> None:
    result = judge(
        unused_tunnel_traffic_refused.CHECK,
        interfaces=[ETH0],
        firewall=recorded_firewall("v4-ssh-only-v6-empty"),
    )
    assert result.status is Status.PASS
    assert any(e.startswith("IPv4 protocol 41: drop") for e in result.evidence)


def test_tun04_final_reject_refuses_tunnel_traffic_too() -> None:
    result = judge(
        unused_tunnel_traffic_refused.CHECK,
        interfaces=[ETH0],
        firewall=recorded_firewall("inet-accept-final-reject"),
    )
    assert result.status is Status.PASS, result


def test_tun04_docker_host_input_accepts_tunnel_traffic() -> None:
    """Docker filters forwarding, not the host's input: protocol 41 and UDP 3544 get in."""
    result = judge(
        unused_tunnel_traffic_refused.CHECK,
        interfaces=[ETH0],
        firewall=recorded_firewall("docker-published-port-iptables"),
    )
    assert result.status is Status.FAIL
    assert {s.name for s in result.subjects} == {"protocol 41", "UDP 3544"}
    assert "ip protocol 41 drop" in (result.remediation or "")
