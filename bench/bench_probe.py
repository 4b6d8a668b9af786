"""``v6gap probe --all`` against ``nmap -n -sT -T4 -p-`` (and ``-6``), from the same lab host;
with ``--top N``, ``v6gap probe --top N`` against ``nmap --top-ports N``.

The target drops everything but three TCP ports (22, 80, 443, dual-stack listeners); both tools
run inside the client namespace of a throw-away lab (``ip netns exec``), one family at a time,
alternating, ``--repeat`` times. Printed: per family the open ports each tool found, whether the
results agree, the median wall time of each and the ratio probe/nmap. Needs root and nmap.

    .venv/bin/python bench/bench_probe.py [--repeat 3] [--ports 1-65535 | --top 1000] [--json FILE]

With ``--top``, both tools rank the ports from nmap's installed nmap-services: the bench also
checks that they chose the same set (nmap's own list, read from its XML ``scaninfo``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from typing import Dict, List, Set, Tuple

from v6gap.lab import scenarios
from v6gap.lab.build import Lab
from v6gap.lab.scenario import Firewall, Listener

OPEN = (22, 80, 443)
NFT = """\
table inet v6gap_bench {
	chain input {
		type filter hook input priority filter; policy drop;
		iif "lo" accept
		ct state established,related accept
		meta l4proto { icmp, ipv6-icmp } accept
		tcp dport { 22, 80, 443 } accept
	}
}
"""
# ``v6gap probe`` as the installed command runs it, whether or not main.py registers it yet.
V6GAP_PROBE = (
    "import sys; from v6gap.cli.main import cli, main; from v6gap.cli.probe import probe; "
    "'probe' in cli.commands or cli.add_command(probe); main(['probe', *sys.argv[1:]])"
)
_NMAP_PORT = re.compile(r"^(\d+)/tcp\s+(\S+)\s", re.MULTILINE)
_NMAP_NOT_SHOWN = re.compile(r"Not shown: (\d+) (\S+) tcp ports")


def timed(argv: List[str]) -> Tuple[float, str]:
    started = time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=1800)
    elapsed = time.monotonic() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"{argv[0]}…: exit {done.returncode}: {done.stderr.strip()[-300:]}")
    return elapsed, done.stdout


Scan = Tuple[float, Set[int], Dict[str, int], Set[int]]  # time, open, state counts, ports


def run_probe(lab: Lab, address: str, ports: str, top: int) -> Scan:
    argv = ["ip", "netns", "exec", lab.ns("client"), sys.executable, "-c", V6GAP_PROBE]
    argv += [address, "--format", "json", "--no-fail-on-mismatch"]
    if top:
        argv += ["--top", str(top)]
    else:
        argv += ["--all"] if ports == "1-65535" else ["--ports", ports]
    elapsed, out = timed(argv)
    doc = json.loads(out)
    counts: Dict[str, int] = {}
    opened = set()
    for row in doc["results"]:
        state = row["states"][address]
        counts[state] = counts.get(state, 0) + 1
        if state == "open":
            opened.add(row["port"])
    return elapsed, opened, counts, {int(r["port"]) for r in doc["results"]}


def _port_list(text: str) -> Set[int]:
    """``1,3-4,6`` (nmap's scaninfo ``services``) as a set of ports."""
    out: Set[int] = set()
    for part in text.split(","):
        low, _, high = part.partition("-")
        out.update(range(int(low), int(high or low) + 1))
    return out


def run_nmap(lab: Lab, address: str, ports: str, top: int) -> Scan:
    xml = f"/tmp/v6gap-bench-nmap-{os.getpid()}.xml"
    argv = ["ip", "netns", "exec", lab.ns("client"), "nmap", "-n", "-Pn", "-sT", "-T4"]
    argv += ["-6"] if ":" in address else []
    if top:
        argv += ["--top-ports", str(top)]
    else:
        argv += ["-p-" if ports == "1-65535" else f"-p{ports}"]
    try:
        elapsed, out = timed([*argv, "-oX", xml, address])
        with open(xml, encoding="utf-8") as fh:
            services = re.search(r'<scaninfo [^>]*services="([^"]+)"', fh.read())
    finally:
        if os.path.exists(xml):
            os.unlink(xml)
    counts: Dict[str, int] = {}
    for count, state in _NMAP_NOT_SHOWN.findall(out):
        counts[state] = counts.get(state, 0) + int(count)
    listed = _NMAP_PORT.findall(out)
    for _, state in listed:
        counts[state] = counts.get(state, 0) + 1
    scanned = _port_list(services.group(1)) if services else set()
    return elapsed, {int(p) for p, state in listed if state == "open"}, counts, scanned


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--ports", default="1-65535")
    parser.add_argument(
        "--top", type=int, default=0, help="v6gap --top N beside nmap --top-ports N"
    )
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args()
    listeners = tuple(Listener("tcp", "::", p, v6only=False, name=f"bench-{p}") for p in OPEN)
    scenario = scenarios.pair("client", "server").with_host(
        "server", listeners=listeners, firewall=Firewall(nft=NFT)
    )
    figures: Dict[str, Dict[str, object]] = {}
    with Lab(scenario) as lab:
        for family in ("ipv4", "ipv6"):
            address = lab.addr("server", family)
            probe_times: List[float] = []
            nmap_times: List[float] = []
            agree = True
            counts: Dict[str, int] = {}
            same_ports = True
            for _ in range(args.repeat):
                t_probe, open_probe, counts, probed = run_probe(lab, address, args.ports, args.top)
                t_nmap, open_nmap, nmap_counts, scanned = run_nmap(
                    lab, address, args.ports, args.top
                )
                probe_times.append(t_probe)
                nmap_times.append(t_nmap)
                same_ports = same_ports and probed == scanned
                agree = agree and open_probe == open_nmap == set(OPEN) and counts == nmap_counts
                print(
                    f"{family} {address}: probe {t_probe:.1f}s open={sorted(open_probe)} "
                    f"{counts}; nmap {t_nmap:.1f}s open={sorted(open_nmap)} {nmap_counts}; "
                    f"same ports: {probed == scanned} ({len(probed)}/{len(scanned)})",
                    flush=True,
                )
            med_probe, med_nmap = statistics.median(probe_times), statistics.median(nmap_times)
            figures[family] = {
                "ports": f"top {args.top}" if args.top else args.ports,
                "same_ports": same_ports,
                "runs": args.repeat,
                "probe_median_s": round(med_probe, 2),
                "nmap_median_s": round(med_nmap, 2),
                "ratio": round(med_probe / med_nmap, 3),
                "same_result": agree,
                "probe_states": counts,
            }
            print(f"{family}: {json.dumps(figures[family])}", flush=True)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(figures, fh, indent=2)
    return 0 if all(f["same_result"] and f["same_ports"] for f in figures.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
