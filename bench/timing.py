"""Wall-clock timing of whole commands, the way a user meets them (start-up included)."""

from __future__ import annotations

import re
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence


class BenchError(Exception):
    """A measured command did not run as it should: the figures would be meaningless."""


@dataclass(frozen=True)
class Timing:
    """The samples of one measurement, in its own unit (seconds or milliseconds)."""

    name: str
    argv: tuple[str, ...]
    unit: str
    samples: tuple[float, ...]
    exit_codes: tuple[int, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def minimum(self) -> float:
        return min(self.samples)

    @property
    def maximum(self) -> float:
        return max(self.samples)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "argv": list(self.argv),
            "unit": self.unit,
            "runs": len(self.samples),
            "median": round(self.median, 4),
            "min": round(self.minimum, 4),
            "max": round(self.maximum, 4),
            "samples": [round(s, 4) for s in self.samples],
            "exit_codes": list(self.exit_codes),
        }


def _last_line(text: bytes) -> str:
    lines = text.decode(errors="replace").strip().splitlines()
    return lines[-1] if lines else "(no output)"


def time_command(
    name: str,
    argv: Sequence[str],
    runs: int,
    ok_exit: Sequence[int] = (0,),
    cwd: Optional[Path] = None,
    env: Optional[Mapping[str, str]] = None,
    warmup: int = 0,
) -> Timing:
    """Run argv `runs` times (after `warmup` untimed runs), timing each with perf_counter
    around the whole subprocess."""
    samples: list[float] = []
    codes: list[int] = []
    for i in range(warmup + runs):
        start = time.perf_counter()
        proc = subprocess.run(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=None if env is None else dict(env),
            check=False,
        )
        elapsed = time.perf_counter() - start
        if proc.returncode not in ok_exit:
            raise BenchError(f"{name}: exit {proc.returncode}: {_last_line(proc.stderr)}")
        if i >= warmup:
            samples.append(elapsed)
            codes.append(proc.returncode)
    return Timing(name, tuple(argv), "s", tuple(samples), tuple(codes))


# "import time: self [us] | cumulative | imported package", one line per module; the package
# column is indented two spaces per nesting level after the separator's own space.
_IMPORTTIME_LINE = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\| (\s*)(\S+)\s*$")


def parse_importtime(stderr: str, module: str) -> int:
    """Cumulative microseconds of the outermost import of `module` in `-X importtime` output."""
    best: Optional[tuple[int, int]] = None  # (indent, cumulative)
    for line in stderr.splitlines():
        match = _IMPORTTIME_LINE.match(line)
        if match is None or match.group(4) != module:
            continue
        indent = len(match.group(3))
        if best is None or indent < best[0]:
            best = (indent, int(match.group(2)))
    if best is None:
        raise BenchError(f"-X importtime output has no line for {module}")
    return best[1]


def time_import(
    python: Path,
    module: str,
    runs: int,
    env: Optional[Mapping[str, str]] = None,
    warmup: int = 0,
) -> Timing:
    """Cumulative import time of `module`, as `python -X importtime` reports it, in ms."""
    argv = (str(python), "-X", "importtime", "-c", f"import {module}")
    samples: list[float] = []
    codes: list[int] = []
    for i in range(warmup + runs):
        proc = subprocess.run(
            list(argv),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            env=None if env is None else dict(env),
            check=False,
        )
        if proc.returncode != 0:
            raise BenchError(f"import {module}: exit {proc.returncode}: {_last_line(proc.stderr)}")
        micros = parse_importtime(proc.stderr.decode(errors="replace"), module)
        if i >= warmup:
            samples.append(micros / 1000.0)
            codes.append(proc.returncode)
    return Timing(f"import {module}", argv, "ms", tuple(samples), tuple(codes))
