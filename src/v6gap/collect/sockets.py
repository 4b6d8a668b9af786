"""Listening TCP and bound UDP sockets of both families, with their owning process.

sock_diag (``rtnl``, ``SOCK_DIAG_BY_FAMILY``) is the source because only it reports
``IPV6_V6ONLY`` (``INET_DIAG_SKV6ONLY``: 0 dual-stack, 1 IPv6 only; the kernel adds it to every
AF_INET6 socket in LISTEN or CLOSE state); ``/proc/net/tcp6`` cannot tell the two apart, so the
fallback leaves ``v6only`` as None and says so under ``sockets.v6only``.
The owner is the lowest pid holding a ``socket:[inode]`` link in ``/proc/<pid>/fd``.
"""

from __future__ import annotations

import re
import socket
import sys
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

from v6gap.collect import Partial, rtnl
from v6gap.collect.host import Host

TCP_LISTEN = 10  # SS_LISTEN / TCP_LISTEN
UDP_UNCONNECTED = 7  # TCP_CLOSE: a bound UDP socket with no peer
_WANTED_STATE = {"tcp": TCP_LISTEN, "udp": UDP_UNCONNECTED}
_FAMILIES: Dict[int, str] = {int(socket.AF_INET): "ipv4", int(socket.AF_INET6): "ipv6"}
_PROTOS = {"tcp": socket.IPPROTO_TCP, "udp": socket.IPPROTO_UDP}
# (proto, family, /proc/net file)
PROC_NET_FILES = (
    ("tcp", "ipv4", "tcp"),
    ("tcp", "ipv6", "tcp6"),
    ("udp", "ipv4", "udp"),
    ("udp", "ipv6", "udp6"),
)
_SOCKET_LINK = re.compile(r"^socket:\[(\d+)\]$")
_HEX = re.compile(r"^[0-9A-Fa-f]+$")

Owner = Tuple[int, Optional[str]]  # pid, comm


# --------------------------------------------------------------------------- pure parsers


def parse_diag_message(msg: Mapping[str, Any], proto: str) -> Optional[Dict[str, Any]]:
    """A ``Socket`` dict plus ``inode`` from one inet_diag message (``rtnl.decode_inet_diag``);
    None for sockets not in the wanted state (TCP LISTEN, unconnected UDP)."""
    family = _FAMILIES.get(int(msg.get("idiag_family") or 0))
    if family is None or msg.get("idiag_state") != _WANTED_STATE.get(proto):
        return None
    entry: Dict[str, Any] = {
        "proto": proto,
        "family": family,
        "address": str(msg.get("idiag_src")),
        "port": int(msg.get("idiag_sport") or 0),
        "inode": int(msg.get("idiag_inode") or 0),
    }
    if family == "ipv6":
        v6only = None
        for item in msg.get("attrs") or ():
            if item[0] == "INET_DIAG_SKV6ONLY":
                v6only = bool(item[1])
        entry["v6only"] = v6only
    return entry


def _hex_address(text: str, family: str, byteorder: str) -> Optional[str]:
    """A /proc/net address: 32-bit words in the kernel's (host) byte order."""
    size = 4 if family == "ipv4" else 16
    if len(text) != size * 2 or not _HEX.match(text):
        return None
    raw = bytes.fromhex(text)
    little = byteorder == "little"
    words = b"".join(raw[i : i + 4][::-1] if little else raw[i : i + 4] for i in range(0, size, 4))
    return socket.inet_ntop(socket.AF_INET if family == "ipv4" else socket.AF_INET6, words)


def parse_proc_net_line(
    line: str, proto: str, family: str, byteorder: str = sys.byteorder
) -> Optional[Dict[str, Any]]:
    """A ``Socket`` dict plus ``inode`` from one /proc/net/{tcp,udp}[6] line; None for the
    header, sockets in other states and anything malformed (never raises)."""
    fields = line.split()
    if len(fields) < 10 or not fields[0].endswith(":") or proto not in _WANTED_STATE:
        return None
    local, _, port_hex = fields[1].partition(":")
    state_hex, inode_text = fields[3], fields[9]
    if not (_HEX.match(port_hex) and _HEX.match(state_hex) and inode_text.isdigit()):
        return None
    if len(port_hex) > 4 or int(state_hex, 16) != _WANTED_STATE[proto]:
        return None
    address = _hex_address(local, family, byteorder)
    if address is None:
        return None
    entry: Dict[str, Any] = {
        "proto": proto,
        "family": family,
        "address": address,
        "port": int(port_hex, 16),
        "inode": int(inode_text),
    }
    if family == "ipv6":
        entry["v6only"] = None
    return entry


def parse_proc_net(
    text: str, proto: str, family: str, byteorder: str = sys.byteorder
) -> List[Dict[str, Any]]:
    """Every wanted socket of one /proc/net table."""
    found = (parse_proc_net_line(line, proto, family, byteorder) for line in text.splitlines())
    return [entry for entry in found if entry is not None]


def parse_fd_link(link: Optional[str]) -> Optional[int]:
    """The inode of a ``socket:[inode]`` fd link, else None."""
    match = _SOCKET_LINK.match(link or "")
    return int(match.group(1)) if match else None


def attach_owners(
    entries: Iterable[Dict[str, Any]], owners: Mapping[int, Owner]
) -> List[Dict[str, Any]]:
    """``Socket`` dicts: inode replaced by pid/process, duplicates dropped, sorted."""
    result: Dict[Tuple[Any, ...], Dict[str, Any]] = {}
    for entry in entries:
        sock = {k: v for k, v in entry.items() if k != "inode"}
        owner = owners.get(int(entry.get("inode") or 0))
        if owner is not None:
            sock["pid"] = owner[0]
            if owner[1] is not None:
                sock["process"] = owner[1]
        key = tuple(sorted((k, str(v)) for k, v in sock.items()))
        result.setdefault(key, sock)
    return sorted(
        result.values(),
        key=lambda s: (s["proto"], s["family"], s["port"], s["address"], s.get("pid") or 0),
    )


# --------------------------------------------------------------------------- collector


def _diag_entries() -> List[Dict[str, Any]]:
    """Wanted sockets of both protocols and families from sock_diag; raises ``OSError`` or
    ``ValueError`` (``rtnl.ParseError``)."""
    entries: List[Dict[str, Any]] = []
    with rtnl.NetlinkSocket(rtnl.NETLINK_SOCK_DIAG) as diag:
        for proto, proto_num in _PROTOS.items():
            for family_num in _FAMILIES:
                body = rtnl.inet_diag_req_v2(family_num, proto_num, 1 << _WANTED_STATE[proto])
                replies = diag.dump(rtnl.SOCK_DIAG_BY_FAMILY, body)
                for msg in rtnl.decode_all(
                    replies, rtnl.SOCK_DIAG_BY_FAMILY, rtnl.decode_inet_diag
                ):
                    entry = parse_diag_message(msg, proto)
                    if entry is not None:
                        entries.append(entry)
    return entries


def _proc_net_dir(host: Host) -> str:
    # /proc/net follows the main thread's namespace; thread-self follows the caller's.
    return "/proc/thread-self/net" if host.exists("/proc/thread-self/net") else "/proc/net"


def _proc_net_entries(host: Host, missing: Dict[str, str]) -> List[Dict[str, Any]]:
    base = _proc_net_dir(host)
    entries: List[Dict[str, Any]] = []
    unreadable: List[str] = []
    for proto, family, name in PROC_NET_FILES:
        try:
            text = host.read_text(f"{base}/{name}", limit=64 << 20)
        except FileNotFoundError:
            if family == "ipv6" and not host.exists("/proc/sys/net/ipv6"):
                continue  # IPv6 disabled at boot: there are no IPv6 sockets to list
            unreadable.append(f"{base}/{name}: missing")
            continue
        except (OSError, ValueError) as exc:
            unreadable.append(f"{base}/{name}: {exc}")
            continue
        entries.extend(parse_proc_net(text, proto, family))
    if unreadable:
        missing["sockets"] = "; ".join(unreadable)
    return entries


def find_socket_owners(host: Host, inodes: Iterable[int]) -> Tuple[Dict[int, Owner], int]:
    """inode -> (lowest pid, comm) for the given socket inodes, and how many pids' fd
    tables could not be read."""
    wanted = set(inodes)
    owners: Dict[int, Owner] = {}
    denied = 0
    if not wanted:
        return owners, denied
    try:
        pids = sorted(int(n) for n in host.listdir("/proc") if n.isdigit())
    except OSError:
        return owners, denied
    for pid in pids:
        try:
            fds = host.listdir(f"/proc/{pid}/fd")
        except PermissionError:
            denied += 1
            continue
        except OSError:
            continue  # the process exited meanwhile
        links = [host.readlink(f"/proc/{pid}/fd/{fd}") for fd in fds]
        if any(link is None for link in links):
            denied += 1  # every fd entry is a link: None means it could not be read
        found = [
            inode
            for inode in (parse_fd_link(link) for link in links)
            if inode in wanted and inode not in owners
        ]
        if found:
            comm = _comm(host, pid)
            for inode in found:
                owners[inode] = (pid, comm)
            if len(owners) == len(wanted):
                break
    return owners, denied


def _comm(host: Host, pid: int) -> Optional[str]:
    try:
        return host.read_text(f"/proc/{pid}/comm", limit=4096).strip() or None
    except (OSError, ValueError):
        return None


def collect_sockets(host: Host) -> Partial:
    """``sockets``: listening TCP and bound UDP sockets of both families, with owners."""
    if host.is_image:
        return {}, {"sockets": "image: no running system"}
    missing: Dict[str, str] = {}
    try:
        entries = _diag_entries()
    except (OSError, ValueError) as exc:  # all that rtnl raises; any failure: use /proc/net
        entries = _proc_net_entries(host, missing)
        if "sockets" in missing:
            return {}, missing
        missing["sockets.v6only"] = (
            f"sock_diag unavailable ({exc or type(exc).__name__}): read /proc/net instead, "
            "which cannot tell dual-stack from IPv6-only sockets"
        )
    owners, denied = find_socket_owners(host, (int(e["inode"]) for e in entries))
    unowned = [e for e in entries if int(e["inode"]) not in owners and e["inode"]]
    if unowned and denied:
        missing["sockets.process"] = (
            f"owner of {len(unowned)} socket(s) unknown: the /proc/<pid>/fd links of {denied} "
            "process(es) could not be read (run as root)"
        )
    return {"sockets": attach_owners(entries, owners)}, missing
