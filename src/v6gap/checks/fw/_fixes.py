"""Paste-able fixes the FW (and EXP) checks share: an IPv6 input path that defaults to deny.

Written for the tool the host already uses for IPv4 (iptables or nftables), keeping SSH, the
loopback and all of ICMPv6 (neighbour discovery and path-MTU discovery need it) open, with the
default-deny step last so a failed paste cannot lock anyone out.
"""

from __future__ import annotations

from typing import Optional

from v6gap.analysis.firewall_presence import FirewallPresence

IP6TABLES_INPUT = """\
# Mirror the IPv4 input rules for IPv6; review the ports first. The policy is set last.
sudo ip6tables -A INPUT -i lo -j ACCEPT
sudo ip6tables -A INPUT -s ::1/128 ! -i lo -j DROP
sudo ip6tables -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
sudo ip6tables -A INPUT -m conntrack --ctstate INVALID -j DROP
sudo ip6tables -A INPUT -p ipv6-icmp -j ACCEPT
sudo ip6tables -A INPUT -p tcp --dport 22 -j ACCEPT
sudo ip6tables -P INPUT DROP
# persist: Debian/Ubuntu (iptables-persistent): sudo sh -c 'ip6tables-save > /etc/iptables/rules.v6'
#          RHEL (iptables-services): sudo service ip6tables save"""

NFT_INPUT = """\
cat <<'EOF' > /tmp/v6gap-ipv6-input.nft
table ip6 v6gap_filter {
	chain input {
		type filter hook input priority filter; policy drop;
		iif "lo" accept
		ip6 saddr ::1 drop
		ct state established,related accept
		ct state invalid drop
		meta l4proto ipv6-icmp accept
		tcp dport 22 accept
	}
}
EOF
# add the ports IPv4 accepts, then check and load; persist by including it from /etc/nftables.conf
sudo nft -c -f /tmp/v6gap-ipv6-input.nft && sudo nft -f /tmp/v6gap-ipv6-input.nft"""


def ipv6_input_fix(presence: Optional[FirewallPresence] = None) -> str:
    """The ip6tables fix when IPv4 is filtered through iptables only, else the nftables one."""
    if presence is not None:
        v4_tables = [t for t in presence.tables if t.family in ("ip", "inet") and t.in_use]
        if v4_tables and all(t.authority.startswith("iptables") for t in v4_tables):
            return IP6TABLES_INPUT
    return NFT_INPUT
