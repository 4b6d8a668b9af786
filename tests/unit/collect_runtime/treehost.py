"""A live-looking ``Host`` that answers from a recorded tree and recorded command outputs."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

from v6gap.collect.host import Host

RECORDED = Path(__file__).resolve().parents[2] / "fixtures" / "recorded"

Answer = Union[Tuple[int, str, str], List[Any], BaseException]


class TreeHost(Host):
    """``is_image`` stays False (a live host); files come from ``tree``, tools from ``commands``
    (``"argv joined by spaces" -> (status, stdout, stderr)`` or an exception to raise)."""

    def __init__(self, tree: Path, commands: Optional[Mapping[str, Answer]] = None) -> None:
        super().__init__("/")
        self.tree = str(tree)
        self.commands: Dict[str, Answer] = dict(commands or {})
        self.calls: List[List[str]] = []

    def resolve(self, path: str) -> str:
        return os.path.join(self.tree, path.lstrip("/"))

    def run(self, argv: List[str], timeout: float = 20.0) -> Tuple[int, str, str]:
        self.calls.append(list(argv))
        answer = self.commands.get(" ".join(argv))
        if answer is None:
            raise FileNotFoundError(argv[0])
        if isinstance(answer, BaseException):
            raise answer
        status, out, err = answer
        return int(status), str(out), str(err)


def recorded_json(*parts: str) -> Any:
    return json.loads(RECORDED.joinpath(*parts).read_text())


def recorded_commands(*parts: str) -> Dict[str, Tuple[int, str, str]]:
    return {k: (v[0], v[1], v[2]) for k, v in recorded_json(*parts).items()}
