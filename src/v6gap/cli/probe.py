"""``v6gap probe``: reach a target's ports over IPv4 and IPv6 and show where they differ."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Optional, Tuple

import click

from v6gap.cli.output import write_output

if TYPE_CHECKING:
    from v6gap.probe.targets import Targets

FORMATS = ["text", "json", "sarif", "junit"]


def _self_targets(self_netns: Optional[str]) -> Targets:
    """Every global address of this host, or of netns ``self_netns``, from a snapshot."""
    from v6gap import __version__, snapshot_io
    from v6gap.collect.snapshot import CollectFailed, collect
    from v6gap.errors import CollectError, InputError
    from v6gap.probe.targets import self_targets

    try:
        data = collect(__version__, netns=self_netns)
    except CollectFailed as exc:
        raise CollectError(str(exc).replace("--netns", "--self-netns")) from None
    snap = snapshot_io.from_data(data, "collected snapshot")
    found = self_targets(snap)
    if not found.addresses:
        where = f"namespace {self_netns}" if self_netns else "this host"
        raise InputError(f"--self: {where} has no global address to probe")
    return found


@click.command()
@click.argument("targets", nargs=-1, metavar="TARGET...")
@click.option(
    "--self",
    "self_",
    is_flag=True,
    help=(
        "Probe every global address of this host (or of --self-netns); sent from --from-netns "
        "or from --source."
    ),
)
@click.option(
    "--self-netns",
    metavar="NAME",
    help="With --self: the addresses of this network namespace instead of this host's.",
)
@click.option("--ports", "port_spec", metavar="LIST", help="TCP ports: 22,80,443,1000-2000.")
@click.option(
    "--top",
    type=int,
    metavar="N",
    help=(
        "The N most often open TCP ports, ranked from nmap's nmap-services when installed "
        "(8,366 ranked TCP ports: --top 1000 is nmap's --top-ports 1000); without nmap, from a "
        "built-in list of 123, so a larger N probes those 123 and says so."
    ),
)
@click.option("--all", "all_ports", is_flag=True, help="Every TCP port, 1-65535.")
@click.option("--udp", "udp_spec", metavar="LIST", help="UDP ports to probe (named only).")
@click.option(
    "--no-icmp",
    is_flag=True,
    help=(
        "Skip the ICMP tests: echo, a neighbour solicitation to each on-link IPv6 target, and "
        "the error probe (UDP 33434: does an ICMP port-unreachable come back?)."
    ),
)
@click.option(
    "--from-netns",
    metavar="NAME",
    help="Probe from inside this network namespace (a lab host); this process sends nothing.",
)
@click.option(
    "--source",
    "sources",
    multiple=True,
    metavar="ADDR",
    help=(
        "Send from this address (repeat for the other family): the probing host's own address. "
        "Without --from-netns, --self probes reach this host's addresses through its loopback "
        "interface, where rules on iif lo apply."
    ),
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("-o", "--output", metavar="FILE", help="Write the report here instead of stdout.")
@click.option(
    "--fail-on-mismatch/--no-fail-on-mismatch",
    default=True,
    show_default=True,
    help="Exit 1 when IPv6 exposes a port that IPv4 does not.",
)
@click.option("--expect-open", metavar="LIST", help="TCP ports that must be open everywhere.")
@click.option("--expect-closed", metavar="LIST", help="TCP ports that must not be open anywhere.")
@click.option("--concurrency", type=click.IntRange(1, 20000), default=2000, show_default=True)
@click.option("--rate", type=click.FloatRange(min=1), help="At most this many probes a second.")
@click.option("--retries", type=click.IntRange(0, 10), default=2, show_default=True)
@click.option(
    "--timeout",
    type=click.FloatRange(0.01, 30),
    default=1.0,
    show_default=True,
    help="Seconds to wait before any RTT is known; then 4 x the p90 RTT (at least 0.1 s).",
)
def probe(
    targets: Tuple[str, ...],
    self_: bool,
    self_netns: Optional[str],
    port_spec: Optional[str],
    top: Optional[int],
    all_ports: bool,
    udp_spec: Optional[str],
    no_icmp: bool,
    from_netns: Optional[str],
    sources: Tuple[str, ...],
    fmt: str,
    output: Optional[str],
    fail_on_mismatch: bool,
    expect_open: Optional[str],
    expect_closed: Optional[str],
    concurrency: int,
    rate: Optional[float],
    retries: int,
    timeout: float,
) -> int:
    """Probe TARGETs (addresses or names: every A and AAAA record) over IPv4 and IPv6.

    Never a range or a prefix: only what is named. Default ports: the 100 most common.
    """
    import json

    from v6gap.probe import parity, ports
    from v6gap.probe.engine import ProbeOptions
    from v6gap.probe.run import check_netns, probe_from_netns
    from v6gap.probe.run import probe as probe_here
    from v6gap.probe.targets import Targets, merge_targets, parse_sources, resolve_targets
    from v6gap.probe.text import render_text

    if sum(x is not None and x is not False for x in (port_spec, top, all_ports)) > 1:
        raise click.UsageError("choose one of --ports, --top and --all")
    if self_netns and not self_:
        raise click.UsageError("--self-netns only goes with --self")
    if self_ and not from_netns and not sources:
        raise click.UsageError(
            "--self needs --from-netns NAME or --source ADDR: where the probe of this host's own "
            "addresses is sent from"
        )
    if not targets and not self_:
        raise click.UsageError("name at least one TARGET, or --self")
    source_addresses = parse_sources(sources)
    ports_note = ""
    if all_ports:
        tcp = ports.ALL_PORTS
    elif port_spec is not None:
        tcp = ports.parse_port_spec(port_spec)
    else:
        count = top if top is not None else 100
        tcp, source = ports.ranked_top_ports(count)
        short = f" (--top {count} asked for more than it ranks)" if len(tcp) < count else ""
        ports_note = f"ports: the {len(tcp)} most common TCP ports, from {source}{short}"
    want_open = ports.parse_port_spec(expect_open) if expect_open else ()
    want_closed = ports.parse_port_spec(expect_closed) if expect_closed else ()
    tcp = ports.merge_ports(tcp, want_open, want_closed)
    udp = ports.parse_port_spec(udp_spec) if udp_spec else ()
    resolved = resolve_targets(targets) if targets else Targets()
    if from_netns:
        check_netns(from_netns)  # before anything is collected or sent
    if self_:
        resolved = merge_targets(_self_targets(self_netns), resolved)
    options = ProbeOptions(concurrency, rate, retries, timeout, sources=source_addresses)
    origin = f"namespace {from_netns}" if from_netns else "this host"
    if source_addresses:
        origin += f" (source {', '.join(source_addresses)})"
    progress = sys.stderr.isatty()
    if from_netns:
        run = probe_from_netns(from_netns, resolved, tcp, udp, options, not no_icmp, progress)
    else:
        run = probe_here(resolved, tcp, udp, options, not no_icmp, progress)
    rows = parity.build_rows(run)
    checks = parity.check_expectations(run, want_open, want_closed)
    if fmt == "json":
        text = json.dumps(parity.to_json_data(run, rows), indent=2) + "\n"
    elif fmt in ("sarif", "junit"):
        from v6gap.checks.probe import ProbeEvidence
        from v6gap.checks.run import run_probe_checks
        from v6gap.report import OutputFormat, render

        evidence = ProbeEvidence(run, tuple(checks), ports_note, origin, tuple(rows))
        report = run_probe_checks(
            evidence,
            hostname=self_netns if self_ and self_netns else None,
            source="netns" if self_ and self_netns else "live",
        )
        text = render(report, OutputFormat(fmt))
        text = text if text.endswith("\n") else text + "\n"
    else:
        text = render_text(run, rows, checks, ports_note, origin)
    write_output(text, output)
    failed = (fail_on_mismatch and parity.ipv6_wider(rows)) or any(not c.passed for c in checks)
    return 1 if failed else 0
