"""Running process names and the well-known executables that matter to IPv6 exposure."""

from __future__ import annotations

from typing import Dict, Iterable, List, Tuple

from v6gap.collect import Partial
from v6gap.collect.host import Host

KNOWN_BINARIES = (
    "/usr/sbin/miredo",
    "/usr/sbin/ufw",
    "/usr/bin/firewall-cmd",
    "/usr/sbin/firewalld",
    "/usr/bin/dockerd",
    "/usr/sbin/nft",
    "/usr/sbin/iptables",
    "/usr/sbin/iptables-legacy",
    "/usr/sbin/radvd",
    "/usr/bin/kubelet",
    "/usr/sbin/sshd",
)


def parse_comms(comms: Iterable[str]) -> Tuple[str, ...]:
    """Sorted unique process names from ``/proc/<pid>/comm`` contents."""
    return tuple(sorted({c.strip() for c in comms if c.strip()}))


def _comms(host: Host) -> List[str]:
    found: List[str] = []
    for name in host.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            found.append(host.read_text(f"/proc/{name}/comm", limit=4096))
        except (OSError, ValueError):
            continue  # exited meanwhile
    return found


def collect_processes(host: Host) -> Partial:
    """``processes`` (live only: names of the host's pid namespace) and ``binaries`` present."""
    fields: Dict[str, object] = {
        "binaries": tuple(path for path in KNOWN_BINARIES if host.exists(path))
    }
    missing: Dict[str, str] = {}
    if host.is_image:
        missing["processes"] = "image: no running system"
        return fields, missing
    try:
        fields["processes"] = parse_comms(_comms(host))
    except OSError as exc:
        missing["processes"] = f"/proc: {exc.strerror or exc} (mount /proc)"
    return fields, missing
