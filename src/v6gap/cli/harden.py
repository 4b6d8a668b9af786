"""``v6gap harden``: init, plan, apply, confirm and rollback (errors become exit 2 in main)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, NamedTuple, Optional

import click

from v6gap.cli.output import write_output

if TYPE_CHECKING:
    from v6gap.harden.policy import Policy
    from v6gap.harden.preflight import Refusal
    from v6gap.harden.render import Artefact
    from v6gap.model import Profile, Snapshot


@click.group()
def harden() -> None:
    """Harden from a policy: sysctl.d, modprobe.d and nftables, rolled back unless confirmed."""


def _require_dir(root: str) -> None:
    import os

    from v6gap.errors import InputError

    if not os.path.isdir(root):
        raise InputError(f"--root {root}: no such directory")


def _say(line: str) -> None:
    click.echo(line)


_ROOT_HELP = "Files (and the backups) under this directory instead of /."


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


class _Prepared(NamedTuple):
    policy: Policy
    snapshot: Snapshot
    artefacts: tuple[Artefact, ...]
    refusals: tuple[Refusal, ...]


def _prepare(policy_file: str, root: str, offline: bool) -> _Prepared:
    """The policy, what it renders for this target, and preflight's refusals (plan and apply)."""
    import os

    from v6gap.harden.policy import load_policy
    from v6gap.harden.preflight import parse_ssh_connection, preflight
    from v6gap.harden.render import render
    from v6gap.harden.verify import collect_target

    policy = load_policy(policy_file)
    _require_dir(root)
    snap = collect_target(root, offline)
    artefacts = render(policy, snap)
    session = parse_ssh_connection(os.environ.get("SSH_CONNECTION"))
    return _Prepared(policy, snap, artefacts, preflight(policy, snap, artefacts, session))


def _image_only(root: str) -> bool:
    """``--root DIR`` run from the host's own namespace: DIR is an image, nothing runs there."""
    import os

    from v6gap.harden.apply import in_initial_netns

    return os.path.abspath(root) != "/" and in_initial_netns()


_OFFLINE_HELP = "Only the files under --root: no sysctls, no ruleset, no timer."


@harden.command()
@click.option("--policy", "policy_file", metavar="FILE", required=True, help="The v6gap.yaml.")
@click.option(
    "--root",
    metavar="DIR",
    default="/",
    show_default=True,
    help="Compare with the files under this directory (only read).",
)
@click.option("--offline", is_flag=True, help=_OFFLINE_HELP)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option("-o", "--output", metavar="FILE", help="Write here, not stdout.")
def plan(policy_file: str, root: str, offline: bool, fmt: str, output: Optional[str]) -> int:
    """Render the files the policy sets and show a unified diff against what is there.

    Renders for the same target as `apply` (this namespace's running state and the files under
    --root; the files alone with --offline or for an image read from the host), and lists
    preflight's refusals.
    """
    import os

    from v6gap.harden.plan import plan as make_plan
    from v6gap.harden.plan import unified_diff

    prepared = _prepare(policy_file, root, offline or _image_only(root))
    planned = make_plan(prepared.artefacts, root)
    if fmt == "json":
        data = {
            "schema": "v6gap.plan/1",
            "root": os.path.abspath(root),
            "profile": prepared.policy.profile.value,
            "files": [{"path": f.path, "action": f.action, "content": f.content} for f in planned],
            "refusals": [{"code": r.code, "reason": r.reason} for r in prepared.refusals],
        }
        write_output(json.dumps(data, indent=2) + "\n", output)
        return 0
    diff = unified_diff(planned)
    summary = "".join(f"# {f.action}: {f.path}\n" for f in planned)
    summary += "".join(
        f"# refused: {r.reason} (apply needs --override {r.code})\n" for r in prepared.refusals
    )
    write_output(summary + diff, output)
    return 0


@harden.command()
@click.option("--policy", "policy_file", metavar="FILE", required=True, help="The v6gap.yaml.")
@click.option("--root", metavar="DIR", default="/", show_default=True, help=_ROOT_HELP)
@click.option("--offline", is_flag=True, help=_OFFLINE_HELP)
@click.option(
    "--confirm-timeout",
    metavar="S",
    type=click.FloatRange(1, 86400),
    default=60,
    show_default=True,
    help="Roll back after S seconds unless `v6gap harden confirm` ran.",
)
@click.option(
    "--override", "overrides", metavar="CODE", multiple=True, help="Accept this preflight refusal."
)
def apply(
    policy_file: str, root: str, offline: bool, confirm_timeout: float, overrides: tuple[str, ...]
) -> int:
    """Back up, write the files, set the sysctls, load the ruleset; then audit.

    The new state goes live with a rollback timer that survives this terminal: without
    `v6gap harden confirm` in time, the previous files, sysctls and ruleset come back.
    """
    from v6gap.errors import InputError
    from v6gap.harden.apply import apply as apply_policy
    from v6gap.harden.backup import HardenError
    from v6gap.harden.plan import plan as make_plan
    from v6gap.harden.render import SYSCTL_PATH, known_routers
    from v6gap.harden.verify import collect_target, covered_checks

    if not offline and _image_only(root):
        # Files into a directory but the live state of this very host: almost surely a mistake.
        raise InputError(
            f"--root {root} with the runtime part would change this host's own network "
            "namespace: add --offline, or run it inside the namespace (ip netns exec NAME ...)"
        )
    from v6gap.harden.preflight import CODES

    unknown_codes = sorted(set(overrides) - set(CODES))
    if unknown_codes:
        raise InputError(
            f"--override {unknown_codes[0]}: no such preflight check (one of {', '.join(CODES)})"
        )
    prepared = _prepare(policy_file, root, offline)
    refused = [r for r in prepared.refusals if r.code not in overrides]
    for refusal in refused:
        click.echo(f"refused: {refusal.reason} (to accept: --override {refusal.code})", err=True)
    if refused:
        raise HardenError(f"apply refused by {len(refused)} preflight check(s); nothing written")
    policy, artefacts = prepared.policy, prepared.artefacts
    _, skipped = apply_policy(
        policy,
        policy_file,
        root,
        make_plan(artefacts, root),
        offline=offline,
        timeout=confirm_timeout,
        say=_say,
    )
    sysctl_conf = next(a.content for a in artefacts if a.path == SYSCTL_PATH)
    routers = bool(known_routers(policy, prepared.snapshot))
    target = collect_target(root, offline)
    # Offline, the image's ruleset is judged when its files decide it (nftables.service loads
    # v6gap's file at boot: collect.boot_firewall); never when another tool builds it.
    boot_ruleset = offline and target.firewall.boot is not None and not target.missing("nft")
    covered = covered_checks(policy.profile, offline, skipped, sysctl_conf, routers, boot_ruleset)
    return _post_apply_audit(target, policy.profile, covered)


def _post_apply_audit(target: Snapshot, profile: Profile, covered: tuple[str, ...]) -> int:
    from v6gap.checks.run import run_checks
    from v6gap.harden.verify import audit_lines

    report = run_checks(target, profile)
    lines, ok = audit_lines(report, covered)
    for line in lines:
        _say(line)
    return 0 if ok else 1


@harden.command()
@click.option("--root", metavar="DIR", default="/", show_default=True, help=_ROOT_HELP)
def confirm(root: str) -> int:
    """Keep the applied state: stop the rollback timer of the pending apply."""
    from v6gap.harden.apply import confirm as confirm_apply

    _require_dir(root)
    confirm_apply(root, _say)
    return 0


@harden.command()
@click.argument("backup_id", metavar="[ID]", required=False)
@click.option("--root", metavar="DIR", default="/", show_default=True, help=_ROOT_HELP)
def rollback(backup_id: Optional[str], root: str) -> int:
    """Restore a backup (the newest without ID): files, sysctls and the previous ruleset."""
    from v6gap.harden.apply import rollback as rollback_apply

    _require_dir(root)
    rollback_apply(root, backup_id, _say)
    return 0
