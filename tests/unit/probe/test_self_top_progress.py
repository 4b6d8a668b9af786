"""--self targets, --top from nmap-services, and the progress bar (terminal only)."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import List

import click
import pytest
from click.testing import CliRunner

from v6gap.cli.probe import probe
from v6gap.errors import CollectError, InputError
from v6gap.model import SNAPSHOT_SCHEMA, Address, Interface, Snapshot
from v6gap.probe.engine import Job, Outcome, ProbeOptions, Prober, classify_errno
from v6gap.probe.icmp import source_for
from v6gap.probe.ports import (
    BUILTIN_SOURCE,
    TOP_TCP_PORTS,
    parse_nmap_services,
    ranked_top_ports,
    top_ports,
)
from v6gap.probe.progress import Progress
from v6gap.probe.targets import Targets, merge_targets, parse_sources, self_targets

SERVICES = """\
# Fields in this file are: Service name, portnum/protocol, open-frequency, optional comments
tcpmux\t1/tcp\t0.001995\t# TCP Port Service Multiplexer
http\t80/tcp\t0.484143\t# World Wide Web HTTP
domain\t53/udp\t0.213496\t# Domain Name Server
telnet\t23/tcp\t0.221265
ssh\t22/tcp\t0.182286\t# Secure Shell Login
https\t443/tcp\t0.208669
zero\t7/tcp\t0.182286
broken line
bad\tx/tcp\t0.5
"""


def test_nmap_services_rank_tcp_by_open_frequency(tmp_path: Path) -> None:
    assert parse_nmap_services(SERVICES) == (80, 23, 443, 7, 22, 1)  # ties: lower port first
    path = tmp_path / "nmap-services"
    path.write_text(SERVICES)
    ports, source = ranked_top_ports(3, str(path))
    assert ports == (80, 23, 443) and source == f"{path} (ranked by open frequency)"
    assert ranked_top_ports(100, str(path))[0] == (80, 23, 443, 7, 22, 1)  # all it ranks


def test_without_nmap_services_the_built_in_list_says_so(tmp_path: Path) -> None:
    missing = str(tmp_path / "none")
    ports, source = ranked_top_ports(3, missing)
    assert ports == top_ports(3) and source == f"{BUILTIN_SOURCE} ({missing} not found)"
    builtin = tuple(dict.fromkeys(TOP_TCP_PORTS))
    assert ranked_top_ports(1000, missing)[0] == builtin  # all of it: the CLI says it is short
    for bad in (0, 65536):
        with pytest.raises(InputError, match=f"--top {bad}"):
            ranked_top_ports(bad, missing)


def snapshot(*addresses: Address) -> Snapshot:
    return Snapshot(
        schema=SNAPSHOT_SCHEMA,
        source="netns",
        hostname="h",
        tool_version="0",
        collected_at="now",
        interfaces=(
            Interface("lo", 1, addresses=(
                Address("ipv4", "127.0.0.1", 8, scope="host"),
                Address("ipv6", "::1", 128, scope="host"),
            )),
            Interface("eth0", 2, addresses=addresses),
        ),
    )  # fmt: skip


def test_self_targets_are_the_global_addresses_only() -> None:
    snap = snapshot(
        Address("ipv4", "192.0.2.2", 24),
        Address("ipv4", "169.254.1.1", 16),
        Address("ipv6", "2001:db8:1::2", 64),
        Address("ipv6", "fe80::1", 64, scope="link"),
        Address("ipv6", "2001:db8:1::2", 64),
    )
    assert self_targets(snap) == Targets(("192.0.2.2",), ("2001:db8:1::2",))
    assert merge_targets(Targets(("a",), ("b",)), Targets(("a", "c"), ())) == Targets(
        ("a", "c"), ("b",)
    )


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_draws_on_a_terminal_only() -> None:
    tty = Tty()
    bar = Progress(4, tty)
    bar.advance(4)
    bar.close()
    out = tty.getvalue()
    assert "4/4 probes 100%" in out and out.endswith("\r")
    pipe = io.StringIO()
    quiet = Progress(4, pipe)
    quiet.advance(4)
    quiet.close()
    assert pipe.getvalue() == ""


def test_the_engine_reports_every_probe_once_to_the_progress_bar() -> None:
    class FakeProber(Prober):
        async def attempt(self, job: Job) -> Outcome:
            return classify_errno(job[1], 0 if job[2] == 22 else -1)

    counted: List[int] = []
    jobs: List[Job] = [("a", "tcp", 22), ("a", "tcp", 81), ("a", "udp", 53)]
    asyncio.run(FakeProber(ProbeOptions(retries=1), {}, counted.append).run(jobs))
    assert sum(counted) == len(jobs)


def invoke(argv: List[str]) -> BaseException:
    result = CliRunner().invoke(probe, argv, standalone_mode=False)
    assert result.exception is not None, result.output
    return result.exception


@pytest.mark.parametrize(
    ("argv", "kind", "words"),
    [
        (["--self"], click.UsageError, "--self needs --from-netns"),
        (["--self", "--ports", "22"], click.UsageError, "or --source ADDR"),
        (["--self", "--source", "gw.example"], InputError, "not an IP address"),
        (
            ["2001:db8::1", "--source", "2001:db8::2", "--source", "2001:db8::3"],
            InputError,
            "IPv6 source already given (2001:db8::2)",
        ),
        (["2001:db8::1", "--source", "ff02::1"], InputError, "cannot send"),
        # not an address of this host: refused by bind() before any packet leaves
        (
            ["2001:db8::1", "--source", "2001:db8:ffff::99", "--ports", "22", "--no-icmp"],
            InputError,
            "--source 2001:db8:ffff::99: cannot send from it here",
        ),
        (["--self-netns", "v6g-x-0", "2001:db8::1"], click.UsageError, "only goes with --self"),
        (["--self", "--from-netns", "v6g-nope-0"], CollectError, "no such network namespace"),
    ],
)
def test_self_refusals_are_one_line_and_send_nothing(
    argv: List[str], kind: type, words: str
) -> None:
    exc = invoke(argv)
    assert isinstance(exc, kind) and words in str(exc) and "\n" not in str(exc)


def test_sources_are_one_per_family_and_echo_uses_its_own() -> None:
    assert parse_sources(["192.0.2.66", "fe80::1%eth0"]) == ("192.0.2.66", "fe80::1%eth0")
    assert source_for("2001:db8::10", ("192.0.2.66", "2001:db8::66")) == "2001:db8::66"
    assert source_for("192.0.2.10", ("2001:db8::66",)) is None
