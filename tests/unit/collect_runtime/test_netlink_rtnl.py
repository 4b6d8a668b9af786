"""rtnl.py, the standard-library netlink client: framing, attributes, decoders and the dump
loop, on recorded kernel replies, hand-made bytes, arbitrary bytes and the live kernel."""

from __future__ import annotations

import contextlib
import errno
import importlib.util
import socket
import struct
from typing import Any, Callable, Dict, List, Tuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from v6gap.collect import rtnl

from .treehost import RECORDED, recorded_json, recorded_messages

HDR = struct.Struct("=IHHII")


def message(msg_type: int, payload: bytes = b"", flags: int = rtnl.NLM_F_MULTI,
            seq: int = 7, pid: int = 99) -> bytes:  # fmt: skip
    padded = payload + bytes(-len(payload) % 4)
    return HDR.pack(16 + len(payload), msg_type, flags, seq, pid) + padded


def attr(attr_type: int, value: bytes) -> bytes:
    return struct.pack("=HH", 4 + len(value), attr_type) + value + bytes(-len(value) % 4)


def done(code: int = 0, **kw: Any) -> bytes:
    return message(rtnl.NLMSG_DONE, struct.pack("=i", code), **kw)


def error(code: int, **kw: Any) -> bytes:
    return message(rtnl.NLMSG_ERROR, struct.pack("=i", code) + bytes(16), flags=0, **kw)


def link(index: int, name: bytes, seq: int = 7, pid: int = 99) -> bytes:
    body = struct.pack("=BxHiII", 0, 1, index, 1, 0) + attr(3, name + b"\0")
    return message(rtnl.RTM_NEWLINK, body, seq=seq, pid=pid)


# --------------------------------------------------------------------------- requests


def test_link_dump_request_bytes() -> None:
    assert rtnl.request(rtnl.RTM_GETLINK, 0x01020304, rtnl.ifinfomsg()) == bytes.fromhex(
        "20000000120001030403020100000000" + "00" * 16
    )  # little-endian host: len 32, type 18, flags REQUEST|DUMP, seq, pid 0, ifinfomsg


def test_fixed_request_bodies() -> None:
    assert rtnl.ifaddrmsg(10) == b"\x0a" + bytes(7)
    assert rtnl.rtmsg(2) == b"\x02" + bytes(11)  # rtm_table 0: every table
    assert rtnl.ndmsg(10) == b"\x0a" + bytes(11)
    body = rtnl.inet_diag_req_v2(socket.AF_INET6, socket.IPPROTO_UDP, 1 << 7)
    assert len(body) == 56
    assert body[:8] == bytes([10, 17, 0, 0]) + struct.pack("=I", 0x80)
    assert body[8:] == bytes(48)  # any port, any address, any interface, no cookie
    assert rtnl.inet_diag_req_v2(2, 6, ~0)[4:8] == b"\xff\xff\xff\xff"


def test_recorded_requests_are_what_the_builders_make() -> None:
    for name, key in (
        ("rtnetlink.json", "dumps"),
        ("sock_diag.json", "dumps"),
        ("sock_diag.json", "all_states"),
    ):
        for dump in recorded_json("netns", name)[key]:
            raw = bytes.fromhex(dump["request"])
            (msg,) = rtnl.parse_messages(raw)
            assert raw == rtnl.request(msg.type, msg.seq, msg.payload), dump["what"]


def test_decoded_views_are_the_raw_recordings_decoded() -> None:
    """``netlink.json`` and ``diag.json`` are what ``record.write_views`` makes of the raw
    ``rtnetlink.json`` and ``sock_diag.json``."""
    spec = importlib.util.spec_from_file_location("record", RECORDED / "record.py")
    assert spec is not None and spec.loader is not None
    record = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(record)
    views = record.decoded_views(RECORDED / "netns")
    assert views["netlink.json"] == recorded_json("netns", "netlink.json")
    assert views["diag.json"] == recorded_json("netns", "diag.json")


# --------------------------------------------------------------------------- framing


def test_parse_messages_of_recorded_datagrams() -> None:
    for dump in recorded_json("netns", "rtnetlink.json")["dumps"]:
        request = rtnl.parse_messages(bytes.fromhex(dump["request"]))[0]
        messages = [m for r in dump["replies"] for m in rtnl.parse_messages(bytes.fromhex(r))]
        assert {m.seq for m in messages} == {request.seq}, dump["what"]
        assert len({m.pid for m in messages}) == 1
        assert messages[-1].type == rtnl.NLMSG_DONE
        assert messages[-1].payload == bytes(4)  # status 0


def test_parse_messages_errors() -> None:
    good = link(1, b"lo")
    assert [m.type for m in rtnl.parse_messages(good + good)] == [rtnl.RTM_NEWLINK] * 2
    assert rtnl.parse_messages(b"") == []
    with pytest.raises(rtnl.ParseError, match="truncated nlmsghdr"):
        rtnl.parse_messages(good + good[:10])
    with pytest.raises(rtnl.ParseError, match="nlmsg_len 8"):
        rtnl.parse_messages(HDR.pack(8, 3, 0, 0, 0))  # shorter than its own header
    with pytest.raises(rtnl.ParseError, match="nlmsg_len 64"):
        rtnl.parse_messages(HDR.pack(64, 3, 0, 0, 0) + bytes(4))  # longer than the datagram


def test_parse_attrs_alignment_flags_and_padding() -> None:
    data = attr(3, b"abc\0\0") + attr(0x8000 | 18, attr(1, b"veth\0")) + attr(8, b"\1\0\0\0")
    assert rtnl.parse_attrs(data) == [
        (3, b"abc\0\0"),
        (18, attr(1, b"veth\0")),  # NLA_F_NESTED dropped from the type
        (8, b"\1\0\0\0"),
    ]
    assert rtnl.parse_attrs(attr(1, b"") + b"\0\0") == [(1, b"")]  # short tail: padding
    last_unpadded = struct.pack("=HH", 5, 2) + b"x"
    assert rtnl.parse_attrs(last_unpadded) == [(2, b"x")]
    with pytest.raises(rtnl.ParseError, match="rta_len 2"):
        rtnl.parse_attrs(struct.pack("=HH", 2, 1))
    with pytest.raises(rtnl.ParseError, match="rta_len 12"):
        rtnl.parse_attrs(struct.pack("=HH", 12, 1) + b"1234")


# --------------------------------------------------------------------------- decoders


def _decoded(index: int, msg_type: int, decoder: Callable[[bytes], Dict[str, Any]]) -> List[Any]:
    return rtnl.decode_all(recorded_messages("rtnetlink.json")[index], msg_type, decoder)


def test_decode_recorded_links() -> None:
    decoded = rtnl.decode_all(
        recorded_messages("rtnetlink.json")[0], rtnl.RTM_NEWLINK, rtnl.decode_link
    )
    links = {m["index"]: m for m in decoded}
    assert links[1]["attrs"][0] == ["IFLA_IFNAME", "lo"]
    veth = dict(links[2]["attrs"])
    assert veth["IFLA_IFNAME"] == "v6g.100"
    assert veth["IFLA_LINKINFO"] == {"attrs": [["IFLA_INFO_KIND", "veth"]]}
    assert links[2]["flags"] & 1 and links[2]["ifi_type"] == 1  # IFF_UP, ARPHRD_ETHER
    assert "IFLA_LINKINFO" not in dict(links[1]["attrs"])  # loopback has no kind


def test_decode_recorded_addresses_routes_neighbours() -> None:
    addrs = _decoded(1, rtnl.RTM_NEWADDR, rtnl.decode_addr)
    mngtmp = next(a for a in addrs if ["IFA_ADDRESS", "2001:db8:3::1"] in a["attrs"])
    assert dict(mngtmp["attrs"])["IFA_FLAGS"] == 0x182  # nodad, permanent, mngtmpaddr
    assert mngtmp["flags"] == 0x82  # the header keeps 8 bits only
    v4 = next(a for a in addrs if a["family"] == 2 and a["index"] == 2)
    assert dict(v4["attrs"]) == {"IFA_ADDRESS": "192.0.2.1", "IFA_LOCAL": "192.0.2.1",
                                 "IFA_LABEL": "v6g.100", "IFA_FLAGS": 0x80}  # fmt: skip
    routes = _decoded(3, rtnl.RTM_NEWROUTE, rtnl.decode_route)
    ecmp = next(r for r in routes if ["RTA_DST", "2001:db8:98::"] in r["attrs"])
    hops = dict(ecmp["attrs"])["RTA_MULTIPATH"]
    assert [(h["oif"], h["attrs"]) for h in hops] == [
        (2, [["RTA_GATEWAY", "2001:db8:1::2"]]),
        (4, [["RTA_GATEWAY", "2001:db8:2::2"]]),
    ]
    assert {r["table"] for r in routes} == {254, 255}
    neighbours = _decoded(5, rtnl.RTM_NEWNEIGH, rtnl.decode_neigh)
    router = next(n for n in neighbours if n["flags"] & 0x80)
    assert dict(router["attrs"])["NDA_DST"] == "2001:db8:1::2"
    assert router["state"] == 0x80 and router["ifindex"] == 2


def test_decode_recorded_inet_diag() -> None:
    tcp6 = rtnl.decode_all(
        recorded_messages("sock_diag.json")[1], rtnl.SOCK_DIAG_BY_FAMILY, rtnl.decode_inet_diag
    )
    by_port = {m["idiag_sport"]: m for m in tcp6}
    assert sorted(by_port) == [8080, 8443]
    assert by_port[8443]["attrs"] == [["INET_DIAG_SKV6ONLY", 1]]
    assert by_port[8080]["attrs"] == [["INET_DIAG_SKV6ONLY", 0]]
    assert by_port[8080]["idiag_src"] == "::" and by_port[8080]["idiag_state"] == 10
    assert all(m["idiag_inode"] > 0 for m in tcp6)


def test_decode_inet_diag_of_other_families_has_no_address() -> None:
    payload = struct.pack("=BBBB2s2s16s16sI8sIIIII", 1, 7, 0, 0, b"\0\x35", b"\0\0",
                          bytes(16), bytes(16), 0, bytes(8), 0, 0, 0, 0, 5)  # fmt: skip
    msg = rtnl.decode_inet_diag(payload)
    assert msg["idiag_src"] is None and msg["idiag_sport"] == 53 and msg["idiag_inode"] == 5


def test_decode_ipv4_multipath_without_gateway() -> None:
    hop1 = struct.pack("=HBBi", 16, 0, 1, 2) + attr(5, bytes([192, 0, 2, 2]))
    hop2 = struct.pack("=HBBi", 8, 0, 0, 4)
    body = struct.pack("=BBBBBBBBI", 2, 24, 0, 0, 254, 4, 0, 1, 0)
    body += attr(15, struct.pack("=I", 1000)) + attr(9, hop1 + hop2)
    route = rtnl.decode_route(body)
    assert route["dst_len"] == 24 and route["proto"] == 4 and route["type"] == 1
    assert route["attrs"] == [
        ["RTA_TABLE", 1000],
        ["RTA_MULTIPATH", [
            {"flags": 0, "hops": 1, "oif": 2, "attrs": [["RTA_GATEWAY", "192.0.2.2"]]},
            {"flags": 0, "hops": 0, "oif": 4, "attrs": []},
        ]],
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("decoder", "payload", "match"),
    [
        (rtnl.decode_link, bytes(15), "ifinfomsg of 15 bytes"),
        (rtnl.decode_addr, bytes(7), "ifaddrmsg"),
        (rtnl.decode_route, bytes(11), "rtmsg"),
        (rtnl.decode_neigh, bytes(4), "ndmsg"),
        (rtnl.decode_inet_diag, bytes(71), "inet_diag_msg"),
        (rtnl.decode_addr, bytes(8) + attr(8, b"\1\0"), "u32 attribute of 2 bytes"),
        (rtnl.decode_addr, bytes(8) + attr(1, b"\1\2\3"), "IP address attribute of 3 bytes"),
        (rtnl.decode_route, bytes(12) + attr(9, struct.pack("=HBBi", 4, 0, 0, 1)), "rtnh_len 4"),
        (rtnl.decode_inet_diag, bytes(72) + attr(11, b""), "u8 attribute of 0 bytes"),
    ],
)
def test_malformed_payloads(decoder: Callable[[bytes], Any], payload: bytes, match: str) -> None:
    with pytest.raises(rtnl.ParseError, match=match):
        decoder(payload)


def test_unknown_attributes_and_odd_strings() -> None:
    msg = rtnl.decode_link(
        struct.pack("=BxHiII", 0, 1, 9, 0, 0)
        + attr(4, b"\xdc\x05\0\0")  # IFLA_MTU: not read, left out
        + attr(3, b"ab\xffc\0junk")  # the name ends at the NUL; bad UTF-8 replaced
        + attr(1, bytes([2, 0, 0x5E, 0, 0, 1]))
    )
    assert msg["attrs"] == [["IFLA_IFNAME", "ab\ufffdc"], ["IFLA_ADDRESS", "02:00:5e:00:00:01"]]


# --------------------------------------------------------------------------- one dump


def test_reader_takes_a_multi_part_reply() -> None:
    reader = rtnl.DumpReader(seq=7, port=99)
    assert reader.feed(link(1, b"lo") + link(2, b"eth0")) is False
    assert reader.feed(message(rtnl.NLMSG_NOOP) + link(3, b"eth1")) is False
    assert reader.feed(done() + link(4, b"late")) is True  # nothing after NLMSG_DONE counts
    assert [m.type for m in reader.messages] == [rtnl.RTM_NEWLINK] * 3
    assert reader.feed(link(5, b"later")) is True and len(reader.messages) == 3
    assert reader.interrupted is False


def test_reader_skips_stale_replies() -> None:
    reader = rtnl.DumpReader(seq=7, port=99)
    reader.feed(link(1, b"old", seq=6) + done(seq=6) + link(2, b"other", pid=5))
    assert reader.messages == [] and not reader.done
    reader.feed(link(3, b"ours") + done())
    assert [rtnl.decode_link(m.payload)["index"] for m in reader.messages] == [3]


def test_reader_raises_kernel_errors() -> None:
    with pytest.raises(rtnl.NetlinkError) as refused:
        rtnl.DumpReader(7, 99).feed(error(-errno.EPERM))
    assert refused.value.errno == errno.EPERM
    assert str(refused.value) == "[Errno 1] Operation not permitted (netlink request refused)"
    with pytest.raises(rtnl.NetlinkError) as failed:
        rtnl.DumpReader(7, 99).feed(link(1, b"lo") + done(-errno.EINTR))
    assert failed.value.errno == errno.EINTR
    with pytest.raises(rtnl.NetlinkError) as overrun:
        rtnl.DumpReader(7, 99).feed(message(rtnl.NLMSG_OVERRUN))
    assert overrun.value.errno == errno.ENOBUFS
    with pytest.raises(rtnl.NetlinkError) as odd:
        rtnl.DumpReader(7, 99).feed(error(5))  # a positive "errno" is no errno
    assert odd.value.errno == errno.EIO
    with pytest.raises(rtnl.NetlinkError) as huge:
        rtnl.DumpReader(7, 99).feed(done(-(2**31)))
    assert huge.value.errno == errno.EIO
    with pytest.raises(rtnl.ParseError, match="NLMSG_ERROR of 2 bytes"):
        rtnl.DumpReader(7, 99).feed(message(rtnl.NLMSG_ERROR, b"\0\0"))


def test_reader_ends_on_ack_and_single_part_answers() -> None:
    ack = rtnl.DumpReader(7, 99)
    assert ack.feed(error(0)) is True and ack.messages == []
    single = rtnl.DumpReader(7, 99)
    assert single.feed(message(rtnl.RTM_NEWLINK, bytes(16), flags=0)) is True
    assert len(single.messages) == 1
    empty_done = rtnl.DumpReader(7, 99)
    assert empty_done.feed(message(rtnl.NLMSG_DONE)) is True  # old kernels: no status


def test_reader_limits() -> None:
    reader = rtnl.DumpReader(7, 99, max_messages=2)
    with pytest.raises(rtnl.ParseError, match="more than 2 messages"):
        reader.feed(link(1, b"a") + link(2, b"b") + link(3, b"c"))
    reader = rtnl.DumpReader(7, 99, max_bytes=100)
    reader.feed(link(1, b"a"))
    with pytest.raises(rtnl.ParseError, match="larger than 100 bytes"):
        reader.feed(link(2, b"b") + link(3, b"c"))


def test_reader_flags_an_interrupted_dump() -> None:
    reader = rtnl.DumpReader(7, 99)
    reader.feed(message(rtnl.RTM_NEWLINK, bytes(16), flags=rtnl.NLM_F_MULTI | 0x10) + done())
    assert reader.interrupted and reader.done


class Scripted(rtnl.Connection):
    """Answers the n-th request with ``answers[n]`` (datagram makers taking the seq)."""

    def __init__(self, answers: List[List[Callable[[int], bytes]]]) -> None:
        super().__init__()
        self.port = 99
        self.answers = answers
        self.sent: List[rtnl.Message] = []
        self.queue: List[bytes] = []
        self.timeouts: List[float] = []

    def send_request(self, data: bytes) -> None:
        (msg,) = rtnl.parse_messages(data)
        self.sent.append(msg)
        self.queue = [make(msg.seq) for make in self.answers[len(self.sent) - 1]]

    def recv_datagram(self, timeout: float) -> bytes:
        self.timeouts.append(timeout)
        if not self.queue:
            raise socket.timeout("nothing more")
        return self.queue.pop(0)


def test_dump_sends_one_request_and_reads_to_done() -> None:
    conn = Scripted([[lambda s: link(1, b"lo", seq=s), lambda s: done(seq=s)]])
    messages = conn.dump(rtnl.RTM_GETLINK, rtnl.ifinfomsg(), timeout=5)
    assert [m.type for m in messages] == [rtnl.RTM_NEWLINK]
    (sent,) = conn.sent
    assert sent.type == rtnl.RTM_GETLINK and sent.flags == 0x301 and sent.payload == bytes(16)
    assert all(0 < t <= 5 for t in conn.timeouts)


def test_dump_retries_an_interrupted_dump() -> None:
    intr = rtnl.NLM_F_MULTI | rtnl.NLM_F_DUMP_INTR

    def interrupted(seq: int) -> bytes:
        return message(rtnl.RTM_NEWLINK, bytes(16), flags=intr, seq=seq) + done(seq=seq)

    def clean(seq: int) -> bytes:
        return link(1, b"lo", seq=seq) + link(2, b"eth0", seq=seq) + done(seq=seq)

    conn = Scripted([[interrupted], [clean]])
    assert len(conn.dump(rtnl.RTM_GETLINK, rtnl.ifinfomsg())) == 2
    assert len(conn.sent) == 2 and conn.sent[0].seq != conn.sent[1].seq
    always = Scripted([[interrupted]] * rtnl.DUMP_ATTEMPTS)
    assert len(always.dump(rtnl.RTM_GETLINK, rtnl.ifinfomsg())) == 1  # the last one, as is
    assert len(always.sent) == rtnl.DUMP_ATTEMPTS


def test_dump_gives_up_when_the_reply_stops() -> None:
    conn = Scripted([[lambda s: link(1, b"lo", seq=s)]])  # no NLMSG_DONE ever
    with pytest.raises(socket.timeout):
        conn.dump(rtnl.RTM_GETLINK, rtnl.ifinfomsg())


# --------------------------------------------------------------------------- arbitrary bytes


def _only_defined_errors(func: Callable[[], Any]) -> None:
    with contextlib.suppress(rtnl.ParseError, rtnl.NetlinkError):
        func()


@settings(max_examples=400)
@given(st.binary(max_size=600))
def test_arbitrary_bytes_raise_only_parse_errors(data: bytes) -> None:
    for decoder in (rtnl.decode_link, rtnl.decode_addr, rtnl.decode_route, rtnl.decode_neigh,
                    rtnl.decode_inet_diag, rtnl.parse_messages, rtnl.parse_attrs):  # fmt: skip
        _only_defined_errors(lambda d=decoder: d(data))  # type: ignore[misc]
    _only_defined_errors(lambda: rtnl.DumpReader(0, None).feed(data))


@settings(max_examples=300)
@given(
    st.lists(
        st.tuples(st.integers(0, 40), st.integers(0, 0xFFFF), st.binary(max_size=40)),
        max_size=8,
    )
)
def test_arbitrary_replies_of_our_sequence_raise_only_defined_errors(
    parts: List[Tuple[int, int, bytes]],
) -> None:
    reader = rtnl.DumpReader(7, 99, max_messages=5)
    datagram = b"".join(message(t, p, flags=f) for t, f, p in parts)
    _only_defined_errors(lambda: reader.feed(datagram))
    assert len(reader.messages) <= 5


def _chunks() -> st.SearchStrategy[bytes]:
    """Bytes made of plausible TLVs: any type, lengths near the truth, nested ones too."""
    leaf = st.builds(
        lambda t, v, skew: struct.pack("=HH", max(0, min(0xFFFF, 4 + len(v) + skew)), t) + v
        + bytes(-len(v) % 4),
        st.integers(0, 0xFFFF), st.binary(max_size=24), st.sampled_from([0, 0, 0, -1, 1, -5, 8]),
    )  # fmt: skip
    return st.recursive(
        leaf,
        lambda inner: st.builds(
            lambda t, parts: attr(t, b"".join(parts)),
            st.sampled_from([9, 18, 0x8012, 1, 5]),
            st.lists(inner, max_size=4),
        ),
        max_leaves=12,
    )


@settings(max_examples=400)
@given(
    header=st.binary(min_size=0, max_size=80),
    size=st.sampled_from([8, 12, 16, 72]),
    attrs=st.lists(_chunks(), max_size=6),
)
def test_plausible_messages_raise_only_parse_errors(
    header: bytes, size: int, attrs: List[bytes]
) -> None:
    payload = header[:size].ljust(size, b"\0") + b"".join(attrs)
    for decoder in (rtnl.decode_link, rtnl.decode_addr, rtnl.decode_route, rtnl.decode_neigh,
                    rtnl.decode_inet_diag):  # fmt: skip
        _only_defined_errors(lambda d=decoder: d(payload))  # type: ignore[misc]


_RECORDED = [
    (m.type, m.payload)
    for dumps in (recorded_messages("rtnetlink.json"), recorded_messages("sock_diag.json"))
    for messages in dumps
    for m in messages
    if m.type not in (rtnl.NLMSG_DONE, rtnl.NLMSG_ERROR)
]
_DECODERS: Dict[int, Callable[[bytes], Dict[str, Any]]] = {
    rtnl.RTM_NEWLINK: rtnl.decode_link,
    rtnl.RTM_NEWADDR: rtnl.decode_addr,
    rtnl.RTM_NEWROUTE: rtnl.decode_route,
    rtnl.RTM_NEWNEIGH: rtnl.decode_neigh,
    rtnl.SOCK_DIAG_BY_FAMILY: rtnl.decode_inet_diag,
}


@settings(max_examples=400)
@given(
    index=st.integers(0, len(_RECORDED) - 1),
    flips=st.lists(st.tuples(st.integers(0, 4000), st.integers(1, 255)), max_size=6),
    cut=st.integers(0, 4000),
)
def test_mutated_recorded_messages_raise_only_parse_errors(
    index: int, flips: List[Tuple[int, int]], cut: int
) -> None:
    msg_type, payload = _RECORDED[index]
    data = bytearray(payload[: max(cut, 1)] if cut < len(payload) else payload)
    for where, mask in flips:
        if data:
            data[where % len(data)] ^= mask
    _only_defined_errors(lambda: _DECODERS[msg_type](bytes(data)))


@given(st.lists(st.tuples(st.integers(0, 0x3FFF), st.binary(max_size=40)), max_size=10))
def test_attrs_round_trip(pairs: List[Tuple[int, bytes]]) -> None:
    assert rtnl.parse_attrs(b"".join(attr(t, v) for t, v in pairs)) == pairs


# --------------------------------------------------------------------------- the live kernel


def test_live_link_dump_with_a_tiny_buffer_is_not_truncated() -> None:
    with rtnl.NetlinkSocket(rtnl.NETLINK_ROUTE) as nl:
        assert nl.port  # the kernel picked our port id
        normal = nl.dump(rtnl.RTM_GETLINK, rtnl.ifinfomsg())
        nl._buffer = bytearray(16)  # smaller than any datagram: peeked, then grown
        small = nl.dump(rtnl.RTM_GETLINK, rtnl.ifinfomsg())
    names = [dict(rtnl.decode_link(m.payload)["attrs"])["IFLA_IFNAME"] for m in small]
    assert sorted(names) == sorted(name for _i, name in socket.if_nameindex())
    assert len(small) == len(normal)


def test_live_kernel_errors() -> None:
    with rtnl.NetlinkSocket(rtnl.NETLINK_SOCK_DIAG) as nl:
        with pytest.raises(rtnl.NetlinkError) as no_protocol:  # reported in NLMSG_DONE
            nl.dump(rtnl.SOCK_DIAG_BY_FAMILY, rtnl.inet_diag_req_v2(2, 250, ~0))
        assert no_protocol.value.errno == errno.ENOENT
        with pytest.raises(rtnl.NetlinkError) as no_family:  # reported in NLMSG_ERROR
            nl.dump(rtnl.SOCK_DIAG_BY_FAMILY, rtnl.inet_diag_req_v2(77, 6, ~0))
        assert no_family.value.errno == errno.EINVAL
        with pytest.raises(socket.timeout):  # nothing asked: nothing comes
            nl.recv_datagram(0.05)
