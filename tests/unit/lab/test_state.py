"""The lab record and process identity (pure parts, no namespaces)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from v6gap.errors import LabError
from v6gap.lab import state
from v6gap.lab.listeners import parse_client_output


def record(lab_id: str = "abc123") -> state.LabRecord:
    return state.LabRecord(
        lab_id=lab_id,
        scenario="pair",
        created_at=state.now(),
        owner_pid=os.getpid(),
        hosts=[state.HostRecord(name="client", role="client", ns=f"v6g-client-{lab_id}")],
    )


def test_claim_save_load_round_trip(tmp_path: Path) -> None:
    rec = record()
    path = state.claim(rec, str(tmp_path))
    with pytest.raises(LabError, match="already exists"):
        state.claim(record(), str(tmp_path))
    rec.complete = True
    rec.host("client").addresses = ["eth0 2001:db8:1::1/64"]
    state.save(rec, str(tmp_path))
    loaded = state.load(path)
    assert loaded == rec
    assert state.list_records(str(tmp_path)) == [path]
    state.remove(rec.lab_id, str(tmp_path))
    assert state.list_records(str(tmp_path)) == []
    with pytest.raises(LabError, match="no lab record"):
        state.find_record("abc123", str(tmp_path))


def test_unreadable_record(tmp_path: Path) -> None:
    bad = tmp_path / "x.json"
    bad.write_text("{not json")
    with pytest.raises(LabError, match="unreadable"):
        state.load(str(bad))


def test_process_identity_of_a_live_and_a_dead_process() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        start = state.process_starttime(proc.pid)
        assert start is not None
        inode = state.process_netns_inode(proc.pid)
        assert inode is not None
        rec = state.ProcessRecord(
            pid=proc.pid, starttime=start, host="h", netns_inode=inode, kind="process"
        )
        assert state.is_ours(rec)
        other = state.ProcessRecord(
            pid=proc.pid, starttime=start + 1, host="h", netns_inode=inode, kind="process"
        )
        assert not state.is_ours(other)  # a recycled pid is never ours
    finally:
        proc.kill()
        proc.wait()
    assert state.process_starttime(proc.pid) is None


def test_client_output_parsing() -> None:
    assert parse_client_output("open v6gap-lab s tcp/22 ::ffff:192.0.2.50\n").banner.endswith(
        "::ffff:192.0.2.50"
    )
    assert parse_client_output("refused\n").outcome == "refused"
    assert parse_client_output("timeout\n").outcome == "timeout"
    assert parse_client_output("error [Errno 101] Network is unreachable").outcome == "error"
    assert parse_client_output("").outcome == "error"
