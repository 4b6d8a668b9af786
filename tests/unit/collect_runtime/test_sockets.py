"""sockets.py on inet_diag replies (raw datagrams) and /proc/net tables recorded in the lab
namespace."""

from __future__ import annotations

import ipaddress
from typing import Any, Dict, List

import pytest
from hypothesis import given
from hypothesis import strategies as st

from v6gap.collect import rtnl, sockets
from v6gap.collect.host import Host
from v6gap.collect.sockets import (
    attach_owners,
    collect_sockets,
    find_socket_owners,
    parse_diag_message,
    parse_fd_link,
    parse_proc_net,
    parse_proc_net_line,
)

from .treehost import RECORDED, Replay, TreeHost, recorded_json, recorded_messages, replay

NETNS = RECORDED / "netns"
LAB = recorded_json("netns", "lab.json")
DUAL, SPLIT = LAB["listeners"]["v6glab-dual"], LAB["listeners"]["v6glab-split"]


def _owned(pid: int, comm: str, **sock: Any) -> Dict[str, Any]:
    return {**sock, "pid": pid, "process": comm}


EXPECTED = [
    _owned(SPLIT, "v6glab-split", proto="tcp", family="ipv4", address="0.0.0.0", port=8081),
    _owned(DUAL, "v6glab-dual", proto="tcp", family="ipv6", address="::", port=8080,
           v6only=False),
    _owned(SPLIT, "v6glab-split", proto="tcp", family="ipv6", address="::", port=8443,
           v6only=True),
    _owned(SPLIT, "v6glab-split", proto="udp", family="ipv4", address="192.0.2.1", port=5300),
    _owned(DUAL, "v6glab-dual", proto="udp", family="ipv6", address="::", port=5353,
           v6only=False),
]  # fmt: skip


def _recorded_diag_entries() -> List[Dict[str, Any]]:
    """The wanted sockets among the recorded dumps of every state (tcp, udp; ipv4, ipv6)."""
    entries = []
    for proto, messages in zip(
        ["tcp", "tcp", "udp", "udp"], recorded_messages("sock_diag.json", "all_states")
    ):
        for msg in rtnl.decode_all(messages, rtnl.SOCK_DIAG_BY_FAMILY, rtnl.decode_inet_diag):
            entry = parse_diag_message(msg, proto)
            if entry is not None:
                entries.append(entry)
    return entries


# --------------------------------------------------------------------------- sock_diag


def test_diag_messages_keep_listeners_and_v6only() -> None:
    entries = _recorded_diag_entries()
    assert [(e["proto"], e["family"], e["port"], e.get("v6only")) for e in entries] == [
        ("tcp", "ipv4", 8081, None),
        ("tcp", "ipv6", 8080, False),
        ("tcp", "ipv6", 8443, True),
        ("udp", "ipv4", 5300, None),
        ("udp", "ipv6", 5353, False),
    ]  # the two ESTABLISHED ends of the [::1]:8080 connection are gone
    assert all(e["inode"] > 0 for e in entries)
    assert "v6only" not in entries[0]


def test_diag_message_without_v6only_attribute_is_unknown() -> None:
    msg = {"idiag_family": 10, "idiag_state": 10, "idiag_src": "::", "idiag_sport": 22,
           "idiag_inode": 5, "attrs": [["INET_DIAG_SHUTDOWN", 0]]}  # fmt: skip
    assert parse_diag_message(msg, "tcp") == {
        "proto": "tcp", "family": "ipv6", "address": "::", "port": 22, "inode": 5, "v6only": None,
    }  # fmt: skip
    assert parse_diag_message({**msg, "idiag_state": 1}, "tcp") is None
    assert parse_diag_message({**msg, "idiag_family": 1}, "tcp") is None


def test_recording_holds_other_states_too() -> None:
    states = [
        m["idiag_state"]
        for messages in recorded_messages("sock_diag.json", "all_states")
        for m in rtnl.decode_all(messages, rtnl.SOCK_DIAG_BY_FAMILY, rtnl.decode_inet_diag)
    ]
    assert states.count(1) == 2  # both ends of the ESTABLISHED [::1]:8080 connection
    ipv4 = rtnl.decode_all(
        recorded_messages("sock_diag.json", "all_states")[0],
        rtnl.SOCK_DIAG_BY_FAMILY,
        rtnl.decode_inet_diag,
    )
    assert ipv4 and all(m["attrs"] == [] for m in ipv4)  # SKV6ONLY: AF_INET6 sockets only


def test_collect_sockets_from_sock_diag(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rtnl, "NetlinkSocket", replay("sock_diag.json"))
    fields, missing = collect_sockets(TreeHost(NETNS))
    assert missing == {}
    assert fields["sockets"] == EXPECTED


def test_sock_diag_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    """TCP listeners and unconnected UDP sockets, per family; no extension bits asked for
    (the kernel adds INET_DIAG_SKV6ONLY to AF_INET6 sockets by itself)."""
    made: List[Replay] = []

    def factory(protocol: int) -> Replay:
        assert protocol == rtnl.NETLINK_SOCK_DIAG
        made.append(replay("sock_diag.json")(protocol))
        return made[-1]

    monkeypatch.setattr(rtnl, "NetlinkSocket", factory)
    sockets._diag_entries()
    (conn,) = made
    assert conn.closed
    sent = [rtnl.parse_messages(r)[0] for r in conn.requests]
    assert {m.type for m in sent} == {rtnl.SOCK_DIAG_BY_FAMILY}
    assert [(m.payload[0], m.payload[1], m.payload[2], m.payload[4:8]) for m in sent] == [
        (2, 6, 0, (1 << 10).to_bytes(4, "little")),
        (10, 6, 0, (1 << 10).to_bytes(4, "little")),
        (2, 17, 0, (1 << 7).to_bytes(4, "little")),
        (10, 17, 0, (1 << 7).to_bytes(4, "little")),
    ]


def test_sock_diag_refused_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(protocol: int) -> None:
        raise OSError(93, "Protocol not supported")

    monkeypatch.setattr(rtnl, "NetlinkSocket", refuse)
    fields, missing = collect_sockets(TreeHost(NETNS))
    assert [s.get("v6only") for s in fields["sockets"] if s["family"] == "ipv6"] == [None] * 3
    assert missing["sockets.v6only"].startswith(
        "sock_diag unavailable ([Errno 93] Protocol not supported): read /proc/net instead"
    )


def _without_v6only(entries: List[Dict[str, Any]]) -> List[str]:
    return sorted(str({k: v for k, v in e.items() if k != "v6only"}) for e in entries)


def test_live_sock_diag_matches_proc_net() -> None:
    """sock_diag needs no privilege for listeners: the same sockets as /proc/net."""
    for _attempt in range(3):  # sockets of other processes may come and go in between
        diag = _without_v6only(sockets._diag_entries())
        proc = _without_v6only(sockets._proc_net_entries(Host(), {}))
        if diag == proc:
            break
    assert diag == proc


# --------------------------------------------------------------------------- /proc/net


def test_proc_net_tcp6_lists_listeners_without_v6only() -> None:
    text = (NETNS / "proc/thread-self/net/tcp6").read_text()
    entries = parse_proc_net(text, "tcp", "ipv6", byteorder="little")
    assert [(e["address"], e["port"], e["v6only"]) for e in entries] == [
        ("::", 8080, None),
        ("::", 8443, None),
    ]


def test_proc_net_ipv4_addresses_in_host_byte_order() -> None:
    text = (RECORDED / "ipv6-disabled/proc/thread-self/net/tcp").read_text()
    entries = parse_proc_net(text, "tcp", "ipv4", byteorder="little")
    assert [(e["address"], e["port"], e["inode"]) for e in entries] == [
        ("0.0.0.0", 22, 17125),
        ("127.0.0.1", 631, 19044),
    ]
    line = "   0: 7F000001:0277 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 9 1"
    big = parse_proc_net_line(line, "tcp", "ipv4", byteorder="big")
    assert big is not None and big["address"] == "127.0.0.1"


def test_proc_net_udp_keeps_unconnected_sockets() -> None:
    udp6 = parse_proc_net((NETNS / "proc/thread-self/net/udp6").read_text(), "udp", "ipv6")
    assert [(e["address"], e["port"]) for e in udp6] == [("::", 5353)]
    udp = parse_proc_net((NETNS / "proc/thread-self/net/udp").read_text(), "udp", "ipv4")
    assert [(e["address"], e["port"]) for e in udp] == [("192.0.2.1", 5300)]


def test_ipv6_loopback_word_order() -> None:
    line = ("   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 "
            "0A 00000000:00000000 00:00000000 00000000     0        0 77 1")  # fmt: skip
    entry = parse_proc_net_line(line, "tcp", "ipv6", byteorder="little")
    assert entry is not None and entry["address"] == "::1" and entry["port"] == 8080


@pytest.mark.parametrize(
    "line",
    [
        "",
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid",
        "   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 x 1",
        "   0: 0000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1",
        "   0: 00000000:10016 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1",
        "   0: 00000000:0016 00000000:0000 ZZ 00000000:00000000 00:00000000 00000000 0 0 1 1",
        "   0: 0000000G:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1",
    ],
)
def test_malformed_lines_are_skipped(line: str) -> None:
    assert parse_proc_net_line(line, "tcp", "ipv4") is None


@given(
    line=st.text(max_size=300),
    proto=st.sampled_from(["tcp", "udp", "raw"]),
    family=st.sampled_from(["ipv4", "ipv6"]),
    byteorder=st.sampled_from(["little", "big"]),
)
def test_proc_net_line_parser_never_raises(
    line: str, proto: str, family: str, byteorder: str
) -> None:
    entry = parse_proc_net_line(line, proto, family, byteorder)
    assert entry is None or 0 <= entry["port"] <= 0xFFFF


_hex = st.text(alphabet="0123456789ABCDEFabcdef:xX \t-", max_size=40)


@given(
    fields=st.lists(_hex, min_size=0, max_size=14),
    family=st.sampled_from(["ipv4", "ipv6"]),
)
def test_proc_net_line_parser_never_raises_on_near_valid_fields(
    fields: List[str], family: str
) -> None:
    line = "   0: " + " ".join(fields)
    entry = parse_proc_net_line(line, "tcp", family)
    assert entry is None or entry["proto"] == "tcp"


@given(
    address=st.ip_addresses(v=6),
    port=st.integers(min_value=0, max_value=0xFFFF),
    inode=st.integers(min_value=0, max_value=2**32),
)
def test_proc_net_line_round_trip_ipv6(address: Any, port: int, inode: int) -> None:
    raw = address.packed
    words = "".join(raw[i : i + 4][::-1].hex().upper() for i in range(0, 16, 4))
    line = (f"   3: {words}:{port:04X} {'0' * 32}:0000 0A 00000000:00000000 00:00000000 "
            f"00000000     0        0 {inode} 1 0000000000000000 100 0 0 10 0")  # fmt: skip
    entry = parse_proc_net_line(line, "tcp", "ipv6", byteorder="little")
    assert entry is not None
    assert ipaddress.ip_address(entry.pop("address")) == address  # inet_ntop spelling
    assert entry == {"proto": "tcp", "family": "ipv6", "port": port, "inode": inode,
                     "v6only": None}  # fmt: skip


def test_fallback_to_proc_net_says_v6only_is_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_diag() -> List[Dict[str, Any]]:
        raise OSError(93, "Protocol not supported")

    monkeypatch.setattr(sockets, "_diag_entries", no_diag)
    fields, missing = collect_sockets(TreeHost(NETNS))
    expected = [{**s, "v6only": None} if s["family"] == "ipv6" else s for s in EXPECTED]
    assert fields["sockets"] == expected
    assert set(missing) == {"sockets.v6only"}
    assert missing["sockets.v6only"].startswith("sock_diag unavailable (")


def test_fallback_with_ipv6_disabled_reads_only_ipv4(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sockets, "_diag_entries", lambda: (_ for _ in ()).throw(OSError("no")))
    fields, missing = collect_sockets(TreeHost(RECORDED / "ipv6-disabled"))
    assert fields["sockets"] == [
        {"proto": "tcp", "family": "ipv4", "address": "0.0.0.0", "port": 22, "pid": 812,
         "process": "sshd"},
        {"proto": "tcp", "family": "ipv4", "address": "127.0.0.1", "port": 631},
        {"proto": "udp", "family": "ipv4", "address": "0.0.0.0", "port": 68},
    ]  # fmt: skip
    assert set(missing) == {"sockets.v6only"}


def test_fallback_with_unreadable_proc_net(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setattr(sockets, "_diag_entries", lambda: (_ for _ in ()).throw(OSError("no")))
    (tmp_path / "proc/sys/net/ipv6").mkdir(parents=True)
    fields, missing = collect_sockets(TreeHost(tmp_path))
    assert fields == {}
    assert "/proc/net/tcp: missing" in missing["sockets"]


# --------------------------------------------------------------------------- owners


@pytest.mark.parametrize(
    ("link", "inode"),
    [("socket:[32886]", 32886), ("pipe:[1]", None), ("/dev/null", None), (None, None),
     ("socket:[]", None), ("socket:[12] ", None)],
)  # fmt: skip
def test_parse_fd_link(link: Any, inode: Any) -> None:
    assert parse_fd_link(link) == inode


def test_owners_take_the_lowest_pid_and_count_unreadable_fds(tmp_path: Any) -> None:
    for pid, links in ((300, ["socket:[7]"]), (20, ["socket:[7]", "socket:[8]"]), (21, [])):
        (tmp_path / f"proc/{pid}/fd").mkdir(parents=True)
        (tmp_path / f"proc/{pid}/comm").write_text(f"p{pid}\n")
        for fd, link in enumerate(links):
            (tmp_path / f"proc/{pid}/fd/{fd}").symlink_to(link)
    (tmp_path / "proc/21/fd/0").write_text("")  # not a link: as if readlink were refused
    owners, denied = find_socket_owners(TreeHost(tmp_path), [7, 8, 9])
    assert owners == {7: (20, "p20"), 8: (20, "p20")}
    assert denied == 1


def test_unknown_owner_is_explained(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    entry = {"proto": "tcp", "family": "ipv4", "address": "0.0.0.0", "port": 22, "inode": 9}
    monkeypatch.setattr(sockets, "_diag_entries", lambda: [entry])
    (tmp_path / "proc/1/fd").mkdir(parents=True)
    (tmp_path / "proc/1/fd/0").write_text("")
    fields, missing = collect_sockets(TreeHost(tmp_path))
    assert fields["sockets"] == [{k: v for k, v in entry.items() if k != "inode"}]
    assert missing["sockets.process"].endswith("could not be read (run as root)")


def test_attach_owners_drops_inodes_and_duplicates() -> None:
    same = {"proto": "tcp", "family": "ipv6", "address": "::", "port": 80, "v6only": True}
    entries = [{**same, "inode": 1}, {**same, "inode": 2}, {**same, "port": 22, "inode": 3}]
    owners = {1: (10, "nginx"), 2: (10, "nginx"), 3: (5, None)}
    assert attach_owners(entries, owners) == [
        {**same, "port": 22, "pid": 5},
        {**same, "pid": 10, "process": "nginx"},
    ]


def test_image_has_no_sockets() -> None:
    assert collect_sockets(Host(root=str(RECORDED / "debian12"))) == (
        {},
        {"sockets": "image: no running system"},
    )
