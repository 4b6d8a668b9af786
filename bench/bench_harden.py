"""``v6gap harden plan`` and ``apply`` (without the confirm wait) on a lab server namespace.

Builds a throw-away pair lab (client, server on documentation prefixes) with a listener on the
server, copies a Debian 12 image tree to a temp ``--root``, and runs every command inside the
server namespace (``ip netns exec``), as a user would. Each ``apply`` starts from the state
before it: an untimed ``rollback`` of the previous run comes first. Also timed, for context:
the second ``apply`` that finds nothing to change, ``confirm`` and ``rollback``. Medians of
``--repeat`` runs, whole processes (interpreter start-up included). Needs root.

    .venv/bin/python bench/bench_harden.py [--repeat 7] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

from timing import BenchError, Timing

from v6gap.lab import scenarios
from v6gap.lab.build import Lab

ROOT_IMAGE = Path(__file__).resolve().parents[1] / "tests/fixtures/roots/debian-12"
POLICY = "services: [{port: 22}, {port: 80}, {port: 443, proto: udp}]\n"
TARGETS = {"plan": 1.0, "apply": 2.0}  # seconds (issue 5)


class Bench:
    def __init__(self, lab: Lab, root: Path, policy: Path) -> None:
        self.lab, self.root, self.policy = lab, root, policy

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "v6gap", "harden", *args, "--root", str(self.root)]

    def run(self, *args: str, ok: tuple[int, ...] = (0,)) -> tuple[float, str]:
        argv = ["ip", "netns", "exec", self.lab.ns("server"), *self.argv(*args)]
        start = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=300)
        elapsed = time.perf_counter() - start
        if done.returncode not in ok:
            raise BenchError(f"harden {args[0]}: exit {done.returncode}: {done.stderr.strip()}")
        return elapsed, done.stdout

    def apply(self) -> tuple[float, str]:
        return self.run("apply", "--policy", str(self.policy), "--confirm-timeout", "600")


def measure(name: str, runs: int, step: Callable[[], float]) -> Timing:
    samples = tuple(step() for _ in range(runs))
    return Timing(name, (name,), "s", samples, tuple(0 for _ in samples))


def bench(repeat: int) -> list[Timing]:
    with tempfile.TemporaryDirectory(prefix="v6gap-bench-harden-") as tmp:
        root, policy = Path(tmp) / "root", Path(tmp) / "v6gap.yaml"
        shutil.copytree(ROOT_IMAGE, root, symlinks=True)
        policy.write_text(POLICY)
        with Lab(scenarios.pair()) as lab:
            for port in (22, 80):
                lab.start_listener("server", "tcp", "::", port, v6only=False, name=f"lab-{port}")
            lab.start_listener("server", "udp", "::", 443, v6only=False, name="lab-443")
            b = Bench(lab, root, policy)
            b.run("plan", "--policy", str(policy))  # untimed: fills the bytecode cache
            timings = [measure("plan", repeat, lambda: b.run("plan", "--policy", str(policy))[0])]

            def apply_fresh() -> float:
                elapsed, out = b.apply()
                if "rollback at" not in out:
                    raise BenchError(f"apply did not arm its timer: {out}")
                b.run("rollback")
                return elapsed

            timings.append(measure("apply", repeat, apply_fresh))
            b.apply()

            def apply_again() -> float:
                elapsed, out = b.apply()
                if not out.startswith("nothing to change"):
                    raise BenchError(f"second apply changed something: {out}")
                return elapsed

            timings.append(measure("apply, nothing to change", repeat, apply_again))

            def confirm() -> float:
                b.run("rollback")
                b.apply()
                return b.run("confirm")[0]

            timings.append(measure("confirm", repeat, confirm))
            timings.append(measure("rollback", repeat, lambda: _rollback_after_apply(b)))
    return timings


def _rollback_after_apply(b: Bench) -> float:
    b.apply()
    return b.run("rollback")[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args()
    timings = bench(args.repeat)
    print("| command | runs | median | min | max | target |")
    print("|---|---|---|---|---|---|")
    for t in timings:
        target = f"< {TARGETS[t.name]:g} s" if t.name in TARGETS else ""
        print(
            f"| `{t.name}` | {len(t.samples)} | {t.median:.3f} s | {t.minimum:.3f} s "
            f"| {t.maximum:.3f} s | {target} |"
        )
    if args.json:
        Path(args.json).write_text(json.dumps([t.to_json() for t in timings], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
