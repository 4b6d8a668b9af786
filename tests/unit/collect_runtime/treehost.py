"""A live-looking ``Host`` that answers from a recorded tree and recorded command outputs."""

from __future__ import annotations

import json
import os
import socket
import struct
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple, Union

from v6gap.collect import rtnl
from v6gap.collect.host import Host

RECORDED = Path(__file__).resolve().parents[2] / "fixtures" / "recorded"

Answer = Union[Tuple[int, str, str], List[Any], BaseException]


class TreeHost(Host):
    """``is_image`` stays False (a live host); files come from ``tree``, tools from ``commands``
    (``"argv joined by spaces" -> (status, stdout, stderr)`` or an exception to raise)."""

    def __init__(self, tree: Path, commands: Optional[Mapping[str, Answer]] = None) -> None:
        super().__init__("/")
        self.tree = str(tree)
        self.commands: Dict[str, Answer] = dict(commands or {})
        self.calls: List[List[str]] = []

    def resolve(self, path: str) -> str:
        return os.path.join(self.tree, path.lstrip("/"))

    def run(self, argv: List[str], timeout: float = 20.0) -> Tuple[int, str, str]:
        self.calls.append(list(argv))
        answer = self.commands.get(" ".join(argv))
        if answer is None:
            raise FileNotFoundError(argv[0])
        if isinstance(answer, BaseException):
            raise answer
        status, out, err = answer
        return int(status), str(out), str(err)


def recorded_json(*parts: str) -> Any:
    return json.loads(RECORDED.joinpath(*parts).read_text())


def recorded_commands(*parts: str) -> Dict[str, Tuple[int, str, str]]:
    return {k: (v[0], v[1], v[2]) for k, v in recorded_json(*parts).items()}


# --------------------------------------------------------------------------- netlink replay

_NLMSGHDR = struct.Struct("=IHHII")


def resequence(datagram: bytes, seq: int, pid: int) -> bytes:
    """A recorded datagram with every message's sequence number and port replaced."""
    out = bytearray(datagram)
    offset = 0
    while offset + _NLMSGHDR.size <= len(out):
        length, msg_type, flags, _seq, _pid = _NLMSGHDR.unpack_from(out, offset)
        _NLMSGHDR.pack_into(out, offset, length, msg_type, flags, seq, pid)
        offset += max((length + 3) & ~3, _NLMSGHDR.size)
    return bytes(out)


class Replay(rtnl.Connection):
    """A netlink ``Connection`` that answers each request with the datagrams recorded for the
    same request (same type, flags and body), rewritten to this request's sequence number.

    A request that was never recorded fails the test: the collectors must ask exactly what
    the recording asked.
    """

    def __init__(self, dumps: List[Dict[str, Any]], port: int = 4242) -> None:
        super().__init__()
        self.port = port
        self.dumps = dumps
        self.requests: List[bytes] = []
        self.closed = False
        self._queue: List[bytes] = []

    def send_request(self, data: bytes) -> None:
        (msg,) = rtnl.parse_messages(data)
        self.requests.append(data)
        for dump in self.dumps:
            (recorded,) = rtnl.parse_messages(bytes.fromhex(dump["request"]))
            if (recorded.type, recorded.flags, recorded.payload) == (
                msg.type,
                msg.flags,
                msg.payload,
            ):
                replies = [bytes.fromhex(r) for r in dump["replies"]]
                self._queue = [resequence(r, msg.seq, self.port or 0) for r in replies]
                return
        raise AssertionError(f"no recorded reply to the netlink request {data.hex()}")

    def recv_datagram(self, timeout: float) -> bytes:
        if not self._queue:
            raise socket.timeout("replay: the recording has no more datagrams")
        return self._queue.pop(0)

    def close(self) -> None:
        self.closed = True


def replay(name: str, key: str = "dumps") -> Callable[[int], Replay]:
    """A stand-in for ``rtnl.NetlinkSocket`` replaying ``netns/<name>`` (``rtnetlink.json``,
    ``sock_diag.json``: raw datagrams)."""
    dumps: List[Dict[str, Any]] = recorded_json("netns", name)[key]
    return lambda _protocol: Replay(dumps)


def recorded_messages(name: str, key: str = "dumps") -> List[List[rtnl.Message]]:
    """The messages of each recorded dump (NLMSG_DONE included), in recording order."""
    return [
        [m for r in dump["replies"] for m in rtnl.parse_messages(bytes.fromhex(r))]
        for dump in recorded_json("netns", name)[key]
    ]
