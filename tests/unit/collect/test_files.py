"""collect_files on recorded image trees: what is read, how links and odd entries are recorded."""

from __future__ import annotations

import os
from pathlib import Path

import msgspec
import pytest

from tests.conftest import make_snapshot
from tests.unit.analysis.roots import root_path
from v6gap.collect.files import (
    MAX_DIR_ENTRIES,
    MODPROBE_DIRS,
    SYSCTL_DIRS,
    collect_files,
    read_fact,
    ufw_sysctl_path,
)
from v6gap.collect.host import Host
from v6gap.model import Snapshot


def collect(name: str) -> tuple[dict[str, dict[str, str]], dict[str, list[str]]]:
    fields, unavailable = collect_files(Host(root=root_path(name)))
    assert unavailable == {}
    return fields["files"], fields["dirs"]


def test_ubuntu_tree_reads_every_source() -> None:
    files, dirs = collect("ubuntu-22.04")
    assert files["/etc/sysctl.d/99-sysctl.conf"]["link"] == "../sysctl.conf"
    assert files["/etc/sysctl.d/99-sysctl.conf"]["text"] == files["/etc/sysctl.conf"]["text"]
    assert (
        "net.ipv6.conf.all.use_tempaddr = 2" in files["/etc/sysctl.d/10-ipv6-privacy.conf"]["text"]
    )
    assert "/usr/lib/sysctl.d/50-default.conf" in files
    assert "ENABLED=yes" in files["/etc/ufw/ufw.conf"]["text"]
    assert "/etc/ufw/sysctl.conf" in files and "/etc/default/ufw" in files
    assert "/etc/default/grub.d/50-cloudimg-settings.cfg" in files
    assert "/etc/modprobe.d/blacklist.conf" in files
    assert "/etc/hosts" in files and "/etc/gai.conf" in files
    # README.sysctl is listed (evidence of what is there) but not read: not a .conf
    assert "README.sysctl" in dirs["/etc/sysctl.d"]
    assert "/etc/sysctl.d/README.sysctl" not in files


def test_merged_lib_is_read_once() -> None:
    files, dirs = collect("debian-12")
    assert files["/lib"] == {"link": "usr/lib"}
    assert "/lib/sysctl.d" not in dirs and "/lib/modprobe.d" not in dirs
    assert not any(path.startswith("/lib/") for path in files)
    assert "/usr/lib/sysctl.d/protect-links.conf" in files


def test_split_usr_lib_is_read() -> None:
    files, dirs = collect("edge-cases")
    assert "/lib" not in files
    assert dirs["/lib/sysctl.d"] == ["50-default.conf", "80-lib.conf"]
    assert "/lib/modprobe.d/gre.alias" in files  # kmod reads *.alias too


def test_masking_links_and_empty_files() -> None:
    files, _ = collect("edge-cases")
    assert files["/etc/sysctl.d/50-pid-max.conf"] == {"link": "/dev/null"}
    assert files["/etc/sysctl.d/50-default.conf"] == {"text": ""}
    assert files["/etc/modprobe.d/masked.conf"] == {"link": "/dev/null"}


def test_links_resolve_inside_the_root() -> None:
    files, _ = collect("edge-cases")
    outside = files["/etc/sysctl.d/30-outside.conf"]
    assert outside["link"] == "/srv/sysctl/outside.conf"
    assert outside["text"] == "net.ipv6.conf.all.accept_source_route = 0\n"
    climb = files["/etc/sysctl.d/31-climb.conf"]
    assert climb["link"].startswith("../../../../")
    assert climb["text"] == "net.ipv6.conf.lo.accept_redirects = 0\n"
    assert files["/etc/sysctl.d/32-dangling.conf"] == {
        "link": "/nowhere/gone.conf",
        "error": "dangling symlink",
    }


def test_hidden_foreign_and_directory_entries_are_not_read() -> None:
    files, dirs = collect("edge-cases")
    assert {".hidden.conf", "dir.conf", "notes.txt"} <= set(dirs["/etc/sysctl.d"])
    for name in (".hidden.conf", "dir.conf", "notes.txt"):
        assert f"/etc/sysctl.d/{name}" not in files


def test_missing_files_are_absent_not_errors() -> None:
    files, dirs = collect("disable-grub")
    assert "/etc/modprobe.conf" not in files
    assert "/etc/modprobe.d" not in dirs
    assert all("error" not in fact for fact in files.values())


def test_snapshot_round_trips_through_json() -> None:
    fields, _ = collect_files(Host(root=root_path("edge-cases")))
    snapshot = make_snapshot(source="root", **fields)
    again = msgspec.json.decode(msgspec.json.encode(snapshot), type=Snapshot)
    assert again == snapshot
    assert snapshot.files["/etc/sysctl.d/50-pid-max.conf"].link == "/dev/null"
    assert snapshot.dirs["/etc/sysctl.d"][0] == ".hidden.conf"


def test_ipt_sysctl_elsewhere_is_collected(tmp_path: Path) -> None:
    (tmp_path / "etc/default").mkdir(parents=True)
    (tmp_path / "etc/ufw").mkdir()
    (tmp_path / "opt").mkdir()
    (tmp_path / "etc/default/ufw").write_text('IPT_SYSCTL="/opt/./fw-sysctl.conf"\n')
    (tmp_path / "etc/ufw/ufw.conf").write_text("ENABLED=yes\n")
    (tmp_path / "opt/fw-sysctl.conf").write_text("net/ipv6/conf/all/accept_ra=0\n")
    fields, _ = collect_files(Host(root=str(tmp_path)))
    assert fields["files"]["/opt/fw-sysctl.conf"]["text"].startswith("net/ipv6")


def test_ufw_sysctl_path_follows_sourcing_order() -> None:
    files = {
        "/etc/default/ufw": {"text": "IPT_SYSCTL=/etc/ufw/sysctl.conf\n"},
        "/etc/ufw/ufw.conf": {"text": "ENABLED=yes\nIPT_SYSCTL=/etc/sysctl.conf\n"},
    }
    assert ufw_sysctl_path(files) == "/etc/sysctl.conf"
    assert ufw_sysctl_path({"/etc/default/ufw": {"text": "IPT_SYSCTL=relative.conf"}}) is None
    assert ufw_sysctl_path({}) is None


def test_fifo_is_never_opened(tmp_path: Path) -> None:
    (tmp_path / "etc/sysctl.d").mkdir(parents=True)
    os.mkfifo(tmp_path / "etc/sysctl.d/10-pipe.conf")
    fields, _ = collect_files(Host(root=str(tmp_path)))
    assert fields["files"]["/etc/sysctl.d/10-pipe.conf"] == {"error": "not a regular file"}


def test_unreadable_file_records_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/sysctl.conf").write_text("x = 1\n")

    def denied(self: Host, path: str, limit: int = 0) -> str:
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(Host, "read_text", denied)
    fields, _ = collect_files(Host(root=str(tmp_path)))
    assert fields["files"]["/etc/sysctl.conf"] == {"error": "permission denied (run as root)"}


def test_oversized_file_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/sysctl.conf").write_text("x = 1\n" * 10)
    real = Host.read_text
    monkeypatch.setattr(Host, "read_text", lambda self, path: real(self, path, limit=8))
    fields, _ = collect_files(Host(root=str(tmp_path)))
    assert fields["files"]["/etc/sysctl.conf"] == {"error": "larger than 8 bytes"}


def test_directory_listing_is_bounded(tmp_path: Path) -> None:
    sysctl_d = tmp_path / "etc/sysctl.d"
    sysctl_d.mkdir(parents=True)
    for index in range(MAX_DIR_ENTRIES + 5):
        (sysctl_d / f"{index:05d}.conf").write_text("")
    fields, _ = collect_files(Host(root=str(tmp_path)))
    assert len(fields["dirs"]["/etc/sysctl.d"]) == MAX_DIR_ENTRIES
    assert "only the first 1000" in fields["files"]["/etc/sysctl.d"]["error"]
    assert "/etc/sysctl.d/01004.conf" not in fields["files"]


def test_etc_overlay_replaces_etc_entries(tmp_path: Path) -> None:
    overlay = tmp_path / "netns"
    (overlay / "sysctl.d").mkdir(parents=True)
    (overlay / "sysctl.d/10-ns.conf").write_text("net.ipv6.conf.all.accept_ra = 0\n")
    host = Host(root=root_path("ubuntu-22.04"), etc_overlay=str(overlay))
    fields, _ = collect_files(host)
    assert fields["dirs"]["/etc/sysctl.d"] == ["10-ns.conf"]
    assert "/etc/sysctl.d/99-sysctl.conf" not in fields["files"]
    assert "/etc/ufw/ufw.conf" in fields["files"]  # not overlaid: read from the tree


def test_read_fact_on_a_directory_or_missing_path() -> None:
    host = Host(root=root_path("edge-cases"))
    assert read_fact(host, "/etc/sysctl.d/dir.conf") is None
    assert read_fact(host, "/etc/nothing-here") is None


def test_search_paths_are_exported_in_precedence_order() -> None:
    assert SYSCTL_DIRS[0] == "/etc/sysctl.d" and SYSCTL_DIRS[-1] == "/lib/sysctl.d"
    assert MODPROBE_DIRS[0] == "/etc/modprobe.d" and MODPROBE_DIRS[-1] == "/lib/modprobe.d"
