"""The command-line front: the only place errors become messages and exit codes."""

from __future__ import annotations

import sys
from typing import Optional, Sequence

import click

from v6gap import __version__
from v6gap.cli.audit import audit, snapshot
from v6gap.cli.firewall import firewall
from v6gap.cli.harden import harden
from v6gap.cli.lab import lab
from v6gap.cli.probe import probe

EXIT_USAGE = 2


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="v6gap")
def cli() -> None:
    """v6gap: find and close the gap between a host's IPv4 and IPv6 security."""


cli.add_command(audit)
cli.add_command(snapshot)
cli.add_command(firewall)
cli.add_command(harden)
cli.add_command(lab)
cli.add_command(probe)


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Entry point: one-line errors on stderr, exit 2 for anything that stopped the run."""
    from v6gap.errors import V6gapError

    try:
        code = cli.main(args=list(argv) if argv is not None else None, standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("v6gap: aborted", err=True)
        sys.exit(130)
    except click.UsageError as exc:
        where = f"{exc.ctx.command_path}: " if exc.ctx else ""
        click.echo(f"v6gap: error: {where}{exc.format_message()}", err=True)
        sys.exit(EXIT_USAGE)
    except click.ClickException as exc:
        click.echo(f"v6gap: error: {exc.format_message()}", err=True)
        sys.exit(EXIT_USAGE)
    except V6gapError as exc:
        click.echo(f"v6gap: error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    except BrokenPipeError:
        sys.exit(0)
    except KeyboardInterrupt:
        click.echo("v6gap: interrupted", err=True)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
