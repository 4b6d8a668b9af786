"""``v6gap harden init`` and ``plan``: a policy from the host, and the files it would write."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Optional

import click

from v6gap.cli.output import write_output

if TYPE_CHECKING:
    from v6gap.model import Snapshot


@click.group()
def harden() -> None:
    """Harden from a policy: sysctl.d, modprobe.d and nftables (init and plan; nothing applied)."""


def _init_snapshot(netns: Optional[str], root: Optional[str], snapshot: Optional[str]) -> Snapshot:
    given = [n for n, v in (("--netns", netns), ("--root", root), ("--snapshot", snapshot)) if v]
    if len(given) > 1:
        raise click.UsageError(f"{' and '.join(given)} cannot be combined")
    if snapshot is not None:
        from v6gap import snapshot_io

        return snapshot_io.load(snapshot)
    from v6gap.cli.audit import _collect

    return _collect(netns, root)


@harden.command()
@click.option("-o", "--output", metavar="FILE", required=True, help="Write the policy here.")
@click.option("--netns", metavar="NAME", help="Read a named network namespace.")
@click.option("--root", metavar="DIR", help="Read a mounted image or chroot.")
@click.option("--snapshot", "snapshot_file", metavar="FILE", help="Read a saved snapshot.")
def init(
    output: str, netns: Optional[str], root: Optional[str], snapshot_file: Optional[str]
) -> int:
    """Write a policy from what the host runs now: its network-facing listeners and routers."""
    from v6gap.harden.init import policy_from_snapshot
    from v6gap.harden.policy import dump_policy

    snap = _init_snapshot(netns, root, snapshot_file)
    policy = policy_from_snapshot(snap)
    where = {"netns": f"namespace {snap.netns}", "root": f"root {snap.root}"}.get(
        snap.source, f"{snap.source} host {snap.hostname}"
    )
    head = (
        f"# v6gap hardening policy, from what {where} runs now ({snap.collected_at}).\n"
        "# Review before `v6gap harden plan`; see docs/v6gap.example.yaml for every key.\n"
    )
    if snap.source == "root":
        head += "# From an image: no listeners or routers are known; add your services.\n"
    write_output(head + dump_policy(policy), output)
    return 0


@harden.command()
@click.option("--policy", "policy_file", metavar="FILE", required=True, help="The v6gap.yaml.")
@click.option(
    "--root",
    metavar="DIR",
    default="/",
    show_default=True,
    help="Compare with the files under this directory (only read).",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option("-o", "--output", metavar="FILE", help="Write here, not stdout.")
def plan(policy_file: str, root: str, fmt: str, output: Optional[str]) -> int:
    """Render the files the policy sets and show a unified diff against what is there."""
    import os

    from v6gap.errors import InputError
    from v6gap.harden.plan import plan as make_plan
    from v6gap.harden.plan import unified_diff
    from v6gap.harden.policy import load_policy
    from v6gap.harden.render import render

    policy = load_policy(policy_file)
    if not os.path.isdir(root):
        raise InputError(f"--root {root}: no such directory")
    planned = make_plan(render(policy), root)
    if fmt == "json":
        data = {
            "schema": "v6gap.plan/1",
            "root": os.path.abspath(root),
            "profile": policy.profile.value,
            "files": [{"path": f.path, "action": f.action, "content": f.content} for f in planned],
        }
        write_output(json.dumps(data, indent=2) + "\n", output)
        return 0
    diff = unified_diff(planned)
    summary = "".join(f"# {f.action}: {f.path}\n" for f in planned)
    write_output(summary + diff, output)
    return 0
