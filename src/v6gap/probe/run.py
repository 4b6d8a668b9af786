"""Run a probe here, or from inside a named network namespace through a forked child."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import Dict, List, Mapping, Optional, Sequence

from v6gap.errors import CollectError, InputError
from v6gap.probe.engine import Job, ProbeOptions, Prober, check_sources
from v6gap.probe.icmp import echo_all, errors_all
from v6gap.probe.model import IcmpTest, LinkDiagnosis, ProbeRun
from v6gap.probe.progress import Progress
from v6gap.probe.targets import Targets
from v6gap.probe.timing import RttEstimator

MAX_CHILD_OUTPUT = 256 * 1024 * 1024


async def probe_async(
    targets: Targets,
    tcp_ports: Sequence[int],
    udp_ports: Sequence[int] = (),
    options: Optional[ProbeOptions] = None,
    icmp: bool = True,
    progress: bool = False,
) -> ProbeRun:
    """Echo every address first (its RTT seeds the timeouts), then every port on every address,
    and beside the scan the error probe (its first packet leaves before any scan reject has
    used up the target's ICMP rate limit)."""
    opts = options or ProbeOptions()
    started = time.monotonic()
    echo = await echo_all(targets.addresses, opts.sources) if icmp else {}
    estimators: Dict[str, RttEstimator] = {}
    for address, result in echo.items():
        if result.answered and result.rtt_ms is not None:
            est = RttEstimator(opts.initial_timeout, opts.min_timeout)
            est.add(result.rtt_ms / 1000.0)
            estimators[address] = est
    errors: Optional[asyncio.Future[Dict[str, IcmpTest]]] = None
    if icmp:
        once_more = Prober(replace(opts, retries=min(opts.retries, 1)), estimators)
        errors = asyncio.ensure_future(errors_all(once_more, targets.addresses))
    # Interleave addresses port by port, so both families see the same moment of the target.
    jobs: List[Job] = [(a, "tcp", p) for p in tcp_ports for a in targets.addresses]
    jobs += [(a, "udp", p) for p in udp_ports for a in targets.addresses]
    bar = Progress(len(jobs)) if progress else None
    try:
        prober = Prober(opts, estimators, bar.advance if bar else None)
        observations = await prober.run(jobs)
        came_back = await errors if errors is not None else {}
    finally:
        if bar is not None:
            bar.close()
    elapsed = time.monotonic() - started
    return ProbeRun(targets, tuple(observations), echo, elapsed, errors=came_back)


def probe(
    targets: Targets,
    tcp_ports: Sequence[int],
    udp_ports: Sequence[int] = (),
    options: Optional[ProbeOptions] = None,
    icmp: bool = True,
    progress: bool = False,
    diagnose: bool = True,
) -> ProbeRun:
    """Probe from this process's network namespace; then, for every address that answered
    nothing at all, read this namespace's neighbour table to tell broken from filtered."""
    check_sources(options.sources if options else ())
    run = asyncio.run(probe_async(targets, tcp_ports, udp_ports, options, icmp, progress))
    if icmp and targets.ipv6:
        run = replace(run, neighbour=_solicit(targets.ipv6))
    if diagnose:
        from v6gap.probe.diagnose import diagnose_run

        found = diagnose_run(run)
        if found:
            run = replace(run, diagnosis=found, errors=_unlinked(run.errors, found))
    return run


def _unlinked(
    errors: Mapping[str, IcmpTest], diagnosis: Mapping[str, LinkDiagnosis]
) -> Dict[str, IcmpTest]:
    """An error probe to an address broken at the link met our own kernel's "address
    unreachable", not the target: nothing was tested."""
    return {
        a: IcmpTest("unknown", "no link to the target: nothing reached it")
        if a in diagnosis and diagnosis[a].verdict == "broken-at-link"
        else t
        for a, t in errors.items()
    }


def _solicit(addresses: Sequence[str]) -> Dict[str, IcmpTest]:
    """Neighbour solicitations to every IPv6 target, after the scan (its own pace, no hurry)."""
    from v6gap.probe.diagnose import read_tables
    from v6gap.probe.ndp import solicit_all

    try:
        _, routes = read_tables()
    except (OSError, ValueError) as exc:
        return {
            a: IcmpTest("unknown", f"the routing table could not be read: {exc}") for a in addresses
        }
    return solicit_all(addresses, routes)


def check_netns(name: str, option: str = "--from-netns") -> None:
    """``CollectError`` unless ``name`` is an existing named network namespace."""
    from v6gap.collect.netns import netns_exists, netns_path

    if not netns_exists(name):
        raise CollectError(f"{option} {name}: no such network namespace ({netns_path(name)})")


def probe_from_netns(
    name: str,
    targets: Targets,
    tcp_ports: Sequence[int],
    udp_ports: Sequence[int] = (),
    options: Optional[ProbeOptions] = None,
    icmp: bool = True,
    progress: bool = False,
) -> ProbeRun:
    """Probe from inside netns ``name``: a forked child enters it, probes, and sends JSON back.

    This process never leaves its own namespace, so nothing is sent from it.
    """
    from v6gap.collect.netns import ChildError, run_in_netns

    check_netns(name)

    def work() -> object:
        return probe(targets, tcp_ports, udp_ports, options, icmp, progress).to_data()

    try:
        result = run_in_netns(
            name, work, MAX_CHILD_OUTPUT, (InputError,), "probe child exited without output"
        )
    except ChildError as exc:
        if exc.expected:  # the user's input, as this process would have said it
            raise InputError(f"{exc} (in namespace {name})") from None
        raise CollectError(f"--from-netns {name}: {exc}") from None
    return ProbeRun.from_data(result)
