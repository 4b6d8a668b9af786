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

from typing import Optional

from v6gap.collect.files import UFW_CONF, shell_assignments
from v6gap.model import Profile, Snapshot

NFTABLES_PATH = "/etc/nftables.conf"
DROPIN_PATH = "/etc/nftables.d/v6gap.nft"
UNIT_PATH = "/etc/systemd/system/v6gap-nftables.service"
WANTS_PATH = "/etc/systemd/system/multi-user.target.d/v6gap-nftables.conf"
_OWNED_MARK = "# Written by v6gap harden"
CONTAINER_CHAIN_PREFIXES = ("DOCKER", "KUBE-", "CILIUM")
CONTAINER_TABLES = ("docker-bridges", "kube-proxy", "cilium")


def container_tables(snapshot: Snapshot) -> list[str]:
    """Tables that Docker, kube-proxy or Cilium wrote, described with their chains."""
    from v6gap.checks.context import Context  # the firewall summary, read once per snapshot

    found = []
    for table in Context(snapshot, Profile.SERVER).firewall.tables:
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
    if main is not None and main.text is not None and _OWNED_MARK not in main.text:
        meaningful = [ln for ln in main.text.splitlines() if ln.strip() and ln[:1] != "#"]
        if meaningful:
            return f"{NFTABLES_PATH} was not written by v6gap"
    ufw = snapshot.files.get(UFW_CONF)
    assignments = shell_assignments(ufw.text, {}) if ufw is not None and ufw.text else []
    if any(name == "ENABLED" and value == "yes" for name, value, _ in assignments):
        return f"ufw is enabled ({UFW_CONF}: ENABLED=yes)"
    if "firewalld" in snapshot.processes:
        return "firewalld is running"
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
