"""``v6gap audit`` and ``v6gap snapshot``."""

from __future__ import annotations

import os
import sys
from typing import Optional

import click

from v6gap import __version__
from v6gap.cli.output import write_output
from v6gap.model import Profile, Severity, Snapshot

PROFILES = [p.value for p in Profile]
SEVERITIES = [s.value for s in Severity]
FORMATS = ["text", "json", "sarif", "junit"]


def _target_options(fn: click.decorators.FC) -> click.decorators.FC:
    fn = click.option("--netns", metavar="NAME", help="A named network namespace.")(fn)
    fn = click.option(
        "--root", metavar="DIR", help="A mounted image or chroot: judge what it will boot with."
    )(fn)
    return fn


def _collect(netns: Optional[str], root: Optional[str]) -> Snapshot:
    from v6gap.collect.snapshot import CollectFailed, collect
    from v6gap.errors import CollectError, InputError
    from v6gap.snapshot_io import from_data

    if netns and root:
        raise click.UsageError("--netns and --root cannot be combined")
    if root is not None and not os.path.isdir(root):
        raise InputError(f"--root {root}: no such directory")
    try:
        data = collect(__version__, netns=netns, root=root)
    except CollectFailed as exc:
        raise CollectError(str(exc)) from None
    return from_data(data, "collected snapshot")


@click.command()
@_target_options
@click.option("--snapshot", "snapshot_file", metavar="FILE", help="Audit a saved snapshot.")
@click.option(
    "--profile",
    type=click.Choice(PROFILES),
    default="server",
    show_default=True,
    help="The host's role: what it is judged against.",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("-o", "--output", metavar="FILE", help="Write the report here instead of stdout.")
@click.option(
    "--fail-on",
    type=click.Choice(SEVERITIES),
    default="high",
    show_default=True,
    help="Exit 1 when a check of this severity or above fails.",
)
@click.option(
    "--scan-targets",
    metavar="FILE",
    help="Also write every global IPv6 address of the host to FILE, one per line.",
)
@click.option(
    "--probe-from-netns",
    metavar="NAME",
    help=(
        "Also probe the audited host's global addresses from this network namespace (a lab "
        "host) and add the V6G-PROBE-* findings; packets confirm or contradict EXP-03 and FW-03."
    ),
)
@click.option(
    "--probe-ports",
    metavar="LIST",
    help=(
        "With --probe-from-netns: TCP ports to probe besides the host's listeners "
        "(default: the 100 most common)."
    ),
)
def audit(
    netns: Optional[str],
    root: Optional[str],
    snapshot_file: Optional[str],
    profile: str,
    fmt: str,
    output: Optional[str],
    fail_on: str,
    scan_targets: Optional[str],
    probe_from_netns: Optional[str],
    probe_ports: Optional[str],
) -> int:
    """Audit this host (default), a namespace, an image or a saved snapshot."""
    from v6gap import snapshot_io
    from v6gap.checks.run import run_checks
    from v6gap.report import OutputFormat, render

    if snapshot_file and (netns or root):
        raise click.UsageError("--snapshot cannot be combined with --netns or --root")
    if probe_ports is not None and not probe_from_netns:
        raise click.UsageError("--probe-ports only goes with --probe-from-netns")
    if probe_from_netns and probe_from_netns == netns:
        raise click.UsageError(
            "--probe-from-netns must be another namespace than --netns: a host's packets to its "
            "own addresses go through its loopback interface, not its input filter"
        )
    if probe_from_netns and (snapshot_file or root):
        raise click.UsageError(
            "--probe-from-netns probes a running host: not with --snapshot or --root"
        )
    if probe_from_netns:
        from v6gap.probe.ports import parse_port_spec
        from v6gap.probe.run import check_netns

        if probe_ports is not None:
            parse_port_spec(probe_ports)
        check_netns(probe_from_netns, "--probe-from-netns")  # before anything is collected or sent
    if snapshot_file:
        snap = snapshot_io.load(snapshot_file)
        report = run_checks(snap, Profile(profile), source="snapshot")
    else:
        snap = _collect(netns, root)
        evidence = None
        if probe_from_netns:
            from v6gap.probe.audit import probe_evidence

            evidence = probe_evidence(snap, probe_from_netns, probe_ports)
        report = run_checks(snap, Profile(profile), probe=evidence)
    color = output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    text = render(report, OutputFormat(fmt), color=color)
    if scan_targets:
        from v6gap.analysis.addresses import global_ipv6

        targets = sorted({addr.address for _, addr in global_ipv6(snap)})
        write_output("".join(f"{a}\n" for a in targets), scan_targets)
    write_output(text if text.endswith("\n") else text + "\n", output)
    return 1 if report.failed_at_or_above(Severity(fail_on)) else 0


@click.command()
@_target_options
@click.option("-o", "--output", metavar="FILE", help="Write the snapshot here (default stdout).")
def snapshot(netns: Optional[str], root: Optional[str], output: Optional[str]) -> int:
    """Collect the raw facts of a host into one JSON document, to audit elsewhere or later."""
    from v6gap import snapshot_io

    write_output(snapshot_io.dumps(_collect(netns, root)), output)
    return 0
