"""Who owns the host's main nftables ruleset, and v6gap's drop-in table beside it.

When another tool owns the host's main ruleset, v6gap leaves its file alone and puts its own
table into DROPIN_PATH, loaded at boot by its own unit (after nftables, ufw and firewalld have
loaded theirs, before the network comes up) and again whenever nftables.service restarts,
because a main /etc/nftables.conf usually starts with ``flush ruleset``. Only files are
written: the unit is pulled in by a drop-in for multi-user.target, so nothing needs enabling.

Base-chain semantics decide what that means: every base chain on a hook sees the packet, in
priority order. A drop in any of them is final; an accept only ends that chain, and the next
base chain still judges the packet. So the other tool's accepts never open what v6gap's
table drops, and v6gap's accepts never open what the other tool drops: the host gets the
intersection. v6gap's table must therefore admit everything the host needs by itself (its
services, ICMPv6, replies), and its forward chain's default drop stops container traffic
however Docker's or kube-proxy's chains accept it (preflight refuses that: container-forwarding).
"""

from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING, Optional

from v6gap.collect.files import UFW_CONF, shell_assignments, ufw_enabled
from v6gap.model import Interface, Profile, Snapshot

if TYPE_CHECKING:
    from v6gap.analysis.firewall_presence import TableSummary

NFTABLES_PATH = "/etc/nftables.conf"
DROPIN_PATH = "/etc/nftables.d/v6gap.nft"
UNIT_PATH = "/etc/systemd/system/v6gap-nftables.service"
WANTS_PATH = "/etc/systemd/system/multi-user.target.d/v6gap-nftables.conf"
# nftables.service is disabled on a stock Debian: v6gap's main file must also be loaded at boot.
# Its unit says WantedBy=sysinit.target; a drop-in there pulls it in without `systemctl enable`.
BOOT_WANTS_PATH = "/etc/systemd/system/sysinit.target.d/v6gap-nftables.conf"
OWNED_MARK = "# Written by v6gap harden"
CONTAINER_CHAIN_PREFIXES = ("DOCKER", "KUBE-", "CILIUM")
CONTAINER_TABLES = ("docker-bridges", "kube-proxy", "cilium")
# Bridges and overlays that container runtimes and CNIs create (Docker's user networks are
# br-<12 hex digits>; a plain br-lan is not one).
CONTAINER_IFACE = re.compile(
    r"docker\d+|br-[0-9a-f]{12}|cni\d+|cni-.+|flannel\..+|cali.+|vxlan\.calico|cilium_.+"
    r"|kube-.+|weave"
)


def container_interfaces(snapshot: Snapshot) -> list[Interface]:
    return [i for i in snapshot.interfaces if CONTAINER_IFACE.fullmatch(i.name)]


def container_evidence(snapshot: Snapshot) -> list[str]:
    """Why containers look routed through this host: their interfaces and chains.

    Not processes: a snapshot taken inside a network namespace lists the whole machine's, so a
    dockerd elsewhere would count here; Docker's and a CNI's bridges and chains are per
    namespace."""
    found = [f"interface {i.name}" for i in container_interfaces(snapshot)]
    found += container_tables(snapshot)
    return found


def container_prefixes(snapshot: Snapshot) -> tuple[str, ...]:
    """The container networks: prefixes on container interfaces and routes through them."""
    names = {i.name for i in container_interfaces(snapshot)}
    texts = [
        f"{a.address}/{a.prefixlen}"
        for i in container_interfaces(snapshot)
        for a in i.addresses
        if a.scope != "link"
    ]
    texts += [r.dst for r in snapshot.routes if r.dev in names and r.dst != "default"]
    found: list[str] = []
    for text in texts:
        try:
            net = str(ipaddress.ip_network(text, strict=False))
        except ValueError:
            continue
        if net not in found and not ipaddress.ip_network(net).is_link_local:
            found.append(net)
    return tuple(found)


def _tables(snapshot: Snapshot) -> tuple[TableSummary, ...]:
    from v6gap.checks.context import Context  # the firewall summary, read once per snapshot

    return Context(snapshot, Profile.SERVER).firewall.tables


def container_tables(snapshot: Snapshot) -> list[str]:
    """Tables that Docker, kube-proxy or Cilium wrote, described with their chains."""
    found = []
    for table in _tables(snapshot):
        chains = [c for c in table.chains if c.startswith(CONTAINER_CHAIN_PREFIXES)]
        if chains or table.name in CONTAINER_TABLES:
            shown = ", ".join(chains[:3]) or "its own table"
            found.append(f"{table.authority} table {table.family} {table.name}: {shown}")
    return found


def ruleset_owner(snapshot: Optional[Snapshot]) -> Optional[str]:
    """Why another tool owns the main ruleset (evidence), or None when v6gap may own it."""
    if snapshot is None:
        return None
    main = snapshot.files.get(NFTABLES_PATH)
    if main is not None and main.text is not None and OWNED_MARK not in main.text:
        meaningful = [ln for ln in main.text.splitlines() if ln.strip() and ln[:1] != "#"]
        if meaningful:
            return f"{NFTABLES_PATH} was not written by v6gap"
    ufw = snapshot.files.get(UFW_CONF)
    assignments = shell_assignments(ufw.text, {}) if ufw is not None and ufw.text else []
    if ufw_enabled(assignments) is not None:
        return f"ufw is enabled ({UFW_CONF}: ENABLED=yes)"
    # firewalld's own table is per namespace; its process only counts where no ruleset was
    # read (processes are the whole machine's, also for a snapshot of a namespace).
    tables = _tables(snapshot)
    firewalld = [t for t in tables if t.name == "firewalld"]
    if firewalld:
        return f"firewalld's table exists ({firewalld[0].family} firewalld)"
    if "firewalld" in snapshot.processes and snapshot.firewall.nft_json is None:
        return "firewalld is running (no ruleset read)"
    docker = container_tables(snapshot)
    return f"container chains exist ({docker[0]})" if docker else None


def dropin_unit(owner: str, table: str) -> str:
    """The systemd unit that loads the drop-in table at boot."""
    return (
        "# Written by v6gap harden (drop-in table); edit the policy, not this file.\n"
        f"# Another tool owns the main ruleset ({owner}): v6gap's table is loaded beside it.\n"
        "[Unit]\n"
        f"Description=v6gap nftables table ({table}) beside the host's own firewall\n"
        "DefaultDependencies=no\n"
        "Wants=network-pre.target\n"
        "Before=network-pre.target shutdown.target\n"
        "Conflicts=shutdown.target\n"
        "After=local-fs.target nftables.service ufw.service firewalld.service\n"
        "# nftables.service's file usually flushes the whole ruleset: load again after it.\n"
        "PartOf=nftables.service\n"
        f"ConditionPathExists={DROPIN_PATH}\n"
        "\n[Service]\n"
        "Type=oneshot\n"
        "RemainAfterExit=yes\n"
        f"ExecStart=/usr/sbin/nft -f {DROPIN_PATH}\n"
        f"ExecStop=-/usr/sbin/nft delete table {table}\n"
    )
