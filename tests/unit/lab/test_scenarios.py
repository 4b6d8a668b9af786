"""Built-in scenarios are valid data with the documented shape."""

from __future__ import annotations

import pytest

from v6gap.errors import LabError
from v6gap.lab import Listener, scenarios
from v6gap.lab.validate import validate


@pytest.mark.parametrize("name", sorted(scenarios.SCENARIOS))
def test_builtins_validate(name: str) -> None:
    sc = scenarios.get(name)
    validate(sc)
    assert sc.name == name
    assert sc.description


def test_basic_shape() -> None:
    sc = scenarios.basic()
    assert sc.host_names() == ("router", "server", "attacker")
    assert [h.role for h in sc.hosts] == ["router", "server", "attacker"]
    router = sc.host("router")
    assert router.forwarding
    assert router.interfaces[0].kind == "bridge"
    assert set(router.interfaces[0].ports) == {"eth0", "eth1"}
    assert [a.cidr for a in sc.host("server").addresses] == ["2001:db8:1::10/64", "192.0.2.10/26"]
    assert [a.cidr for a in sc.host("attacker").addresses] == ["2001:db8:1::50/64", "192.0.2.50/26"]
    v6only = {lst.port: lst.v6only for lst in sc.host("server").listeners}
    assert v6only == {22: False, 80: None, 8080: True, 5353: False}


def test_gap_filters_ipv4_only() -> None:
    fw = scenarios.gap().host("server").firewall
    assert fw is not None and fw.nft is not None
    assert "table ip " in fw.nft and "ip6" not in fw.nft and "inet" not in fw.nft


def test_routed_has_no_default_route() -> None:
    sc = scenarios.routed()
    for host in sc.hosts:
        for route in host.routes:
            assert not route.dest.startswith(("::/0", "0.0.0.0/0"))
    assert len(sc.host("client").routes) == 2


def test_tunnel_kinds() -> None:
    sc = scenarios.tunnel("ip6tnl")
    iface = sc.host("server").interfaces[0]
    assert (iface.name, iface.kind) == ("tun6", "ip6tnl")
    assert "2002:c000:201::1/48" in [a.cidr for a in sc.host("server").addresses]
    with pytest.raises(LabError, match="tunnel kind"):
        scenarios.tunnel("pptp")


def test_unknown_scenario() -> None:
    with pytest.raises(LabError, match="choose one of basic"):
        scenarios.get("nope")


def test_with_host_and_add_hosts() -> None:
    base = scenarios.pair()
    changed = base.with_host("server", listeners=(Listener("tcp", "::", 1),))
    assert changed.host("server").listeners and not base.host("server").listeners
    with pytest.raises(KeyError):
        base.with_host("ghost", role="x")
    assert [d[0] for d in scenarios.describe()] == list(scenarios.SCENARIOS)
