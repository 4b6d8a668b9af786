"""Built-in scenarios, and the pieces tests combine into their own.

``basic`` is the product's default lab: a router namespace holds a bridge joining the server and
the attacker on one segment, so the attacker is on-link with the server (rogue RAs, NDP spoofing,
scans over both families) and the router is the segment's legitimate router.

    router (forwarding, br0 = eth0 + eth1: 2001:db8:1::1/64, 192.0.2.1/26)
      eth0 ── server eth0   2001:db8:1::10/64, 192.0.2.10/26
      eth1 ── attacker eth0 2001:db8:1::50/64, 192.0.2.50/26
"""

from __future__ import annotations

from typing import Callable, Dict, List, Tuple

from v6gap.errors import LabError
from v6gap.lab.plan import segment
from v6gap.lab.scenario import Address, Firewall, Host, Interface, Link, Listener, Route, Scenario

SEG1 = segment(1)
SEG2 = segment(2)

# The listeners of the basic server: one of each scope an audit must tell apart.
SERVER_LISTENERS = (
    Listener("tcp", "::", 22, v6only=False, name="lab-ssh"),  # dual-stack, like sshd
    Listener("tcp", "0.0.0.0", 80, name="lab-web"),  # IPv4 only
    Listener("tcp", "::", 8080, v6only=True, name="lab-admin"),  # IPv6 only: EXP-02's case
    Listener("udp", "::", 5353, v6only=False, name="lab-mdns"),  # dual-stack UDP
)

# IPv4 filtered, IPv6 wide open: the gap v6gap exists to find (FW-01, EXP-03).
IPV4_ONLY_NFT = """\
table ip v6gap_lab {
	chain input {
		type filter hook input priority filter; policy drop;
		iif "lo" accept
		ct state established,related accept
		icmp type echo-request accept
		tcp dport 22 accept
	}
}
"""


def basic() -> Scenario:
    """server and attacker on one bridged segment behind a router; the server has listeners."""
    router = Host(
        "router",
        role="router",
        forwarding=True,
        interfaces=(Interface("br0", "bridge", ports=("eth0", "eth1")),),
        addresses=SEG1.addresses("br0", 1),
    )
    server = Host(
        "server", role="server", addresses=SEG1.addresses("eth0", 10), listeners=SERVER_LISTENERS
    )
    attacker = Host("attacker", role="attacker", addresses=SEG1.addresses("eth0", 50))
    return Scenario(
        "basic",
        hosts=(router, server, attacker),
        links=(Link("router", "server"), Link("router", "attacker")),
        description=basic.__doc__ or "",
    )


def pair(a: str = "client", b: str = "server") -> Scenario:
    """two hosts on one link: a is ::1/.1, b is ::2/.2 of segment 1."""
    return Scenario(
        "pair",
        hosts=(
            Host(a, role="client", addresses=SEG1.addresses("eth0", 1)),
            Host(b, role="server", addresses=SEG1.addresses("eth0", 2)),
        ),
        links=(Link(a, b),),
        description=pair.__doc__ or "",
    )


def routed() -> Scenario:
    """client - router - server over two segments, routed (forward path) in both families."""

    def routes_via(gw: Tuple[Address, Address], dest: Tuple[str, str]) -> Tuple[Route, Route]:
        return (Route(dest[0], gw[0].cidr.split("/")[0]), Route(dest[1], gw[1].cidr.split("/")[0]))

    net1 = (str(SEG1.ipv6), str(SEG1.ipv4))
    net2 = (str(SEG2.ipv6), str(SEG2.ipv4))
    return Scenario(
        "routed",
        hosts=(
            Host(
                "client",
                role="client",
                addresses=SEG1.addresses("eth0", 10),
                routes=routes_via(SEG1.addresses("eth0", 1), net2),
            ),
            Host(
                "router",
                role="router",
                forwarding=True,
                addresses=SEG1.addresses("eth0", 1) + SEG2.addresses("eth1", 1),
            ),
            Host(
                "server",
                role="server",
                addresses=SEG2.addresses("eth0", 10),
                routes=routes_via(SEG2.addresses("eth0", 1), net1),
            ),
        ),
        links=(Link("client", "router"), Link("router", "server")),
        description=routed.__doc__ or "",
    )


def gap() -> Scenario:
    """basic, with an IPv4-only firewall on the server: IPv6 reaches what IPv4 cannot."""
    base = basic()
    return Scenario(
        "gap",
        hosts=base.with_host("server", firewall=Firewall(nft=IPV4_ONLY_NFT)).hosts,
        links=base.links,
        description=gap.__doc__ or "",
    )


def _tunnel_args(kind: str) -> Tuple[str, ...]:
    v4 = ("local", SEG1.v4(2).split("/")[0], "remote", SEG1.v4(1).split("/")[0])
    v6 = ("local", SEG1.v6(2).split("/")[0], "remote", SEG1.v6(1).split("/")[0])
    args: Dict[str, Tuple[str, ...]] = {
        "sit": v4,
        "ipip": v4,
        "gre": v4,
        "ip6tnl": ("mode", "ip6ip6", *v6),
        "ip6gre": v6,
        "vxlan": ("id", "42", *v6, "dstport", "4789"),
    }
    if kind not in args:
        raise LabError(f"tunnel kind {kind!r}: choose one of {', '.join(sorted(args))}")
    return args[kind]


def tunnel(kind: str = "vxlan") -> Scenario:
    """pair, the server with a 6to4 address (2002:c000:201::1/48) and a tunnel interface tun6.

    ``kind`` is one of sit, ipip, gre, ip6tnl, ip6gre, vxlan; the kernel decides which exist
    (``v6gap lab kinds``). The default, vxlan, is the one IPv6-capable tunnel the development
    kernel has; building an absent kind fails with a ``LabError`` naming the kinds present.
    """
    base = pair()
    six_to_four = Address("eth0", "2002:c000:201::1/48")
    return Scenario(
        "tunnel",
        hosts=base.with_host(
            "server",
            addresses=(*base.host("server").addresses, six_to_four),
            interfaces=(Interface("tun6", kind, args=_tunnel_args(kind)),),
        ).hosts,
        links=base.links,
        description=tunnel.__doc__ or "",
    )


SCENARIOS: Dict[str, Callable[[], Scenario]] = {
    "basic": basic,
    "pair": pair,
    "routed": routed,
    "gap": gap,
    "tunnel": tunnel,
}


def get(name: str) -> Scenario:
    """A built-in scenario by name; ``LabError`` naming the choices otherwise."""
    try:
        return SCENARIOS[name]()
    except KeyError:
        raise LabError(f"no scenario {name!r}: choose one of {', '.join(SCENARIOS)}") from None


def describe() -> List[Tuple[str, str]]:
    """(name, one-line description) of each built-in scenario."""
    return [(name, (fn.__doc__ or "").strip().splitlines()[0]) for name, fn in SCENARIOS.items()]
