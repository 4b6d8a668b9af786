"""Firewall engine at scale: read + full parity on generated kube-proxy-like rulesets.

For each size N it writes, into a temporary directory, an ``iptables-save`` dump and an
``ip6tables-save`` dump of N/2 rules each (filter and nat tables, shaped like kube-proxy's
iptables mode plus a small host firewall; a few rules differ between the families), and the
same rules as one ``nft -f`` text (tables ``ip``/``ip6``, N rules). It then measures, each in a
fresh child process (``--repeat`` times, median; peak RSS from ``getrusage``):

- v6gap: ``read_firewall`` of both save dumps, then ``parity`` over the whole space;
- v6gap on ``nft -j``: the nft text loaded (``nft -f``) into a throw-away network namespace made
  for the run, listed there with ``nft -j list ruleset`` (timed too), then ``read_firewall`` of
  that JSON and ``parity``: the path a live nftables host takes;
- ``nft -c -f FILE`` and ``iptables-restore --test`` / ``ip6tables-restore --test`` on the same
  rules, run only inside that namespace (deleted at the end).

Prints a markdown table and writes ``bench/out/firewall.json`` (git-ignored).

    .venv/bin/python bench/bench_firewall.py [--sizes 1000,10000,100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

OUT = Path(__file__).resolve().parent / "out"
SRC = Path(__file__).resolve().parents[1] / "src"


# --------------------------------------------------------------------------- generation


@dataclass
class R:
    """One rule, written out both as an iptables-save line and as nft text."""

    chain: str
    target: str  # ACCEPT DROP REJECT RETURN MASQUERADE MARK DNAT:<to> or a chain name
    proto: Optional[str] = None
    saddr: Optional[str] = None
    daddr: Optional[str] = None
    not_daddr: Optional[str] = None
    dport: Optional[str] = None  # "80" or "30000:32767"
    ctstate: Optional[str] = None
    not_ctstate: bool = False
    comment: Optional[str] = None
    addrtype: Optional[str] = None  # --dst-type LOCAL / --src-type LOCAL
    iif: Optional[str] = None
    probability: Optional[str] = None
    icmp: bool = False


@dataclass
class Family:
    name: str  # ipv4 / ipv6
    tables: dict[str, dict[str, Optional[str]]] = field(default_factory=dict)  # chain -> policy
    rules: dict[str, list[R]] = field(default_factory=dict)

    def chain(self, table: str, name: str, policy: Optional[str] = None) -> None:
        self.tables.setdefault(table, {}).setdefault(name, policy)

    def add(self, table: str, rule: R) -> None:
        self.chain(table, rule.chain)
        self.rules.setdefault(table, []).append(rule)

    @property
    def count(self) -> int:
        return sum(len(r) for r in self.rules.values())


_BASE = {
    "filter": {"INPUT": "DROP", "FORWARD": "DROP", "OUTPUT": "ACCEPT"},
    "nat": {"PREROUTING": "ACCEPT", "INPUT": "ACCEPT", "OUTPUT": "ACCEPT", "POSTROUTING": "ACCEPT"},
}
_HOOK_PRIO = {"filter": 0, "nat": -100}
_NAT_HOOK_PRIO = {"PREROUTING": -100, "INPUT": 100, "OUTPUT": -100, "POSTROUTING": 100}


def _name(rng: random.Random, prefix: str) -> str:
    return prefix + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))


def generate(family: str, rules: int, seed: int = 6) -> Family:
    """About ``rules`` rules of one family, kube-proxy-like; the same seed for both families
    gives the same services, so most verdicts agree and a few (host rules) differ."""
    rng = random.Random(seed)
    v6 = family == "ipv6"
    f = Family(family)
    for table, chains in _BASE.items():
        for name, policy in chains.items():
            f.chain(table, name, policy)
    ip = (lambda n: f"fd00:10:96::{n:x}") if v6 else (lambda n: f"10.96.{n >> 8 & 255}.{n & 255}")
    pod = (
        (lambda n: f"fd00:10:244::{n:x}")
        if v6
        else (lambda n: f"10.{244 + (n >> 16)}.{n >> 8 & 255}.{n & 255}")
    )
    lb = (lambda n: f"2001:db8:1::{n:x}") if v6 else (lambda n: f"198.18.{n >> 8 & 255}.{n & 255}")
    sources = (
        [f"2001:db8:{100 + i:x}::/48" for i in range(12)]
        if v6
        else [f"203.0.{i}.0/24" for i in range(12)]
    )
    loop = "::1/128" if v6 else "127.0.0.0/8"
    # host firewall on INPUT, then kube-proxy's jumps
    host = [
        R("INPUT", "ACCEPT", iif="lo"),
        R("INPUT", "ACCEPT", ctstate="RELATED,ESTABLISHED"),
        R(
            "INPUT",
            "KUBE-PROXY-FIREWALL",
            ctstate="NEW",
            comment="kubernetes load balancer firewall",
        ),
        R("INPUT", "KUBE-NODEPORTS", comment="kubernetes health check service ports"),
        R(
            "INPUT",
            "KUBE-EXTERNAL-SERVICES",
            ctstate="NEW",
            comment="kubernetes externally-visible service portals",
        ),
        R("INPUT", "KUBE-FIREWALL"),
        R("INPUT", "ACCEPT", proto="tcp", dport="22"),
        R("INPUT", "ACCEPT", proto="tcp", dport="10250"),
        R("INPUT", "ACCEPT", proto="tcp", dport="30000:32767"),
        R("INPUT", "ACCEPT", proto="udp", dport="30000:32767"),
        R("INPUT", "ACCEPT", icmp=True),
    ]
    if v6:
        host.append(R("INPUT", "ACCEPT", proto="udp", dport="4789"))  # VXLAN: IPv6 only
    else:
        host.append(R("INPUT", "ACCEPT", proto="tcp", dport="6443"))  # API server: IPv4 only
        f.add(
            "filter",
            R(
                "KUBE-FIREWALL",
                "DROP",
                daddr="127.0.0.0/8",
                comment="block incoming localnet connections",
            ),
        )
    for rule in host:
        f.add("filter", rule)
    for name in (
        "KUBE-PROXY-FIREWALL",
        "KUBE-NODEPORTS",
        "KUBE-EXTERNAL-SERVICES",
        "KUBE-FIREWALL",
        "KUBE-SERVICES",
        "KUBE-FORWARD",
    ):
        f.chain("filter", name)
    f.add("filter", R("FORWARD", "KUBE-FORWARD", comment="kubernetes forwarding rules"))
    f.add("filter", R("KUBE-FORWARD", "DROP", ctstate="INVALID"))
    f.add("filter", R("KUBE-FORWARD", "ACCEPT", ctstate="RELATED,ESTABLISHED"))
    for hook in ("PREROUTING", "OUTPUT"):
        f.add("nat", R(hook, "KUBE-SERVICES", comment="kubernetes service portals"))
    f.add("nat", R("POSTROUTING", "KUBE-POSTROUTING", comment="kubernetes postrouting rules"))
    f.add("nat", R("KUBE-MARK-MASQ", "MARK"))
    f.add(
        "nat",
        R("KUBE-POSTROUTING", "MASQUERADE", comment="kubernetes service traffic requiring SNAT"),
    )
    f.chain("nat", "KUBE-NODEPORTS")
    nodeports = {
        "tcp": iter(rng.sample(range(30000, 32768), 2768)),
        "udp": iter(rng.sample(range(30000, 32768), 2768)),
    }
    service = 0
    while f.count < rules - 1:
        service += 1
        proto = "udp" if rng.random() < 0.15 else "tcp"
        if rng.random() < 0.5:
            port = rng.randrange(1024, 30000)
        elif proto == "tcp":
            port = rng.choice([80, 443, 8080, 53, 9090, 3306, 5432, 6379, 8443, 9443])
        else:
            port = rng.choice([53, 514, 4789, 8125])
        svc = f"ns{service % 97}/svc{service}:p{port}"
        svc_chain, cip = _name(rng, "KUBE-SVC-"), ip(service)
        f.chain("nat", svc_chain)
        f.add(
            "nat",
            R(
                "KUBE-SERVICES",
                svc_chain,
                proto=proto,
                daddr=cip,
                dport=str(port),
                comment=f"{svc} cluster IP",
            ),
        )
        endpoints = rng.choice([0, 1, 2, 2, 3])
        if endpoints == 0:
            f.add(
                "filter",
                R(
                    "KUBE-SERVICES",
                    "REJECT",
                    proto=proto,
                    daddr=cip,
                    dport=str(port),
                    comment=f"{svc} has no endpoints",
                ),
            )
        for e in range(endpoints):
            sep = _name(rng, "KUBE-SEP-")
            left = endpoints - e
            f.add(
                "nat",
                R(
                    svc_chain,
                    sep,
                    probability=None if left == 1 else f"{1 / left:.10f}",
                    comment=svc,
                ),
            )
            f.add("nat", R(sep, "KUBE-MARK-MASQ", saddr=pod(service * 4 + e), comment=svc))
            f.add("nat", R(sep, f"DNAT:{pod(service * 4 + e)}", proto=proto, comment=svc))
        kind = rng.random()
        if kind < 0.6:  # NodePort / LoadBalancer
            nodeport = next(nodeports[proto], None)
            if nodeport is None:
                nodeport = rng.randrange(30000, 32768)  # past the range's size: shared
            ext = _name(rng, "KUBE-EXT-")
            f.add("nat", R("KUBE-NODEPORTS", ext, proto=proto, dport=str(nodeport), comment=svc))
            f.add(
                "nat",
                R(
                    ext,
                    "KUBE-MARK-MASQ",
                    comment=f"masquerade traffic for {svc} external destinations",
                ),
            )
            f.add("nat", R(ext, svc_chain))
            if endpoints == 0:
                f.add(
                    "filter",
                    R(
                        "KUBE-EXTERNAL-SERVICES",
                        "DROP",
                        proto=proto,
                        dport=str(nodeport),
                        addrtype="LOCAL",
                        comment=f"{svc} has no endpoints",
                    ),
                )
            if kind < 0.5:  # LoadBalancer: firewall, no-endpoint reject, health-check node port
                addr = lb(service)
                if endpoints == 0:
                    f.add(
                        "filter",
                        R(
                            "KUBE-EXTERNAL-SERVICES",
                            "REJECT",
                            proto=proto,
                            daddr=addr,
                            dport=str(port),
                            comment=f"{svc} has no endpoints",
                        ),
                    )
                fw = _name(rng, "KUBE-FW-")
                f.add(
                    "nat",
                    R(
                        "KUBE-SERVICES",
                        fw,
                        proto=proto,
                        daddr=addr,
                        dport=str(port),
                        comment=f"{svc} loadbalancer IP",
                    ),
                )
                f.add(
                    "nat", R(fw, ext, saddr=rng.choice(sources), comment=f"{svc} loadbalancer IP")
                )
                f.add(
                    "filter",
                    R(
                        "KUBE-PROXY-FIREWALL",
                        "DROP",
                        proto=proto,
                        daddr=addr,
                        dport=str(port),
                        comment=f"{svc} traffic not accepted by {fw}",
                    ),
                )
                hc = next(nodeports["tcp"], None)
                if hc is not None:
                    f.add(
                        "filter",
                        R(
                            "KUBE-NODEPORTS",
                            "ACCEPT",
                            proto="tcp",
                            dport=str(hc),
                            comment=f"{svc} health check node port",
                        ),
                    )
    f.add(
        "nat",
        R(
            "KUBE-SERVICES",
            "KUBE-NODEPORTS",
            addrtype="LOCAL",
            not_daddr=loop,
            comment="kubernetes service nodeports; NOTE: this must be the last rule in this chain",
        ),
    )
    return f


def _ipt_line(r: R, v6: bool) -> str:
    w = ["-A", r.chain]
    if r.iif:
        w += ["-i", r.iif]
    if r.saddr:
        w += ["-s", r.saddr]
    if r.daddr:
        w += ["-d", r.daddr]
    if r.not_daddr:
        w += ["!", "-d", r.not_daddr]
    if r.icmp:
        w += ["-p", "ipv6-icmp" if v6 else "icmp"]
    if r.proto:
        w += ["-p", r.proto]
    if r.comment:
        w += ["-m", "comment", "--comment", f'"{r.comment}"']
    if r.ctstate:
        w += ["-m", "conntrack", "--ctstate", r.ctstate]
    if r.addrtype:
        w += ["-m", "addrtype", "--dst-type", r.addrtype]
    if r.probability:
        w += ["-m", "statistic", "--mode", "random", "--probability", r.probability]
    if r.dport:
        if ":" in r.dport:
            w += ["-m", "multiport", "--dports", r.dport]
        else:
            w += ["-m", r.proto or "tcp", "--dport", r.dport]
    if r.target.startswith("DNAT:"):
        to = r.target[5:]
        w += ["-j", "DNAT", "--to-destination", f"[{to}]:80" if v6 else f"{to}:80"]
    elif r.target == "REJECT":
        w += [
            "-j",
            "REJECT",
            "--reject-with",
            "icmp6-port-unreachable" if v6 else "icmp-port-unreachable",
        ]
    elif r.target == "MARK":
        w += ["-j", "MARK", "--or-mark", "0x4000"]
    else:
        w += ["-j", r.target]
    return " ".join(w)


def iptables_save(f: Family) -> str:
    v6 = f.name == "ipv6"
    out = [f"# Generated by {'ip6' if v6 else 'ip'}tables-save v1.8.9 (nf_tables)"]
    for table in ("filter", "nat"):
        out.append(f"*{table}")
        for name, policy in f.tables[table].items():
            out.append(f":{name} {policy or '-'} [0:0]")
        out.extend(_ipt_line(r, v6) for r in f.rules.get(table, []))
        out.append("COMMIT")
    return "\n".join(out) + "\n"


def _nft_rule(r: R, v6: bool) -> str:
    w = []
    fam = "ip6" if v6 else "ip"
    if r.iif:
        w.append(f'iifname "{r.iif}"')
    if r.saddr:
        w.append(f"{fam} saddr {r.saddr}")
    if r.daddr:
        w.append(f"{fam} daddr {r.daddr}")
    if r.not_daddr:
        w.append(f"{fam} daddr != {r.not_daddr}")
    if r.icmp:
        w.append("meta l4proto " + ("ipv6-icmp" if v6 else "icmp"))
    if r.ctstate:
        w.append("ct state " + r.ctstate.lower().replace(",", ","))
    if r.addrtype:
        w.append("fib daddr type local")
    if r.probability:
        w.append(f"numgen random mod 1000 < {int(float(r.probability) * 1000)}")
    if r.proto and r.dport:
        w.append(f"{r.proto} dport {r.dport.replace(':', '-')}")
    elif r.proto:
        w.append(f"meta l4proto {r.proto}")
    t = r.target
    if t.startswith("DNAT:"):
        to = t[5:]
        w.append(f"dnat to [{to}]:80" if v6 else f"dnat to {to}:80")
    elif t in ("ACCEPT", "DROP", "RETURN"):
        w.append(t.lower())
    elif t == "REJECT":
        w.append("reject")
    elif t == "MARK":
        w.append("meta mark set meta mark | 0x4000")
    elif t == "MASQUERADE":
        w.append("masquerade")
    else:
        w.append(f"jump {t}")
    if r.comment:
        w.append(f'comment "{r.comment[:120]}"')
    return " ".join(w)


def nft_text(families: list[Family]) -> str:
    """Every chain declared first (nft 1.0.6 refuses a jump to a chain declared further down),
    then the rules, chain by chain."""
    out = []
    for f in families:
        v6 = f.name == "ipv6"
        fam = "ip6" if v6 else "ip"
        for table in ("filter", "nat"):
            out.append(f"table {fam} kube-{table} {{")
            for name, policy in f.tables[table].items():
                if policy is None:
                    out.append(f"\tchain {name} {{ }}")
                    continue
                prio = _HOOK_PRIO["filter"] if table == "filter" else _NAT_HOOK_PRIO[name]
                hook = f"type {table} hook {name.lower()} priority {prio}; policy {policy.lower()};"
                out.append(f"\tchain {name} {{ {hook} }}")
            out.append("}")
        for table in ("filter", "nat"):
            out.append(f"table {fam} kube-{table} {{")
            by_chain: dict[str, list[R]] = {}
            for r in f.rules.get(table, []):
                by_chain.setdefault(r.chain, []).append(r)
            for name, rules in by_chain.items():
                out.append(f"\tchain {name} {{")
                out.extend("\t\t" + _nft_rule(r, v6) for r in rules)
                out.append("\t}")
            out.append("}")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- measuring


def child(v4_path: str, v6_path: str) -> None:
    """One measurement in this (fresh) process: JSON on stdout. ``v6_path`` "-": ``v4_path``
    is ``nft -j list ruleset`` output, read alone."""
    sys.path.insert(0, str(SRC))
    from v6gap.firewall.model import Rules
    from v6gap.firewall.parity import parity
    from v6gap.firewall.sources import read_firewall

    nft_json: Optional[str] = None
    saves: dict[str, str] = {}
    if v6_path == "-":
        nft_json = Path(v4_path).read_text()
    else:
        saves = {
            "iptables-save": Path(v4_path).read_text(),
            "ip6tables-save": Path(v6_path).read_text(),
        }
    start = time.perf_counter()
    ruleset = read_firewall(nft_json, saves)
    read = time.perf_counter() - start
    start = time.perf_counter()
    differences = parity(ruleset)
    judged = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # Rules are built when first read (model.Rules) and parity reads only the filter chains on
    # its path: also time building every other rule (what an audit's lint does), so the table
    # shows the whole reading cost too.
    start = time.perf_counter()
    for table in ruleset.tables:
        for chain in table.chains:
            if isinstance(chain.rules, Rules):
                chain.rules.built()
    rest = time.perf_counter() - start
    print(
        json.dumps(
            {
                "read": read,
                "parity": judged,
                "build_rest": rest,
                "peak_mib": rss,
                "peak_all_built_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "rules": ruleset.rule_count,
                "differences": len(differences),
            }
        )
    )


def measure_v6gap(v4: Path, v6: Optional[Path]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(v4), str(v6) if v6 else "-"],
        check=True,
        capture_output=True,
        text=True,
    )
    found: dict[str, Any] = json.loads(done.stdout)
    return found


def nft_json_of(ns: str, nft: Path, out: Path) -> float:
    """Load ``nft`` into the bench namespace, list it as JSON into ``out``, flush it again;
    returns the seconds ``nft -j list ruleset`` took."""
    netns = ["ip", "netns", "exec", ns]
    subprocess.run([*netns, "nft", "-f", str(nft)], check=True, capture_output=True)
    try:
        start = time.perf_counter()
        with out.open("w") as fh:
            subprocess.run([*netns, "nft", "-j", "list", "ruleset"], check=True, stdout=fh)
        return time.perf_counter() - start
    finally:
        subprocess.run([*netns, "nft", "flush", "ruleset"], check=True)


def timed(command: list[str]) -> tuple[float, int, str]:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    return time.perf_counter() - start, done.returncode, done.stderr.strip()[:300]


def make_netns() -> str:
    name = f"v6g-bench-{random.randrange(1 << 15)}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    return name


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def run(sizes: list[int], repeat: int) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    ns = make_netns()
    try:
        with tempfile.TemporaryDirectory(prefix="v6g-bench-") as tmp:
            for size in sizes:
                fams = [generate("ipv4", size // 2), generate("ipv6", size // 2)]
                v4, v6, nft = Path(tmp, "v4.save"), Path(tmp, "v6.save"), Path(tmp, "all.nft")
                v4.write_text(iptables_save(fams[0]))
                v6.write_text(iptables_save(fams[1]))
                nft.write_text(nft_text(fams))
                runs = [measure_v6gap(v4, v6) for _ in range(repeat)]
                listed = Path(tmp, "all.json")
                list_s = [nft_json_of(ns, nft, listed) for _ in range(repeat)]
                json_runs = [measure_v6gap(listed, None) for _ in range(repeat)]
                tools: dict[str, list[float]] = {"nft": [], "iptables": [], "ip6tables": []}
                errors: dict[str, str] = {}
                for _ in range(repeat):
                    for key, command in (
                        ("nft", ["nft", "-c", "-f", str(nft)]),
                        ("iptables", ["iptables-restore", "--test", str(v4)]),
                        ("ip6tables", ["ip6tables-restore", "--test", str(v6)]),
                    ):
                        seconds, rc, err = timed(["ip", "netns", "exec", ns, *command])
                        if rc != 0:
                            errors[key] = f"exit {rc}: {err}"
                        tools[key].append(seconds)
                row = {
                    "size": size,
                    "rules_read": runs[0]["rules"],
                    "nft_rules": sum(f.count for f in fams),
                    "differences": runs[0]["differences"],
                    "read_s": median([r["read"] for r in runs]),
                    "parity_s": median([r["parity"] for r in runs]),
                    "total_s": median([r["read"] + r["parity"] for r in runs]),
                    "peak_mib": max(r["peak_mib"] for r in runs),
                    "all_built_s": median(
                        [r["read"] + r["parity"] + r["build_rest"] for r in runs]
                    ),
                    "all_built_mib": max(r["peak_all_built_mib"] for r in runs),
                    "nft_c_s": median(tools["nft"]),
                    "iptables_restore_test_s": median(tools["iptables"])
                    + median(tools["ip6tables"]),
                    "json_rules_read": json_runs[0]["rules"],
                    "json_differences": json_runs[0]["differences"],
                    "json_read_s": median([r["read"] for r in json_runs]),
                    "json_parity_s": median([r["parity"] for r in json_runs]),
                    "json_total_s": median([r["read"] + r["parity"] for r in json_runs]),
                    "json_peak_mib": max(r["peak_mib"] for r in json_runs),
                    "json_all_built_s": median(
                        [r["read"] + r["parity"] + r["build_rest"] for r in json_runs]
                    ),
                    "json_all_built_mib": max(r["peak_all_built_mib"] for r in json_runs),
                    "json_mib": listed.stat().st_size / (1 << 20),
                    "nft_j_list_s": median(list_s),
                    "runs": runs,
                    "json_runs": json_runs,
                    "tools": tools,
                    "tool_errors": errors,
                }
                results.append(row)
                print(f"  {size}: done", file=sys.stderr)
    finally:
        subprocess.run(["ip", "netns", "delete", ns], check=False)
    return results


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| rules | v6gap read | v6gap parity | v6gap total | peak MiB | every rule built "
        "(MiB) | nft -c -f | ip(6)tables-restore --test | total / nft -c | "
        "total / restore --test |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['rules_read']:,} | {r['read_s']:.2f} s | {r['parity_s']:.2f} s | "
            f"{r['total_s']:.2f} s | {r['peak_mib']:.0f} | {r['all_built_s']:.2f} s "
            f"({r['all_built_mib']:.0f}) | {r['nft_c_s']:.2f} s | "
            f"{r['iptables_restore_test_s']:.2f} s | {r['total_s'] / r['nft_c_s']:.2f} | "
            f"{r['total_s'] / r['iptables_restore_test_s']:.2f} |"
        )
    lines += [
        "",
        "| rules (nft -j) | JSON MiB | `nft -j list ruleset` | v6gap read | v6gap parity | "
        "v6gap total | peak MiB | every rule built (MiB) | total / nft -c |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['json_rules_read']:,} | {r['json_mib']:.0f} | {r['nft_j_list_s']:.2f} s | "
            f"{r['json_read_s']:.2f} s | {r['json_parity_s']:.2f} s | {r['json_total_s']:.2f} s | "
            f"{r['json_peak_mib']:.0f} | {r['json_all_built_s']:.2f} s "
            f"({r['json_all_built_mib']:.0f}) | {r['json_total_s'] / r['nft_c_s']:.2f} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", nargs=2, metavar=("V4", "V6"), help=argparse.SUPPRESS)
    parser.add_argument("--write", metavar="DIR", help="only write the rulesets of --sizes here")
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return 0
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.write:
        for size in sizes:
            fams = [generate("ipv4", size // 2), generate("ipv6", size // 2)]
            Path(args.write, f"{size}-iptables-save.txt").write_text(iptables_save(fams[0]))
            Path(args.write, f"{size}-ip6tables-save.txt").write_text(iptables_save(fams[1]))
            Path(args.write, f"{size}.nft").write_text(nft_text(fams))
        return 0
    if os.geteuid() != 0:
        print("needs root: the peer tools run in a throw-away network namespace", file=sys.stderr)
        return 2
    load = os.getloadavg()
    results = run(sizes, args.repeat)
    print(table(results))
    for r in results:
        for key, err in r["tool_errors"].items():
            print(f"- {r['size']}: {key} failed: {err}")
    OUT.mkdir(exist_ok=True)
    (OUT / "firewall.json").write_text(
        json.dumps(
            {
                "load_start": load,
                "load_end": os.getloadavg(),
                "repeat": args.repeat,
                "python": sys.version.split()[0],
                "results": results,
            },
            indent=2,
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
