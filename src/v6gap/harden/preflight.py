"""Preflight: the seed's failure modes, judged before anything is written.

Contract shared by ``harden plan`` and ``harden apply``: each refusal names the reason and the
code that overrides it (``--override CODE``, repeatable). Pure: every input is data.
"""

from __future__ import annotations

from typing import Optional

import msgspec

from v6gap.harden.policy import Policy
from v6gap.harden.render import Artefact
from v6gap.model import Snapshot


class Refusal(msgspec.Struct, frozen=True):
    code: str  # stable, kebab-case: what ``--override CODE`` names
    reason: str  # one line: what would break, and the evidence


class Session(msgspec.Struct, frozen=True):
    """The management connection running the command (from ``$SSH_CONNECTION``), if any."""

    client: str
    client_port: int
    server: str
    server_port: int


def parse_ssh_connection(value: Optional[str]) -> Optional[Session]:
    """``$SSH_CONNECTION`` ("client cport server sport") as a Session; None when absent or bad."""
    if not value:
        return None
    parts = value.split()
    if len(parts) != 4 or not parts[1].isdigit() or not parts[3].isdigit():
        return None
    return Session(parts[0], int(parts[1]), parts[2], int(parts[3]))


def preflight(
    policy: Policy,
    snapshot: Snapshot,
    artefacts: tuple[Artefact, ...],
    session: Optional[Session] = None,
) -> tuple[Refusal, ...]:
    """Every refusal for applying ``artefacts`` (rendered from ``policy``) to this host."""
    raise NotImplementedError("preflight is being written (issue 5)")
