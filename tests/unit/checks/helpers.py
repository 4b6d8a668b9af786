"""Running one check on snapshot data."""

from __future__ import annotations

from typing import Any, Mapping, Union

from tests.conftest import make_snapshot
from v6gap.checks.base import Check, Result
from v6gap.checks.context import Context
from v6gap.checks.run import evaluate
from v6gap.model import Profile, Snapshot


def conf(scopes: dict[str, dict[str, str]]) -> dict[str, str]:
    """``{"eth0": {"accept_ra": "1"}}`` -> dotted ``net.ipv6.conf.eth0.accept_ra`` keys."""
    return {
        f"net.ipv6.conf.{scope}.{key}": value
        for scope, keys in scopes.items()
        for key, value in keys.items()
    }


def judge(check: Check, profile: str = "server", **fields: Any) -> Result:
    return judge_snapshot(check, make_snapshot(**fields), profile)


def judge_snapshot(check: Check, snapshot: Snapshot, profile: str = "server") -> Result:
    return evaluate(check, Context(snapshot, Profile(profile)))


Fact = Union[str, Mapping[str, str]]


def config(texts: Mapping[str, Fact]) -> dict[str, Any]:
    """The ``files`` and ``dirs`` fields for files given as path -> text (or a FileFact dict)."""
    files = {p: ({"text": t} if isinstance(t, str) else dict(t)) for p, t in texts.items()}
    dirs: dict[str, list[str]] = {}
    for path in texts:
        parent, name = path.rsplit("/", 1)
        if parent.endswith(".d"):
            dirs.setdefault(parent, []).append(name)
    return {"files": files, "dirs": {d: sorted(n) for d, n in dirs.items()}}
