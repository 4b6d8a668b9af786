"""A small netlink client on the standard library: one dump request, its reply, parsed.

Enough of rtnetlink (links, addresses, routes, neighbours) and sock_diag (inet_diag sockets)
for the collectors, without pyroute2 (whose import alone costs more than a whole snapshot).

The layers:

* pure functions on bytes, tested on recorded kernel replies and on arbitrary bytes:
  ``parse_messages`` (nlmsghdr), ``parse_attrs`` (rtattr TLVs), the request builders
  (``ifinfomsg`` …, ``inet_diag_req_v2``) and the decoders (``decode_link`` …), which give a
  message as ``{"<header field>": int, …, "attrs": [[name, value], …]}``, the shape of
  pyroute2's ``msg.dump()``, keeping only the attributes the collectors read;
* ``DumpReader``: the reply of one dump, datagram by datagram, until ``NLMSG_DONE``;
* ``Connection.dump``: send one request, read its reply; ``NetlinkSocket`` talks to the
  kernel, tests replay recorded datagrams through a ``Connection`` of their own.

Malformed input raises ``ParseError`` (a ``ValueError``) and nothing else; an error the kernel
reports raises ``NetlinkError`` (an ``OSError`` with its errno). Replies are bounded in
messages, bytes and time, so a buggy or hostile reply cannot exhaust memory or hang.
"""

from __future__ import annotations

import errno
import os
import socket
import struct
import time
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Tuple, TypeVar

NETLINK_ROUTE = 0
NETLINK_SOCK_DIAG = 4

NLMSG_NOOP = 1
NLMSG_ERROR = 2
NLMSG_DONE = 3
NLMSG_OVERRUN = 4

NLM_F_REQUEST = 0x01
NLM_F_MULTI = 0x02
NLM_F_DUMP_INTR = 0x10  # the table changed during the dump: it may be inconsistent
NLM_F_DUMP = 0x300  # NLM_F_ROOT | NLM_F_MATCH

RTM_NEWLINK, RTM_GETLINK = 16, 18
RTM_NEWADDR, RTM_GETADDR = 20, 22
RTM_NEWROUTE, RTM_GETROUTE = 24, 26
RTM_NEWNEIGH, RTM_GETNEIGH = 28, 30
SOCK_DIAG_BY_FAMILY = 20

MAX_MESSAGES = 1 << 18  # per dump: 262,144 routes, neighbours or sockets
MAX_BYTES = 64 << 20  # per dump, all datagrams together
MAX_DATAGRAM = 8 << 20  # one datagram (a link with many VFs can exceed 32 KiB)
TIMEOUT = 10.0  # seconds for one whole dump
DUMP_ATTEMPTS = 3  # re-dumps when the kernel flags a dump as interrupted

_NLMSGHDR = struct.Struct("=IHHII")  # len, type, flags, seq, pid
_RTATTR = struct.Struct("=HH")  # len, type
_I32 = struct.Struct("=i")
_U32 = struct.Struct("=I")
_IFINFOMSG = struct.Struct("=BxHiII")  # family, type, index, flags, change
_IFADDRMSG = struct.Struct("=BBBBI")  # family, prefixlen, flags, scope, index
_RTMSG = struct.Struct("=BBBBBBBBI")  # family, dst_len, src_len, tos, table, proto, scope, type
_NDMSG = struct.Struct("=BxxxiHBB")  # family, ifindex, state, flags, type
_RTNEXTHOP = struct.Struct("=HBBi")  # len, flags, hops, ifindex
# inet_diag_msg: family, state, timer, retrans, inet_diag_sockid (sport and dport big-endian,
# src, dst, if, cookie), expires, rqueue, wqueue, uid, inode
_INET_DIAG_MSG = struct.Struct("=BBBB2s2s16s16sI8sIIIII")
_INET_DIAG_REQ_V2 = struct.Struct("=BBBxI2s2s16s16sI8s")  # family, protocol, ext, states, id
_NLA_TYPE_MASK = 0x3FFF  # without NLA_F_NESTED and NLA_F_NET_BYTEORDER
_NESTING = 4  # deeper nests than any decoder asks for are refused


class ParseError(ValueError):
    """Bytes that are not a well-formed netlink message (or a reply over the limits)."""


class NetlinkError(OSError):
    """An error the kernel answered with (``NLMSG_ERROR``, or a failed ``NLMSG_DONE``)."""


class Message(NamedTuple):
    type: int
    flags: int
    seq: int
    pid: int
    payload: bytes


def _align(length: int) -> int:
    return (length + 3) & ~3


# --------------------------------------------------------------------------- framing


def parse_messages(data: bytes) -> List[Message]:
    """The netlink messages of one datagram (each ``nlmsghdr`` plus its payload)."""
    messages: List[Message] = []
    offset, end = 0, len(data)
    while offset < end:
        if end - offset < _NLMSGHDR.size:
            raise ParseError(f"truncated nlmsghdr at byte {offset}")
        length, msg_type, flags, seq, pid = _NLMSGHDR.unpack_from(data, offset)
        if length < _NLMSGHDR.size or length > end - offset:
            raise ParseError(f"nlmsg_len {length} at byte {offset} of {end}")
        payload = bytes(data[offset + _NLMSGHDR.size : offset + length])
        messages.append(Message(msg_type, flags, seq, pid, payload))
        offset += _align(length)
    return messages


def parse_attrs(data: bytes) -> List[Tuple[int, bytes]]:
    """``(type, value)`` of each rtattr/nlattr TLV (4-byte aligned; flag bits dropped).

    Fewer than 4 bytes left over are padding, as for the kernel's own ``nla_ok``.
    """
    attrs: List[Tuple[int, bytes]] = []
    offset, end = 0, len(data)
    while end - offset >= _RTATTR.size:
        length, attr_type = _RTATTR.unpack_from(data, offset)
        if length < _RTATTR.size or length > end - offset:
            raise ParseError(f"rta_len {length} at byte {offset} of {end}")
        attrs.append(
            (attr_type & _NLA_TYPE_MASK, bytes(data[offset + _RTATTR.size : offset + length]))
        )
        offset += _align(length)
    return attrs


def request(msg_type: int, seq: int, body: bytes, flags: int = NLM_F_REQUEST | NLM_F_DUMP) -> bytes:
    """One netlink request message: ``nlmsghdr`` (pid 0: the kernel fills it in) and body."""
    padded = body + b"\0" * (_align(len(body)) - len(body))
    return (
        _NLMSGHDR.pack(_NLMSGHDR.size + len(padded), msg_type, flags, seq & 0xFFFFFFFF, 0) + padded
    )


def ifinfomsg(family: int = socket.AF_UNSPEC) -> bytes:
    return _IFINFOMSG.pack(family, 0, 0, 0, 0)


def ifaddrmsg(family: int = socket.AF_UNSPEC) -> bytes:
    return _IFADDRMSG.pack(family, 0, 0, 0, 0)


def rtmsg(family: int) -> bytes:
    """A route dump of every table (``rtm_table`` 0) of ``family``."""
    return _RTMSG.pack(family, 0, 0, 0, 0, 0, 0, 0, 0)


def ndmsg(family: int) -> bytes:
    return _NDMSG.pack(family, 0, 0, 0, 0)


def inet_diag_req_v2(family: int, protocol: int, states: int, ext: int = 0) -> bytes:
    """A ``SOCK_DIAG_BY_FAMILY`` request for the sockets of ``family``/``protocol`` whose state
    bit is in ``states``; any address and port.

    ``ext`` (a u8 bit mask of ``INET_DIAG_*`` attributes to add) cannot ask for
    ``INET_DIAG_SKV6ONLY`` (11): the kernel adds that one by itself to every AF_INET6 socket
    in LISTEN or CLOSE state.
    """
    return _INET_DIAG_REQ_V2.pack(
        family,
        protocol,
        ext,
        states & 0xFFFFFFFF,
        b"\0\0",
        b"\0\0",
        bytes(16),
        bytes(16),
        0,
        bytes(8),
    )


# --------------------------------------------------------------------------- attribute values

Decoder = Callable[[bytes, int], Any]  # (value, nesting depth) -> decoded value


def _string(value: bytes, _depth: int) -> str:
    return value.split(b"\0", 1)[0].decode("utf-8", errors="replace")


def _u8(value: bytes, _depth: int) -> int:
    if len(value) != 1:
        raise ParseError(f"u8 attribute of {len(value)} bytes")
    return value[0]


def _u32(value: bytes, _depth: int) -> int:
    if len(value) != 4:
        raise ParseError(f"u32 attribute of {len(value)} bytes")
    return int(_U32.unpack(value)[0])


def _ip(value: bytes, _depth: int) -> str:
    if len(value) == 4:
        return socket.inet_ntop(socket.AF_INET, value)
    if len(value) == 16:
        return socket.inet_ntop(socket.AF_INET6, value)
    raise ParseError(f"IP address attribute of {len(value)} bytes")


def _lladdr(value: bytes, _depth: int) -> str:
    return ":".join(f"{b:02x}" for b in value)


def _nested(table: Dict[int, Tuple[str, Decoder]]) -> Decoder:
    def decode(value: bytes, depth: int) -> Dict[str, Any]:
        return {"attrs": decode_attrs(value, table, depth + 1)}

    return decode


def decode_attrs(
    data: bytes, table: Dict[int, Tuple[str, Decoder]], depth: int = 0
) -> List[List[Any]]:
    """``[[name, value], …]`` for the attributes named in ``table``; others are left out."""
    if depth > _NESTING:
        raise ParseError("attributes nested too deep")
    found: List[List[Any]] = []
    for attr_type, value in parse_attrs(data):
        known = table.get(attr_type)
        if known is not None:
            found.append([known[0], known[1](value, depth)])
    return found


_LINKINFO_ATTRS: Dict[int, Tuple[str, Decoder]] = {1: ("IFLA_INFO_KIND", _string)}
LINK_ATTRS: Dict[int, Tuple[str, Decoder]] = {
    1: ("IFLA_ADDRESS", _lladdr),
    3: ("IFLA_IFNAME", _string),
    18: ("IFLA_LINKINFO", _nested(_LINKINFO_ATTRS)),
}
ADDR_ATTRS: Dict[int, Tuple[str, Decoder]] = {
    1: ("IFA_ADDRESS", _ip),
    2: ("IFA_LOCAL", _ip),
    3: ("IFA_LABEL", _string),
    8: ("IFA_FLAGS", _u32),  # all 32 bits; ifa_flags in the header keeps the low 8
}
_NEXTHOP_ATTRS: Dict[int, Tuple[str, Decoder]] = {5: ("RTA_GATEWAY", _ip)}


def _multipath(value: bytes, depth: int) -> List[Dict[str, Any]]:
    """RTA_MULTIPATH: ``rtnexthop`` structs, each followed by its own attributes."""
    hops: List[Dict[str, Any]] = []
    offset, end = 0, len(value)
    while end - offset >= _RTNEXTHOP.size:
        length, flags, hops_field, ifindex = _RTNEXTHOP.unpack_from(value, offset)
        if length < _RTNEXTHOP.size or length > end - offset:
            raise ParseError(f"rtnh_len {length} at byte {offset} of {end}")
        attrs = decode_attrs(
            value[offset + _RTNEXTHOP.size : offset + length], _NEXTHOP_ATTRS, depth + 1
        )
        hops.append({"flags": flags, "hops": hops_field, "oif": ifindex, "attrs": attrs})
        offset += _align(length)
    return hops


ROUTE_ATTRS: Dict[int, Tuple[str, Decoder]] = {
    1: ("RTA_DST", _ip),
    4: ("RTA_OIF", _u32),
    5: ("RTA_GATEWAY", _ip),
    9: ("RTA_MULTIPATH", _multipath),
    15: ("RTA_TABLE", _u32),  # rtm_table in the header is 252 (compat) for ids above 255
}
NEIGH_ATTRS: Dict[int, Tuple[str, Decoder]] = {1: ("NDA_DST", _ip), 2: ("NDA_LLADDR", _lladdr)}
DIAG_ATTRS: Dict[int, Tuple[str, Decoder]] = {11: ("INET_DIAG_SKV6ONLY", _u8)}


# --------------------------------------------------------------------------- message decoders


def _fixed(layout: struct.Struct, payload: bytes, name: str) -> Tuple[Any, ...]:
    if len(payload) < layout.size:
        raise ParseError(f"{name} of {len(payload)} bytes, want {layout.size}")
    return layout.unpack_from(payload)


def _decode(
    layout: struct.Struct,
    names: Tuple[str, ...],
    table: Dict[int, Tuple[str, Decoder]],
    payload: bytes,
    what: str,
) -> Dict[str, Any]:
    """A fixed header (its fields named ``names``) followed by attributes decoded by ``table``."""
    msg: Dict[str, Any] = dict(zip(names, _fixed(layout, payload, what)))
    msg["attrs"] = decode_attrs(payload[layout.size :], table)
    return msg


def decode_link(payload: bytes) -> Dict[str, Any]:
    """An RTM_NEWLINK payload: ``ifinfomsg`` fields and attributes."""
    names = ("family", "ifi_type", "index", "flags", "change")
    return _decode(_IFINFOMSG, names, LINK_ATTRS, payload, "ifinfomsg")


def decode_addr(payload: bytes) -> Dict[str, Any]:
    """An RTM_NEWADDR payload: ``ifaddrmsg`` fields and attributes."""
    names = ("family", "prefixlen", "flags", "scope", "index")
    return _decode(_IFADDRMSG, names, ADDR_ATTRS, payload, "ifaddrmsg")


def decode_route(payload: bytes) -> Dict[str, Any]:
    """An RTM_NEWROUTE payload: ``rtmsg`` fields and attributes."""
    names = ("family", "dst_len", "src_len", "tos", "table", "proto", "scope", "type", "flags")
    return _decode(_RTMSG, names, ROUTE_ATTRS, payload, "rtmsg")


def decode_neigh(payload: bytes) -> Dict[str, Any]:
    """An RTM_NEWNEIGH payload: ``ndmsg`` fields and attributes."""
    names = ("family", "ifindex", "state", "flags", "ndm_type")
    return _decode(_NDMSG, names, NEIGH_ATTRS, payload, "ndmsg")


def _sock_address(family: int, raw: bytes) -> Optional[str]:
    if family == socket.AF_INET:
        return socket.inet_ntop(socket.AF_INET, raw[:4])
    if family == socket.AF_INET6:
        return socket.inet_ntop(socket.AF_INET6, raw)
    return None


def decode_inet_diag(payload: bytes) -> Dict[str, Any]:
    """A SOCK_DIAG_BY_FAMILY reply payload: ``inet_diag_msg`` fields and attributes."""
    fields = _fixed(_INET_DIAG_MSG, payload, "inet_diag_msg")
    family, state, timer, retrans, sport, dport, src, dst, ifindex, cookie = fields[:10]
    expires, rqueue, wqueue, uid, inode = fields[10:]
    return {
        "idiag_family": family,
        "idiag_state": state,
        "idiag_timer": timer,
        "idiag_retrans": retrans,
        "idiag_sport": int.from_bytes(sport, "big"),
        "idiag_dport": int.from_bytes(dport, "big"),
        "idiag_src": _sock_address(family, src),
        "idiag_dst": _sock_address(family, dst),
        "idiag_if": ifindex,
        "idiag_cookie": int.from_bytes(cookie, "little"),
        "idiag_expires": expires,
        "idiag_rqueue": rqueue,
        "idiag_wqueue": wqueue,
        "idiag_uid": uid,
        "idiag_inode": inode,
        "attrs": decode_attrs(payload[_INET_DIAG_MSG.size :], DIAG_ATTRS),
    }


def decode_all(
    messages: List[Message], msg_type: int, decoder: Callable[[bytes], Dict[str, Any]]
) -> List[Dict[str, Any]]:
    """The messages of ``msg_type`` decoded; other types are left out."""
    return [decoder(m.payload) for m in messages if m.type == msg_type]


# --------------------------------------------------------------------------- one dump


def _status(payload: bytes, what: str) -> int:
    if len(payload) < _I32.size:
        raise ParseError(f"{what} of {len(payload)} bytes")
    return int(_I32.unpack_from(payload)[0])


def _kernel_error(code: int, what: str) -> NetlinkError:
    number = -code if -4095 <= code < 0 else errno.EIO  # MAX_ERRNO; others are no errno
    return NetlinkError(number, f"{os.strerror(number)} ({what})")


class DumpReader:
    """The reply to one dump request, fed datagram by datagram until ``done``.

    Messages of another sequence number or port are skipped (stale replies). Raises
    ``NetlinkError`` for an error the kernel reports and ``ParseError`` for malformed data or
    a reply beyond ``max_messages``/``max_bytes``.
    """

    def __init__(
        self,
        seq: int,
        port: Optional[int] = None,
        max_messages: int = MAX_MESSAGES,
        max_bytes: int = MAX_BYTES,
    ) -> None:
        self.seq = seq
        self.port = port
        self.max_messages = max_messages
        self.max_bytes = max_bytes
        self.messages: List[Message] = []
        self.done = False
        self.interrupted = False
        self._bytes = 0

    def feed(self, datagram: bytes) -> bool:
        """Take one datagram; True once the dump is complete (later data is ignored)."""
        if self.done:
            return True
        self._bytes += len(datagram)
        if self._bytes > self.max_bytes:
            raise ParseError(f"netlink dump larger than {self.max_bytes} bytes")
        for msg in parse_messages(datagram):
            if msg.seq != self.seq or (self.port is not None and msg.pid != self.port):
                continue
            if msg.flags & NLM_F_DUMP_INTR:
                self.interrupted = True
            if msg.type == NLMSG_DONE:
                # the payload is the dump's status: 0, or a negative errno
                code = _status(msg.payload, "NLMSG_DONE") if msg.payload else 0
                if code < 0:
                    raise _kernel_error(code, "netlink dump failed")
                self.done = True
                break
            if msg.type == NLMSG_ERROR:
                code = _status(msg.payload, "NLMSG_ERROR")
                if code != 0:
                    raise _kernel_error(code, "netlink request refused")
                self.done = True  # an acknowledgement: nothing (more) to dump
                break
            if msg.type == NLMSG_NOOP:
                continue
            if msg.type == NLMSG_OVERRUN:
                raise NetlinkError(errno.ENOBUFS, "netlink reply overrun")
            if len(self.messages) >= self.max_messages:
                raise ParseError(f"netlink dump of more than {self.max_messages} messages")
            self.messages.append(msg)
            if not msg.flags & NLM_F_MULTI:
                self.done = True  # a single-part answer
                break
        return self.done


_Conn = TypeVar("_Conn", bound="Connection")


class Connection:
    """One netlink endpoint that sends requests and receives datagrams.

    ``NetlinkSocket`` is the kernel; tests and the fixture recorder subclass this to replay
    or capture the datagrams.
    """

    port: Optional[int] = None

    def __init__(self) -> None:
        self._seq = int(time.time()) & 0x7FFFFFFF

    def send_request(self, data: bytes) -> None:
        raise NotImplementedError

    def recv_datagram(self, timeout: float) -> bytes:
        raise NotImplementedError

    def close(self) -> None:
        """Release the endpoint (nothing to do here)."""

    def __enter__(self: _Conn) -> _Conn:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def dump(
        self,
        msg_type: int,
        body: bytes,
        timeout: float = TIMEOUT,
        max_messages: int = MAX_MESSAGES,
        max_bytes: int = MAX_BYTES,
    ) -> List[Message]:
        """Send one dump request and return its reply's messages.

        An interrupted dump (the table changed meanwhile) is retried a few times; the last
        attempt is returned as it is.
        """
        for attempt in range(1, DUMP_ATTEMPTS + 1):
            self._seq = (self._seq + 1) & 0xFFFFFFFF
            reader = DumpReader(self._seq, self.port, max_messages, max_bytes)
            self.send_request(request(msg_type, self._seq, body))
            deadline = time.monotonic() + timeout
            while not reader.feed(self.recv_datagram(deadline - time.monotonic())):
                pass
            if not reader.interrupted or attempt == DUMP_ATTEMPTS:
                break
        return reader.messages


class NetlinkSocket(Connection):
    """A netlink socket of ``protocol`` (``NETLINK_ROUTE``, ``NETLINK_SOCK_DIAG``).

    Opening it raises ``OSError`` (e.g. ``EPROTONOSUPPORT`` without sock_diag support).
    """

    def __init__(self, protocol: int) -> None:
        super().__init__()
        self._sock = socket.socket(
            socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, protocol
        )
        try:
            self._sock.bind((0, 0))
            self.port = int(self._sock.getsockname()[0])
        except BaseException:
            self._sock.close()
            raise
        self._buffer = bytearray(64 << 10)

    def close(self) -> None:
        self._sock.close()

    def send_request(self, data: bytes) -> None:
        sent = self._sock.sendto(data, (0, 0))
        if sent != len(data):
            raise NetlinkError(errno.EMSGSIZE, "netlink request sent in part")

    def recv_datagram(self, timeout: float) -> bytes:
        """The next datagram from the kernel; ``TimeoutError``/``socket.timeout`` when none
        comes in ``timeout`` seconds. A datagram bigger than the buffer is peeked at first,
        so it is never truncated."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("netlink reply timed out")
            self._sock.settimeout(left)
            size, _ = self._sock.recvfrom_into(
                self._buffer, len(self._buffer), socket.MSG_PEEK | socket.MSG_TRUNC
            )
            if size > len(self._buffer):
                if size > MAX_DATAGRAM:
                    raise ParseError(f"netlink datagram of {size} bytes")
                self._buffer = bytearray(size)
                continue
            size, sender = self._sock.recvfrom_into(self._buffer, len(self._buffer))
            if sender[0] != 0:
                continue  # only the kernel (port 0) answers requests
            return bytes(self._buffer[:size])
