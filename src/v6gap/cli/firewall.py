"""``v6gap firewall parity`` and ``v6gap firewall explain`` on a given ruleset."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Optional

import click

from v6gap.cli.output import write_output
from v6gap.errors import InputError

if TYPE_CHECKING:
    from v6gap.firewall.model import Ruleset
    from v6gap.firewall.parity import Decision

FORMATS = ["text", "json"]
PROTOCOL_HELP = "tcp, udp, icmp, icmpv6, another protocol name or a number"


def _read_file(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _ruleset_options(fn: click.decorators.FC) -> click.decorators.FC:
    fn = click.option("--snapshot", "snapshot_file", metavar="FILE", help="A saved snapshot.")(fn)
    fn = click.option("--ip6tables", metavar="FILE", help="ip6tables-save output.")(fn)
    fn = click.option("--iptables", metavar="FILE", help="iptables-save output.")(fn)
    fn = click.option("--nft", metavar="FILE", help="`nft -j list ruleset` output.")(fn)
    fn = click.option("--format", "fmt", type=click.Choice(FORMATS), default="text")(fn)
    fn = click.option("-o", "--output", metavar="FILE", help="Write here instead of stdout.")(fn)
    return fn


def _load(
    nft: Optional[str], iptables: Optional[str], ip6tables: Optional[str], snapshot: Optional[str]
) -> Ruleset:
    from v6gap.firewall.sources import read_firewall, read_snapshot

    if snapshot is not None:
        if nft or iptables or ip6tables:
            raise click.UsageError("--snapshot cannot be combined with ruleset files")
        from v6gap import snapshot_io

        return read_snapshot(snapshot_io.load(snapshot))
    if not (nft or iptables or ip6tables):
        raise click.UsageError("give --nft FILE, --iptables/--ip6tables FILE or --snapshot FILE")
    saves = {}
    if iptables:
        saves["iptables-save"] = _read_file(iptables)
    if ip6tables:
        saves["ip6tables-save"] = _read_file(ip6tables)
    nft_text = _read_file(nft) if nft else None
    if nft_text is not None and not nft_text.lstrip().startswith("{"):
        raise InputError(f"{nft}: not `nft -j list ruleset` JSON (ruleset text is not read yet)")
    return read_firewall(nft_text, saves)


@click.group()
def firewall() -> None:
    """Analyse a ruleset: what IPv6 lets in that IPv4 does not, and why."""


@firewall.command()
@_ruleset_options
def parity(
    output: Optional[str],
    fmt: str,
    nft: Optional[str],
    iptables: Optional[str],
    ip6tables: Optional[str],
    snapshot_file: Optional[str],
) -> int:
    """Every port, protocol and ICMP type where new connections from the network get a
    different verdict over IPv4 and over IPv6."""
    from v6gap.firewall.parity import parity as find

    ruleset = _load(nft, iptables, ip6tables, snapshot_file)
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
    ruleset = _load(nft, iptables, ip6tables, snapshot_file)
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
