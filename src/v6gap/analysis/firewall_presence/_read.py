"""The snapshot's firewall dumps read once, into the engine's model, for every check.

The happy path is one ``read_firewall`` over every dump. Only when a dump is unreadable is each
read on its own to find which, and the readable rest read again without it: presence must still
count positive evidence from the dumps that could be read (an iptables-save with policy DROP is
"filtered" even when ``nft -j`` failed), while the engine refuses a ruleset with a hole in it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Union

from v6gap.errors import RulesetError
from v6gap.firewall.iptables import read_save
from v6gap.firewall.model import Ruleset
from v6gap.firewall.nft import SOURCE as NFT_SOURCE
from v6gap.firewall.nft import read_nft
from v6gap.firewall.sources import (
    located,
    nft_source,
    read_firewall,
    save_backend,
)
from v6gap.model import Snapshot


@dataclass(frozen=True)
class Dumps:
    """What was read: the ruleset of the readable dumps, and why the others were not."""

    ruleset: Ruleset
    nft_read: bool
    problems: dict[str, str] = field(default_factory=dict)  # "nft" or command -> why unread
    backends: dict[str, Optional[str]] = field(default_factory=dict)  # source name -> backend
    # What the nft JSON's tables are named: the live dump, or an image's boot ruleset.
    nft_source: str = NFT_SOURCE

    @property
    def any_dump(self) -> bool:
        return self.nft_read or bool(self.backends) or bool(self.problems)


def read_dumps(snapshot: Snapshot, nft_ruleset: Optional[Ruleset] = None) -> Dumps:
    """Every dump of the snapshot in one model (never raises on bad input).

    ``nft_ruleset``: the nft tables already read (a ruleset text file, its rules carrying their
    lines), used instead of the snapshot's nft JSON."""
    nft_json: Union[str, Ruleset, None] = snapshot.firewall.nft_json
    if nft_ruleset is not None:
        nft_json = nft_ruleset
    # The engine names a dump's backend (pre-1.8 headers are legacy), so presence and
    # `v6gap firewall --snapshot` read the same dumps under the same names.
    saves = dict(snapshot.firewall.saves)
    source = nft_source(snapshot.firewall)
    if nft_ruleset is not None and nft_ruleset.tables:
        source = nft_ruleset.tables[0].source  # the text file's name, which its tables carry
    backends = {command: save_backend(command, text) for command, text in saves.items()}
    if nft_json is None and not saves:
        return Dumps(Ruleset(), False, nft_source=source)
    try:
        ruleset = located(read_firewall(nft_json, saves, source), snapshot)
        return Dumps(ruleset, nft_json is not None, {}, backends, source)
    except RulesetError:
        pass
    problems: dict[str, str] = {}
    if isinstance(nft_json, str):
        try:
            read_nft(nft_json, source)
        except RulesetError as exc:
            problems["nft"] = f"{source} unreadable: {exc}"
            nft_json = None
    for command in sorted(saves):
        try:
            read_save(saves[command], command)
        except RulesetError as exc:
            problems[command] = f"{command} unreadable: {exc}"
    readable = {c: t for c, t in saves.items() if c not in problems}
    try:
        ruleset = located(read_firewall(nft_json, readable, source), snapshot)
    except RulesetError as exc:  # each read alone; together they should not fail
        problems["merge"] = f"the dumps could not be read together: {exc}"
        ruleset = Ruleset()
    kept = {c: b for c, b in backends.items() if c not in problems}
    return Dumps(ruleset, nft_json is not None, problems, kept, source)
