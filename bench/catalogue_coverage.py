"""How many of the catalogue's checks each tool covers: v6gap from its own reports, peers from data.

Run alone (`.venv/bin/python bench/catalogue_coverage.py`) it audits this host under every
profile, checks the peer mappings against the Lynis sources installed here and prints the table.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Optional

BENCH_DIR = Path(__file__).resolve().parent
CHECKS_SRC = BENCH_DIR.parent / "src" / "v6gap" / "checks"
LYNIS_MAPPING = BENCH_DIR / "lynis_coverage.json"
OPENSCAP_MAPPING = BENCH_DIR / "openscap_coverage.json"
LYNIS_INCLUDE = Path("/usr/share/lynis/include")
LYNIS_PROFILE = Path("/etc/lynis/default.prf")
LYNIS_GROUPS = ("networking", "firewalls", "kernel_hardening")

# PRODUCT.md, "Check catalogue": these ids must exist and keep their meaning.
CATALOGUE_IDS = (
    *(f"V6G-STATE-0{i}" for i in range(1, 6)),
    *(f"V6G-NDP-0{i}" for i in range(1, 8)),
    *(f"V6G-TUN-0{i}" for i in range(1, 5)),
    *(f"V6G-FW-{i:02d}" for i in range(1, 13)),
    *(f"V6G-EXP-0{i}" for i in range(1, 6)),
)
PROFILES = ("server", "disabled", "slaac-host", "router", "k8s-node")
LEVELS = ("full", "partial", "none")
ENGINE_MARK = "needs the firewall engine"


def run_audit(v6gap: Path, profile: str, out: Path) -> dict[str, Any]:
    """Audit this host as JSON (exit 1 only means findings) and return the report."""
    argv = [str(v6gap), "audit", "--format", "json", "--profile", profile, "-o", str(out)]
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, check=False)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(argv)}: exit {proc.returncode}: {proc.stderr.decode()}")
    report: dict[str, Any] = json.loads(out.read_text())
    return report


def engine_mentions(checks_src: Path = CHECKS_SRC) -> set[str]:
    """Check ids whose module says it needs the firewall engine for some of its cases."""
    ids: set[str] = set()
    for module in checks_src.rglob("*.py"):
        text = module.read_text(errors="replace")
        if ENGINE_MARK in text:
            ids.update(re.findall(r'id="(V6G-[A-Z]+-\d+)"', text))
    return ids


def v6gap_coverage(
    reports: dict[str, dict[str, Any]], engine_ids: Optional[set[str]] = None
) -> dict[str, Any]:
    """Decided versus unknown in the server run; what other profiles add; what awaits the engine."""
    by_profile = {
        profile: {f["id"]: f for f in report["findings"]} for profile, report in reports.items()
    }
    server = by_profile["server"]
    missing = [cid for cid in CATALOGUE_IDS if cid not in server]
    items: dict[str, Any] = {}
    for cid in CATALOGUE_IDS:
        finding = server.get(cid, {})
        status = finding.get("status", "missing")
        reason = finding.get("reason") or ""
        judged_in = [
            p
            for p in by_profile
            if by_profile[p].get(cid, {}).get("status") in ("pass", "fail", "info")
        ]
        items[cid] = {
            "status_server": status,
            "decided": status in ("pass", "fail", "info", "skip"),
            "needs_engine": status == "unknown" and ENGINE_MARK in reason,
            "reason": reason,
            "judged_under_profiles": judged_in,
            "status_by_profile": {p: by_profile[p].get(cid, {}).get("status") for p in by_profile},
        }
    decided = [c for c, i in items.items() if i["decided"]]
    unknown = [c for c, i in items.items() if i["status_server"] == "unknown"]
    engine = [c for c in unknown if items[c]["needs_engine"]]
    # Decided here, yet their module needs the engine once a real ruleset is in play: the verdict
    # came from this host's state (no filtering at all, no IPv6 listener), not from rule evaluation.
    conditional = sorted(
        c for c in (engine_ids or set()) if c in items and items[c]["judged_under_profiles"]
    )
    return {
        "catalogue_size": len(CATALOGUE_IDS),
        "missing_from_report": missing,
        "server_status_counts": dict(Counter(i["status_server"] for i in items.values())),
        "decided": len(decided),
        "decided_skip_only": [c for c in decided if items[c]["status_server"] == "skip"],
        "unknown": len(unknown),
        "unknown_needs_engine": engine,
        "unknown_other": [c for c in unknown if c not in engine],
        "decided_here_engine_conditional": conditional,
        "judged_under_some_profile": sum(1 for i in items.values() if i["judged_under_profiles"]),
        "items": items,
    }


def load_mapping(path: Path, ref_field: str) -> dict[str, Any]:
    """Read a peer mapping and check its shape: every catalogue id, a known level, references."""
    data: dict[str, Any] = json.loads(path.read_text())
    items = data["items"]
    problems = [f"{path.name}: missing {c}" for c in CATALOGUE_IDS if c not in items]
    problems += [f"{path.name}: unknown id {c}" for c in items if c not in CATALOGUE_IDS]
    for cid, item in items.items():
        if item["level"] not in LEVELS:
            problems.append(f"{path.name}: {cid}: level {item['level']!r}")
        if item["level"] != "none" and not item[ref_field]:
            problems.append(f"{path.name}: {cid}: {item['level']} without {ref_field}")
    if ref_field == "rules":
        known = {r["id"] for r in data["rules"]}
        problems += [
            f"{path.name}: {cid}: rule {r} not in the rule list"
            for cid, item in items.items()
            for r in item["rules"]
            if r not in known
        ]
    data["problems"] = problems
    return data


def verify_lynis_sources(mapping: dict[str, Any], performed: Optional[set[str]]) -> list[str]:
    """Each Lynis test id exists in the three groups' sources (and ran, given a run's log);
    each sysctl key is a `config-data=sysctl;KEY;` line of the scan profile."""
    sources = "".join(
        (LYNIS_INCLUDE / f"tests_{group}").read_text(errors="replace") for group in LYNIS_GROUPS
    )
    registered = set(re.findall(r"Register --test-no (\S+)", sources))
    profile = LYNIS_PROFILE.read_text(errors="replace")
    problems: list[str] = []
    for cid, item in mapping["items"].items():
        for test in item["tests"]:
            if test not in registered:
                problems.append(f"lynis: {cid}: {test} is not a test of {', '.join(LYNIS_GROUPS)}")
            elif performed is not None and test not in performed:
                problems.append(f"lynis: {cid}: {test} did not run in the measured run")
        for key in item["sysctl_keys"]:
            if f"config-data=sysctl;{key};" not in profile:
                problems.append(f"lynis: {cid}: {key} is not in {LYNIS_PROFILE}")
    return problems


def level_counts(mapping: dict[str, Any]) -> dict[str, int]:
    counts = Counter(item["level"] for item in mapping["items"].values())
    return {level: counts.get(level, 0) for level in LEVELS}


def summary_markdown(v6: dict[str, Any], lynis: dict[str, Any], oscap: dict[str, Any]) -> str:
    """The counts table: one row per tool."""
    n = v6["catalogue_size"]
    lc, oc = level_counts(lynis), level_counts(oscap)
    engine = len(v6["unknown_needs_engine"])
    other = len(v6["unknown_other"])
    skip = len(v6["decided_skip_only"])
    cond = len(v6["decided_here_engine_conditional"])
    lines = [
        "| tool | how counted | covered | partial | not covered |",
        "|---|---|---|---|---|",
        f"| v6gap (this run, profile `server`) | status in its JSON report | "
        f"{v6['decided']}/{n} decided ({skip} `skip` for this profile; for {cond} the verdict "
        f"comes from this host's state and needs the engine under real rules) | - | "
        f"{v6['unknown']}/{n} `unknown` ({engine} need the firewall engine, {other} other) |",
        f"| v6gap (all 5 profiles) | `pass`/`fail`/`info` under at least one profile | "
        f"{v6['judged_under_some_profile']}/{n} | - | "
        f"{n - v6['judged_under_some_profile']}/{n} |",
        f"| Lynis 3.0.8 (3 groups) | its test sources, `bench/lynis_coverage.json` | "
        f"{lc['full']}/{n} full | {lc['partial']}/{n} | {lc['none']}/{n} |",
        f"| OpenSCAP, CIS Debian 12 | from the rule list, not run here, "
        f"`bench/openscap_coverage.json` | {oc['full']}/{n} full | {oc['partial']}/{n} | "
        f"{oc['none']}/{n} |",
    ]
    return "\n".join(lines)


def _peer_cell(item: dict[str, Any], ref_field: str) -> str:
    if item["level"] == "none":
        return "none"
    return f"{item['level']}: {', '.join(item[ref_field])}"


def items_markdown(v6: dict[str, Any], lynis: dict[str, Any], oscap: dict[str, Any]) -> str:
    """One row per catalogue id: v6gap's status here, each peer's level and test/rule ids."""
    lines = [
        "| check | v6gap (`server`, this host) | Lynis | OpenSCAP (rule list) |",
        "|---|---|---|---|",
    ]
    for cid in CATALOGUE_IDS:
        item = v6["items"][cid]
        status = item["status_server"]
        notes = []
        if item["needs_engine"]:
            notes.append("needs the firewall engine")
        if status == "skip" and item["judged_under_profiles"]:
            notes.append(f"judged under {', '.join(item['judged_under_profiles'])}")
        if cid in v6["decided_here_engine_conditional"]:
            notes.append("verdict from this host's state; needs the engine under real rules")
        if notes:
            status += f" ({'; '.join(notes)})"
        lines.append(
            f"| {cid} | {status} | {_peer_cell(lynis['items'][cid], 'tests')} | "
            f"{_peer_cell(oscap['items'][cid], 'rules')} |"
        )
    return "\n".join(lines)


def main() -> int:
    import tempfile

    v6gap = Path(sys.executable).parent / "v6gap"
    with tempfile.TemporaryDirectory(prefix="v6gap-bench-") as tmp:
        reports = {p: run_audit(v6gap, p, Path(tmp, f"audit-{p}.json")) for p in PROFILES}
    v6 = v6gap_coverage(reports, engine_mentions())
    lynis = load_mapping(LYNIS_MAPPING, "tests")
    oscap = load_mapping(OPENSCAP_MAPPING, "rules")
    problems = lynis["problems"] + oscap["problems"] + verify_lynis_sources(lynis, None)
    print(summary_markdown(v6, lynis, oscap))
    print()
    print(items_markdown(v6, lynis, oscap))
    for problem in problems:
        print(f"mapping problem: {problem}", file=sys.stderr)
    return 1 if problems or v6["missing_from_report"] else 0


if __name__ == "__main__":
    sys.exit(main())
