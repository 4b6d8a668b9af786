"""What the runtime collectors return is valid ``Snapshot`` data and survives JSON."""

from __future__ import annotations

from typing import Any, Callable, Dict, List

import msgspec
import pytest

from v6gap.collect import Partial, sockets
from v6gap.collect.firewall import collect_firewall
from v6gap.collect.host import Host
from v6gap.collect.kernel import collect_kernel, collect_sysctl
from v6gap.collect.netlink import collect_netlink, parse_netlink_dump
from v6gap.collect.procs import collect_processes
from v6gap.collect.sockets import collect_sockets, parse_diag_message
from v6gap.model import Snapshot

from .treehost import RECORDED, TreeHost, recorded_commands, recorded_json


def _merge(partials: List[Partial]) -> Dict[str, Any]:
    fields: Dict[str, Any] = {}
    unavailable: Dict[str, str] = {}
    for part, missing in partials:
        for key, value in part.items():
            if key == "sysctl_notes":  # both kernel collectors write notes
                fields.setdefault(key, {}).update(value)
            else:
                fields[key] = value
        unavailable.update(missing)
    fields["unavailable"] = unavailable
    return fields


def _diag() -> List[Dict[str, Any]]:
    found = (parse_diag_message(i["msg"], i["proto"]) for i in recorded_json("netns", "diag.json"))
    return [e for e in found if e is not None]


def _netlink(_host: Host) -> Partial:
    m = recorded_json("netns", "netlink.json")
    return dict(parse_netlink_dump(m["links"], m["addrs"], m["routes"], m["neighbours"])), {}


COLLECTORS: List[Callable[[Host], Partial]] = [
    collect_sysctl,
    collect_kernel,
    collect_sockets,
    collect_firewall,
    collect_processes,
]


@pytest.mark.parametrize("tree", ["netns", "this-host", "debian12", "ipv6-disabled"])
def test_live_trees_make_valid_snapshots(
    tree: str, snapshot_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sockets, "_diag_entries", _diag)
    host = TreeHost(RECORDED / tree, recorded_commands("netns", "commands.json"))
    fields = _merge([c(host) for c in [*COLLECTORS, _netlink]])
    snapshot: Snapshot = snapshot_factory(**fields)
    again = msgspec.json.decode(msgspec.json.encode(snapshot), type=Snapshot)
    assert again == snapshot
    if tree == "netns":
        assert any(s.v6only is False for s in snapshot.sockets)
        assert snapshot.firewall.nft_json and snapshot.firewall.saves
        assert any(a.flags == ("nodad", "permanent") for i in snapshot.interfaces
                   for a in i.addresses)  # fmt: skip


def test_image_makes_a_valid_snapshot(snapshot_factory: Any) -> None:
    host = Host(root=str(RECORDED / "debian12"))
    fields = _merge([c(host) for c in [*COLLECTORS, collect_netlink]])
    snapshot: Snapshot = snapshot_factory(source="root", **fields)
    assert snapshot.kernel_release == "6.1.0-18-amd64"
    assert snapshot.missing("sockets") == "sockets: image: no running system"
    assert snapshot.missing("nft") == (
        "nft: image: no /etc/systemd/system, so which services load a ruleset at boot is unknown"
    )
    assert snapshot.ipv6_proc is None
