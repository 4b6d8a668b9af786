"""``v6gap firewall parity``, ``explain`` and ``lint`` on a given ruleset or a namespace's."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

import click

from v6gap.cli.output import write_output
from v6gap.errors import RulesetError
from v6gap.model import Profile, Severity, Source

if TYPE_CHECKING:
    from v6gap.firewall.model import Ruleset
    from v6gap.model import Snapshot

FORMATS = ["text", "json"]
PROTOCOL_HELP = "tcp, udp, icmp, icmpv6, another protocol name or a number"


MAX_RULESET_FILE = 256 << 20  # characters; a 200k-rule nft -j dump is ~100 MB


def _read_file(path: str) -> str:
    from v6gap.firewall._nft_source import read_bounded

    return read_bounded(path, MAX_RULESET_FILE, "ruleset file")


def _ruleset_options(fn: click.decorators.FC) -> click.decorators.FC:
    fn = click.option(
        "--live", is_flag=True, help="This host's live ruleset (read only; root needed)."
    )(fn)
    fn = click.option(
        "--netns", metavar="NAME", help="The live ruleset of a named network namespace."
    )(fn)
    fn = click.option("--snapshot", "snapshot_file", metavar="FILE", help="A saved snapshot.")(fn)
    fn = click.option("--ip6tables", metavar="FILE", help="ip6tables-save output.")(fn)
    fn = click.option("--iptables", metavar="FILE", help="iptables-save output.")(fn)
    fn = click.option(
        "--include-dir",
        "include_dirs",
        metavar="DIR",
        multiple=True,
        help="A directory the nft text's includes may read besides the file's own.",
    )(fn)
    fn = click.option(
        "--nft",
        metavar="FILE",
        help="`nft -j list ruleset` JSON, or an nft ruleset text file (read by nft in a "
        "private network namespace, never loaded on this host).",
    )(fn)
    return fn


def _format_option(choices: list[str]) -> Callable[[click.decorators.FC], click.decorators.FC]:
    def add(fn: click.decorators.FC) -> click.decorators.FC:
        fn = click.option("--format", "fmt", type=click.Choice(choices), default="text")(fn)
        return click.option("-o", "--output", metavar="FILE", help="Write here, not stdout.")(fn)

    return add


@dataclass(frozen=True)
class Given:
    """The ruleset sources on the command line: files, or one of snapshot, netns, live."""

    nft: Optional[str] = None
    iptables: Optional[str] = None
    ip6tables: Optional[str] = None
    snapshot: Optional[str] = None
    netns: Optional[str] = None
    live: bool = False
    include_dirs: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        if self.live:
            return "this host (live)"
        if self.netns is not None:
            return f"namespace {self.netns}"
        if self.snapshot is not None:
            return self.snapshot
        return ", ".join(f for f in (self.nft, self.iptables, self.ip6tables) if f)

    @property
    def source(self) -> Source:
        return "live" if self.live else "netns" if self.netns is not None else "snapshot"


def _check_sources(given: Given) -> None:
    """Exactly one kind of source; a one-line usage error otherwise."""
    kinds = [
        name
        for name, present in (
            ("--nft/--iptables/--ip6tables", bool(given.nft or given.iptables or given.ip6tables)),
            ("--snapshot", given.snapshot is not None),
            ("--netns", given.netns is not None),
            ("--live", given.live),
        )
        if present
    ]
    if not kinds:
        raise click.UsageError(
            "give --nft FILE, --iptables/--ip6tables FILE, --snapshot FILE, --netns NAME or --live"
        )
    if len(kinds) > 1:
        raise click.UsageError(f"{kinds[0]} and {kinds[1]} cannot be combined: give one source")
    if given.include_dirs and given.nft is None:
        raise click.UsageError("--include-dir only applies to an nft text file given with --nft")


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


def _live_snapshot() -> Snapshot:
    """This host's rulesets, read exactly as the audit's collector reads them (never changed)."""
    import socket

    from v6gap.checks.lint import lint_snapshot
    from v6gap.collect.firewall import collect_firewall
    from v6gap.collect.host import Host
    from v6gap.model import Firewall

    part, unavailable = collect_firewall(Host())
    data = part.get("firewall", {})
    assert isinstance(data, dict)
    if data.get("nft_json") is None and not data.get("saves"):
        why = "; ".join(f"{k}: {v}" for k, v in sorted(unavailable.items()))
        raise RulesetError(f"no live ruleset could be read ({why})")
    firewall_part = Firewall(nft_json=data.get("nft_json"), saves=dict(data.get("saves", {})))
    return lint_snapshot(firewall_part, dict(unavailable), socket.gethostname(), "live")


def _given_snapshot(given: Given) -> Optional[Snapshot]:
    """The snapshot named by --snapshot, --netns or --live; None when ruleset files are given."""
    _check_sources(given)
    if given.live:
        return _live_snapshot()
    if given.netns is not None:
        return _netns_snapshot(given.netns)
    if given.snapshot is None:
        return None
    from v6gap import snapshot_io

    return snapshot_io.load(given.snapshot)


def _nft_file(given: Given) -> Union[str, Ruleset, None]:
    """The --nft file: its JSON text, or the ruleset nft reads from its ruleset text (each
    rule with its file and line)."""
    if given.nft is None:
        return None
    text = _read_file(given.nft)
    from v6gap.firewall.nft_text import looks_like_json, read_nft_text

    if looks_like_json(text):
        return text
    return read_nft_text(given.nft, given.include_dirs)


def _save_files(given: Given) -> dict[str, str]:
    saves = {}
    if given.iptables:
        saves["iptables-save"] = _read_file(given.iptables)
    if given.ip6tables:
        saves["ip6tables-save"] = _read_file(given.ip6tables)
    return saves


def _load(given: Given) -> Ruleset:
    from v6gap.firewall.sources import read_firewall, read_snapshot

    snap = _given_snapshot(given)
    if snap is not None:
        return read_snapshot(snap)
    return read_firewall(_nft_file(given), _save_files(given))


def _given(**options: Any) -> Given:
    keys = ("nft", "iptables", "ip6tables", "live", "include_dirs")
    return Given(
        **{k: options[k] for k in keys}, snapshot=options["snapshot_file"], netns=options["netns"]
    )


@click.group()
def firewall() -> None:
    """Analyse a ruleset: what IPv6 lets in that IPv4 does not, and why."""


@firewall.command()
@_ruleset_options
@_format_option(FORMATS)
def parity(output: Optional[str], fmt: str, **sources: Any) -> int:
    """Every port, protocol and ICMP type where new connections from the network get a
    different verdict over IPv4 and over IPv6."""
    from v6gap.firewall.parity import parity as find

    ruleset = _load(_given(**sources))
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
        for family, label in (("ipv4", "IPv4"), ("ipv6", "IPv6")):
            side = d.why[family]
            if side.get("accepted_sources"):
                lines.append(f"  {label} accepts only from: " + "; ".join(side["accepted_sources"]))
            if side.get("accepted_interfaces"):
                lines.append(
                    f"  {label} accepts only on: " + ", ".join(side["accepted_interfaces"])
                )
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


@firewall.command()
@_ruleset_options
@_format_option(FORMATS)
@click.option("--family", type=click.Choice(["4", "6"]), required=True)
@click.option("--proto", "protocol", required=True, help=PROTOCOL_HELP)
@click.option("--dport", type=click.IntRange(0, 65535), help="Destination port (tcp/udp).")
@click.option("--icmp-type", help="ICMP or ICMPv6 type, number or name.")
@click.option("--saddr", help="Source address or prefix (default: every network source).")
@click.option("--iif", help="Input interface (default: any but lo).")
@click.option(
    "--daddr",
    help="Destination address (default: one of the host's own, known only from a snapshot).",
)
def explain(
    output: Optional[str],
    fmt: str,
    family: str,
    protocol: str,
    dport: Optional[int],
    icmp_type: Optional[str],
    saddr: Optional[str],
    iif: Optional[str],
    daddr: Optional[str],
    **sources: Any,
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
    ruleset = _load(_given(**sources))
    decision = run(ruleset, fam, _protocol(protocol), dport, type_number, saddr, iif, daddr=daddr)
    data = decision.to_data()
    notes = list(ruleset.notes)  # what the verdict does not take into account, as parity says
    if fmt == "json":
        write_output(json.dumps({**data, "notes": notes}, indent=2) + "\n", output)
        return 0
    lines = [f"verdict: {decision.verdict}", *(f"  {step}" for step in decision.trace)]
    if "other_trace" in data:
        lines += ["otherwise:", *(f"  {step}" for step in decision.other_trace)]
    if decision.sources:
        lines.append("accepted from: " + "; ".join(decision.sources))
    if decision.interfaces:
        lines.append("accepted on: " + ", ".join(decision.interfaces))
    lines += [f"note: {n}" for n in notes]
    write_output("\n".join(lines) + "\n", output)
    return 0


# --------------------------------------------------------------------------- lint

LINT_FORMATS = ["text", "json", "sarif", "junit"]


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
    profile: str,
    fail_on: str,
    **sources: Any,
) -> int:
    """The ruleset's own mistakes: FW-04 to FW-09, FW-11, FW-12 and TUN-04 on any ruleset."""
    from v6gap.checks.lint import LINT_ASSUMPTIONS, lint_report, lint_snapshot
    from v6gap.firewall.model import Ruleset
    from v6gap.model import Firewall
    from v6gap.report import OutputFormat, render

    given = _given(**sources)
    snap = _given_snapshot(given)
    name = given.label
    nft_ruleset: Optional[Ruleset] = None
    if snap is not None:
        synthetic = lint_snapshot(snap.firewall, dict(snap.unavailable), name, given.source)
    else:
        nft = _nft_file(given)  # a text file's ruleset comes read, each rule with its line
        nft_ruleset = nft if isinstance(nft, Ruleset) else None
        nft_json = nft if isinstance(nft, str) else None
        firewall_part = Firewall(nft_json=nft_json, saves=_save_files(given))
        synthetic = lint_snapshot(firewall_part, {}, name, "snapshot")
    report = lint_report(synthetic, Profile(profile), nft_ruleset)
    text = render(report, OutputFormat(fmt))
    if fmt == "text":
        text = text.rstrip("\n") + "\n" + "".join(f"assumed: {a}\n" for a in LINT_ASSUMPTIONS)
    write_output(text if text.endswith("\n") else text + "\n", output)
    return 1 if report.failed_at_or_above(Severity(fail_on)) else 0
