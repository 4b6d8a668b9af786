"""``v6gap lab``: build, list and tear down throw-away labs of network namespaces."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

import click

if TYPE_CHECKING:
    from v6gap.lab.state import LabRecord
    from v6gap.lab.teardown import DownReport


@click.group()
def lab() -> None:
    """Throw-away labs (server, attacker, router) in v6g-* network namespaces."""


@lab.command()
@click.argument("scenario", default="basic")
@click.option(
    "--name-suffix",
    metavar="ID",
    help="Lab id (1-12 lowercase letters or digits) instead of a random one; "
    "namespaces are named v6g-HOST-ID.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the lab record as JSON.")
def up(scenario: str, name_suffix: Optional[str], as_json: bool) -> int:
    """Build SCENARIO (default: basic) and leave it up; see `v6gap lab scenarios`."""
    from v6gap.lab import scenarios
    from v6gap.lab.build import Lab

    built = Lab(scenarios.get(scenario), suffix=name_suffix).up()
    built.detach()
    if as_json:
        click.echo(json.dumps(_record_data(built.record), indent=2))
    else:
        click.echo(_record_text(built.record))
        click.echo(f"tear down with: v6gap lab down {built.lab_id}")
    return 0


@lab.command()
@click.argument("lab_ids", nargs=-1, metavar="[LAB_ID]...")
@click.option(
    "--all",
    "all_labs",
    is_flag=True,
    help="Every recorded lab, then any leftover v6g-* namespace and /etc/netns/v6g-* directory "
    "(processes in leftovers are killed only when a lab record names them).",
)
@click.option("--prefix", default="v6g-", hidden=True, help="Narrow --all to this prefix.")
def down(lab_ids: Tuple[str, ...], all_labs: bool, prefix: str) -> int:
    """Tear down labs made by `up` (the only one when no LAB_ID is given)."""
    from v6gap.errors import LabError
    from v6gap.lab import state, teardown

    report = teardown.DownReport()
    if all_labs:
        if lab_ids:
            raise click.UsageError("give lab ids or --all, not both")
        report = teardown.down_all(prefix)
    else:
        if not lab_ids:
            known = [state.load(p).lab_id for p in state.list_records()]
            if not known:
                raise LabError("no lab is up (leftovers: `v6gap lab down --all`)")
            if len(known) > 1:
                raise LabError(f"several labs are up ({', '.join(known)}): name one, or --all")
            lab_ids = (known[0],)
        for lab_id in lab_ids:
            report.merge(teardown.down_lab(lab_id))
    click.echo(_down_text(report))
    report.raise_problems()
    return 0


@lab.command()
@click.argument("lab_ids", nargs=-1, metavar="[LAB_ID]...")
@click.option("--json", "as_json", is_flag=True, help="Print the lab records as JSON.")
def status(lab_ids: Tuple[str, ...], as_json: bool) -> int:
    """List labs that are up: hosts, namespaces, addresses, listeners, and leftovers."""
    from v6gap.errors import LabError
    from v6gap.lab import netns, state

    records, unreadable = [], []
    for path in state.list_records():
        try:
            records.append(state.load(path))
        except LabError as exc:
            unreadable.append(str(exc))
    if lab_ids:
        records, unreadable = [state.find_record(i) for i in lab_ids], []
    known_ns = {h.ns for r in records for h in r.hosts}
    known_etc = {h.etc_dir for r in records for h in r.hosts if h.etc_dir}
    leftovers = [n for n in netns.list_namespaces() if n not in known_ns]
    leftovers += [d for d in netns.list_etc_dirs() if d not in known_etc]
    if lab_ids:
        leftovers = []
    if as_json:
        data = {
            "labs": [_record_data(r) for r in records],
            "leftovers": leftovers,
            "unreadable": unreadable,
        }
        click.echo(json.dumps(data, indent=2))
        return 0
    if not records:
        click.echo("no lab is up")
    for problem in unreadable:
        click.echo(problem)
    for rec in records:
        click.echo(_record_text(rec))
    if leftovers:
        click.echo(f"leftovers no lab record names (v6gap lab down --all): {' '.join(leftovers)}")
    return 0


@lab.command("scenarios")
def list_scenarios() -> int:
    """List the built-in scenarios."""
    from v6gap.lab import scenarios

    for name, text in scenarios.describe():
        click.echo(f"{name:8} {text}")
    return 0


@lab.command()
def kinds() -> int:
    """Probe which interface kinds (and the netem qdisc) this kernel supports."""
    from v6gap.lab import netns

    found = netns.probe_link_kinds()
    click.echo(f"supported: {' '.join(k for k, ok in found.items() if ok) or '-'}")
    click.echo(f"not supported: {' '.join(k for k, ok in found.items() if not ok) or '-'}")
    return 0


def _record_data(rec: LabRecord) -> Dict[str, Any]:
    import msgspec

    from v6gap.lab import netns, state

    data: Dict[str, Any] = msgspec.to_builtins(rec)
    for host in data["hosts"]:
        inode = host["netns_inode"]
        host["present"] = inode is not None and netns.ns_inode(host["ns"]) == inode
    for proc, rec_proc in zip(data["processes"], rec.processes):
        proc["running"] = state.is_ours(rec_proc)
    return data


def _record_text(rec: LabRecord) -> str:
    from v6gap.lab import netns, state

    done = "" if rec.complete else " (incomplete: being built, or its build failed)"
    lines = [f"lab {rec.lab_id}  scenario {rec.scenario}  created {rec.created_at}{done}"]
    for host in rec.hosts:
        present = host.netns_inode is not None and netns.ns_inode(host.ns) == host.netns_inode
        lines.append(f"  {host.name:10} {host.role:9} {host.ns}{'' if present else '  (gone)'}")
        lines += [f"      {a}" for a in host.addresses]
    listeners: List[str] = []
    for proc in rec.processes:
        alive = "running" if state.is_ours(proc) else "gone"
        if proc.kind == "listener":
            addr = f"[{proc.address}]" if proc.address and ":" in proc.address else proc.address
            scope = "" if proc.v6only is None else (" v6only" if proc.v6only else " dual-stack")
            what = f"{proc.proto} {addr}:{proc.port}{scope}"
            what += f" ({proc.name})" if proc.name else ""
        else:
            what = " ".join(proc.argv)
        listeners.append(f"      {proc.host:10} {what:44} pid {proc.pid} {alive}")
    if listeners:
        lines.append("  processes:")
        lines += listeners
    return "\n".join(lines)


def _down_text(report: DownReport) -> str:
    parts = [
        f"labs: {' '.join(report.labs) or '-'}",
        f"namespaces: {' '.join(report.namespaces) or '-'}",
        f"/etc/netns: {' '.join(report.etc_dirs) or '-'}",
        f"killed: {' '.join(map(str, report.killed)) or '-'}",
    ]
    return "removed " + "; ".join(parts)
