"""``v6gap firewall parity``, ``explain`` and ``lint`` on a given ruleset or a namespace's."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Callable, Optional

import click

from v6gap.cli.output import write_output
from v6gap.errors import InputError
from v6gap.model import Profile, Severity

if TYPE_CHECKING:
    from v6gap.firewall.model import Ruleset
    from v6gap.firewall.parity import Decision
    from v6gap.model import Snapshot

FORMATS = ["text", "json"]
PROTOCOL_HELP = "tcp, udp, icmp, icmpv6, another protocol name or a number"


def _read_file(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _ruleset_options(fn: click.decorators.FC) -> click.decorators.FC:
    fn = click.option(
        "--netns", metavar="NAME", help="The live ruleset of a named network namespace."
    )(fn)
    fn = click.option("--snapshot", "snapshot_file", metavar="FILE", help="A saved snapshot.")(fn)
    fn = click.option("--ip6tables", metavar="FILE", help="ip6tables-save output.")(fn)
    fn = click.option("--iptables", metavar="FILE", help="iptables-save output.")(fn)
    fn = click.option("--nft", metavar="FILE", help="`nft -j list ruleset` output.")(fn)
    return fn


def _format_option(choices: list[str]) -> Callable[[click.decorators.FC], click.decorators.FC]:
    def add(fn: click.decorators.FC) -> click.decorators.FC:
        fn = click.option("--format", "fmt", type=click.Choice(choices), default="text")(fn)
        return click.option("-o", "--output", metavar="FILE", help="Write here, not stdout.")(fn)

    return add


def _netns_snapshot(name: str) -> Snapshot:
    """The namespace's snapshot, collected inside it as ``v6gap audit --netns`` does."""
    from v6gap import __version__, snapshot_io
    from v6gap.collect.snapshot import CollectFailed, collect_netns
    from v6gap.errors import CollectError

    try:
        data = collect_netns(name, __version__)
    except CollectFailed as exc:
        raise CollectError(str(exc)) from None
    return snapshot_io.from_data(data, f"namespace {name}")


def _given_snapshot(
    nft: Optional[str],
    iptables: Optional[str],
    ip6tables: Optional[str],
    snapshot: Optional[str],
    netns: Optional[str],
) -> Optional[Snapshot]:
    """The snapshot named by --snapshot or --netns; None when ruleset files are given."""
    if snapshot is not None and netns is not None:
        raise click.UsageError("--snapshot and --netns cannot be combined")
    if snapshot is None and netns is None:
        if not (nft or iptables or ip6tables):
            raise click.UsageError(
                "give --nft FILE, --iptables/--ip6tables FILE, --snapshot FILE or --netns NAME"
            )
        return None
    if nft or iptables or ip6tables:
        which = "--snapshot" if snapshot is not None else "--netns"
        raise click.UsageError(f"{which} cannot be combined with ruleset files")
    if netns is not None:
        return _netns_snapshot(netns)
    from v6gap import snapshot_io

    assert snapshot is not None
    return snapshot_io.load(snapshot)


def _firewall_dumps(
    nft: Optional[str], iptables: Optional[str], ip6tables: Optional[str]
) -> tuple[Optional[str], dict[str, str]]:
    saves = {}
    if iptables:
        saves["iptables-save"] = _read_file(iptables)
    if ip6tables:
        saves["ip6tables-save"] = _read_file(ip6tables)
    nft_text = _read_file(nft) if nft else None
    if nft_text is not None and not nft_text.lstrip().startswith("{"):
        raise InputError(f"{nft}: not `nft -j list ruleset` JSON (ruleset text is not read yet)")
    return nft_text, saves


def _load(
    nft: Optional[str],
    iptables: Optional[str],
    ip6tables: Optional[str],
    snapshot: Optional[str],
    netns: Optional[str] = None,
) -> Ruleset:
    from v6gap.firewall.sources import read_firewall, read_snapshot

    snap = _given_snapshot(nft, iptables, ip6tables, snapshot, netns)
    if snap is not None:
        return read_snapshot(snap)
    return read_firewall(*_firewall_dumps(nft, iptables, ip6tables))


@click.group()
def firewall() -> None:
    """Analyse a ruleset: what IPv6 lets in that IPv4 does not, and why."""


@firewall.command()
@_ruleset_options
@_format_option(FORMATS)
def parity(
    output: Optional[str],
    fmt: str,
    nft: Optional[str],
    iptables: Optional[str],
    ip6tables: Optional[str],
    snapshot_file: Optional[str],
    netns: Optional[str],
) -> int:
    """Every port, protocol and ICMP type where new connections from the network get a
    different verdict over IPv4 and over IPv6."""
    from v6gap.firewall.parity import parity as find

    ruleset = _load(nft, iptables, ip6tables, snapshot_file, netns)
    differences = find(ruleset)
    if fmt == "json":
        data = {"differences": [d.to_json() for d in differences], "notes": list(ruleset.notes)}
        write_output(json.dumps(data, indent=2) + "\n", output)
        return 0
    lines = [f"{'proto':<8} {'ports/types':<13} {'IPv4':<12} {'IPv6':<12} wider"]
    for d in differences:
        span = "" if d.from_port is None else f"{d.from_port}-{d.to_port}"
        if d.from_port == d.to_port and d.from_port is not None:
            span = str(d.from_port)
        lines.append(f"{d.proto:<8} {span:<13} {d.ipv4:<12} {d.ipv6:<12} {d.wider}")
    if not differences:
        lines = ["IPv4 and IPv6 give new connections from the network the same verdicts."]
    lines += [f"note: {n}" for n in ruleset.notes]
    write_output("\n".join(lines) + "\n", output)
    return 0


def _protocol(word: str) -> int:
    from v6gap.firewall._names import PROTOCOLS, number

    found = number(word, PROTOCOLS, 255)
    if found is None:
        raise click.BadParameter(f"{word!r}: expected {PROTOCOL_HELP}")
    return found


def _explanation(decision: Decision) -> dict[str, Any]:
    data: dict[str, Any] = {"verdict": decision.verdict, "trace": list(decision.trace)}
    if decision.verdict in ("conditional", "unknown"):
        data["other_trace"] = list(decision.other_trace)
    if decision.sources:
        data["accepted_sources"] = list(decision.sources)
    return data


@firewall.command()
@_ruleset_options
@_format_option(FORMATS)
@click.option("--family", type=click.Choice(["4", "6"]), required=True)
@click.option("--proto", "protocol", required=True, help=PROTOCOL_HELP)
@click.option("--dport", type=click.IntRange(0, 65535), help="Destination port (tcp/udp).")
@click.option("--icmp-type", help="ICMP or ICMPv6 type, number or name.")
@click.option("--saddr", help="Source address or prefix (default: every network source).")
@click.option("--iif", help="Input interface (default: any but lo).")
def explain(
    output: Optional[str],
    fmt: str,
    nft: Optional[str],
    iptables: Optional[str],
    ip6tables: Optional[str],
    snapshot_file: Optional[str],
    netns: Optional[str],
    family: str,
    protocol: str,
    dport: Optional[int],
    icmp_type: Optional[str],
    saddr: Optional[str],
    iif: Optional[str],
) -> int:
    """The verdict for a new incoming connection, with the rules that decided it."""
    from v6gap.firewall._names import ICMP_TYPES, ICMPV6_TYPES, number
    from v6gap.firewall.parity import explain as run

    fam = "ipv6" if family == "6" else "ipv4"
    type_number: Optional[int] = None
    if icmp_type is not None:
        type_number = number(icmp_type, ICMPV6_TYPES if fam == "ipv6" else ICMP_TYPES, 255)
        if type_number is None:
            raise click.BadParameter(f"{icmp_type!r}: not an ICMP type", param_hint="--icmp-type")
    ruleset = _load(nft, iptables, ip6tables, snapshot_file, netns)
    decision = run(ruleset, fam, _protocol(protocol), dport, type_number, saddr, iif)
    data = _explanation(decision)
    if fmt == "json":
        write_output(json.dumps(data, indent=2) + "\n", output)
        return 0
    lines = [f"verdict: {decision.verdict}", *(f"  {step}" for step in decision.trace)]
    if "other_trace" in data:
        lines += ["otherwise:", *(f"  {step}" for step in decision.other_trace)]
    if decision.sources:
        lines.append("accepted from: " + "; ".join(decision.sources))
    write_output("\n".join(lines) + "\n", output)
    return 0


# --------------------------------------------------------------------------- lint

LINT_CHECKS = (
    "V6G-FW-04",
    "V6G-FW-05",
    "V6G-FW-06",
    "V6G-FW-07",
    "V6G-FW-08",
    "V6G-FW-09",
    "V6G-FW-11",
    "V6G-FW-12",
    "V6G-TUN-04",
)
LINT_FORMATS = ["text", "json", "sarif", "junit"]
FORWARDING = "net.ipv6.conf.all.forwarding"
LINT_ASSUMPTIONS = (
    "V6G-FW-12 judges the forward path as if IPv6 forwarding were on",
    "V6G-TUN-04 judges protocol 41 and UDP 3544 as if no tunnel were in use",
)


def lint_snapshot(firewall_part: Any, unavailable: dict[str, str], hostname: str) -> Snapshot:
    """A snapshot holding only a firewall: what the lint's checks read, and nothing else.

    IPv6 forwarding is set on so that FW-12 judges the forward path; no interface or process
    exists, so TUN-04 takes every tunnel as unused.
    """
    from v6gap.model import SNAPSHOT_SCHEMA, Snapshot

    return Snapshot(
        schema=SNAPSHOT_SCHEMA,
        source="snapshot",
        hostname=hostname,
        tool_version="",
        collected_at="",
        ipv6_proc=True,
        sysctl={FORWARDING: "1"},
        firewall=firewall_part,
        unavailable={k: v for k, v in unavailable.items() if k == "nft" or k.endswith("-save")},
    )


@firewall.command()
@_ruleset_options
@_format_option(LINT_FORMATS)
@click.option(
    "--profile",
    type=click.Choice([p.value for p in Profile]),
    default="server",
    show_default=True,
    help="The host's role (FW-04 asks routers and SLAAC hosts for more ICMPv6).",
)
@click.option(
    "--fail-on",
    type=click.Choice([s.value for s in Severity]),
    default="high",
    show_default=True,
    help="Exit 1 when a check of this severity or above fails.",
)
def lint(
    output: Optional[str],
    fmt: str,
    nft: Optional[str],
    iptables: Optional[str],
    ip6tables: Optional[str],
    snapshot_file: Optional[str],
    netns: Optional[str],
    profile: str,
    fail_on: str,
) -> int:
    """The ruleset's own mistakes: FW-04 to FW-09, FW-11, FW-12 and TUN-04 on any ruleset."""
    from v6gap import __version__
    from v6gap.checks.context import Context
    from v6gap.checks.registry import all_checks
    from v6gap.checks.run import evaluate, to_finding
    from v6gap.model import REPORT_SCHEMA, Firewall, Report, Status, Tool
    from v6gap.model import Target as ReportTarget
    from v6gap.report import OutputFormat, render

    snap = _given_snapshot(nft, iptables, ip6tables, snapshot_file, netns)
    if snap is not None:
        name = f"namespace {netns}" if netns is not None else str(snapshot_file)
        synthetic = lint_snapshot(snap.firewall, dict(snap.unavailable), name)
    else:
        nft_json, saves = _firewall_dumps(nft, iptables, ip6tables)
        name = ", ".join(f for f in (nft, iptables, ip6tables) if f)
        synthetic = lint_snapshot(Firewall(nft_json=nft_json, saves=saves), {}, name)
    chosen = Profile(profile)
    ctx = Context(synthetic, chosen)
    checks = [c for c in all_checks() if c.meta.id in LINT_CHECKS]
    findings = tuple(to_finding(c, evaluate(c, ctx)) for c in checks)
    summary = {s.value: 0 for s in Status}
    for f in findings:
        summary[f.status.value] += 1
    report = Report(
        schema=REPORT_SCHEMA,
        tool=Tool(name="v6gap", version=__version__),
        target=ReportTarget(
            hostname=name, source="netns" if netns else "snapshot", profile=chosen.value
        ),
        summary=summary,
        findings=findings,
        suggestions=(),
    )
    text = render(report, OutputFormat(fmt))
    if fmt == "text":
        text = text.rstrip("\n") + "\n" + "".join(f"assumed: {a}\n" for a in LINT_ASSUMPTIONS)
    write_output(text if text.endswith("\n") else text + "\n", output)
    return 1 if report.failed_at_or_above(Severity(fail_on)) else 0
