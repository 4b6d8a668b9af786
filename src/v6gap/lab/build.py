"""``Lab``: build a scenario into namespaces, hand tests what they need, always tear it down.

    with Lab(scenarios.basic()) as lab:
        lab.exec("attacker", ["ping", "-c1", "-W2", lab.addr("server", "ipv6")], check=True)

Building records every step in /run/v6gap/labs/<lab-id>.json before taking it, so a failure
midway, Ctrl-C, or a later ``v6gap lab down`` removes exactly what was made.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from types import TracebackType
from typing import Dict, List, Literal, Mapping, Optional, Sequence, Tuple, Type

from v6gap.errors import LabError
from v6gap.lab import listeners, netns, state
from v6gap.lab.scenario import (
    Backend,
    FamilyArg,
    Host,
    Listener,
    Proto,
    Scenario,
    normalize_family,
)
from v6gap.lab.teardown import DownReport, teardown_record
from v6gap.lab.validate import PER_IF_SYSCTL, validate, validate_suffix

# Children of labs that were left up on purpose (``v6gap lab up``): held so that Python neither
# warns about nor reaps them; ``down`` finds them through the record.
_DETACHED: List[subprocess.Popen[bytes]] = []

LinkLocalWait = Literal["routers", "all", "none"]


class Lab:
    """A scenario built into ``v6g-HOST-ID`` namespaces; a context manager that tears it down.

    ``suffix`` is the lab id (random when not given); ``link_local`` says whose link-local
    addresses ``up`` waits for: ``routers`` (default), ``all`` or ``none``.
    """

    def __init__(
        self,
        scenario: Scenario,
        *,
        suffix: Optional[str] = None,
        state_dir: str = state.STATE_DIR,
        link_local: LinkLocalWait = "routers",
    ) -> None:
        validate(scenario)
        self.link_local = link_local
        self.scenario = scenario
        self.lab_id = validate_suffix(suffix) if suffix else secrets.token_hex(3)
        self.state_dir = state_dir
        self._ns = {h.name: f"{netns.NS_PREFIX}{h.name}-{self.lab_id}" for h in scenario.hosts}
        self._children: Dict[int, subprocess.Popen[bytes]] = {}
        self.listeners: List[listeners.RunningListener] = []
        self.record = state.LabRecord(
            lab_id=self.lab_id,
            scenario=scenario.name,
            created_at=state.now(),
            owner_pid=os.getpid(),
            hosts=[
                state.HostRecord(name=h.name, role=h.role, ns=self._ns[h.name])
                for h in scenario.hosts
            ],
        )
        self._claimed = False
        self._used = False

    # -- life cycle -------------------------------------------------------------------------

    def __enter__(self) -> Lab:
        return self.up()

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        report = self.down(raising=False)
        if exc is None:
            report.raise_problems()
        elif report.problems and hasattr(exc, "add_note"):
            exc.add_note(f"lab teardown also failed: {'; '.join(report.problems)}")

    def up(self) -> Lab:
        """Build the whole scenario; on any failure (Ctrl-C too) remove what was made."""
        if self._used:
            raise LabError(f"lab {self.lab_id} was already built once: make a new Lab")
        self._used = True
        netns.require_prerequisites()
        for ns in self._ns.values():
            if netns.ns_exists(ns):
                raise LabError(f"namespace {ns} already exists: choose another suffix")
        state.claim(self.record, self.state_dir)
        self._claimed = True
        try:
            self._build()
        except BaseException as exc:
            report = self.down(raising=False)
            if report.problems and hasattr(exc, "add_note"):
                exc.add_note(f"lab teardown also failed: {'; '.join(report.problems)}")
            raise
        self.record.complete = True
        self._save()
        return self

    def down(self, raising: bool = True) -> DownReport:
        """Kill the lab's processes, delete its namespaces and /etc/netns dirs, drop its record."""
        if not self._claimed:
            return DownReport()
        report = teardown_record(self.record, self._children, self.state_dir)
        self._claimed = False
        self.listeners.clear()
        if raising:
            report.raise_problems()
        return report

    def detach(self) -> None:
        """Leave the lab up after this process exits (``v6gap lab up``)."""
        _DETACHED.extend(self._children.values())
        self._children.clear()
        self._claimed = False

    def _save(self) -> None:
        state.save(self.record, self.state_dir)

    # -- building ---------------------------------------------------------------------------

    def _build(self) -> None:
        sc = self.scenario
        for host in sc.hosts:
            netns.add_ns(self.ns(host.name))
            self.record.host(host.name).netns_inode = netns.ns_inode(self.ns(host.name))
            self._save()
        for host in sc.hosts:
            for path, content in host.files.items():
                self.write_file(host.name, path, content)
        for host in sc.hosts:
            netns.link_up(self.ns(host.name), "lo")
            glob, _ = _split_sysctls(host)
            netns.set_sysctls(self.ns(host.name), glob, f"host {host.name!r}")
        for end in sc.link_ends()[::2]:
            netns.add_veth(
                self.ns(end.host), end.ifname, self.ns(end.peer), end.peer_ifname, end.link.mtu
            )
        for host in sc.hosts:
            self._build_host_interfaces(host)
        for host in sc.hosts:
            self._add_addresses(host)
        for host in sc.hosts:
            for route in host.routes:
                netns.add_route(self.ns(host.name), route)
        for end in sc.link_ends()[::2]:
            if end.link.loss_percent is not None or end.link.delay_ms is not None:
                netns.set_netem(
                    self.ns(end.host), end.ifname, end.link.loss_percent, end.link.delay_ms
                )
        for host in sc.hosts:
            fw = host.firewall
            if fw is None:
                continue
            if fw.nft:
                self.load_nft(host.name, fw.nft)
            if fw.iptables:
                self.load_iptables(host.name, fw.iptables, 4, fw.iptables_backend)
            if fw.ip6tables:
                self.load_iptables(host.name, fw.ip6tables, 6, fw.iptables_backend)
        for host in sc.hosts:
            for lst in host.listeners:
                self.start_listener(
                    host.name, lst.proto, lst.address, lst.port, lst.v6only, lst.name
                )
        for host_name, ifname in self._link_local_waits():
            self.wait_link_local(host_name, ifname)

    def _link_local_waits(self) -> List[Tuple[str, str]]:
        """Interfaces whose link-local must have passed DAD before ``up`` returns.

        A router forwards nothing over IPv6 until then: the kernel sends a neighbour solicitation
        for a forwarded packet only from a usable link-local address (ndisc_send_ns), so the
        first 1-3 s after link-up lose routed IPv6. ``routers`` (default) waits on hosts that
        forward IPv6, ``all`` on every host, ``none`` never. Veth ends and bridges only.
        """
        if self.link_local == "none":
            return []
        waits = []
        for host in self.scenario.hosts:
            sysctls = host.effective_sysctls()
            if self.link_local == "routers" and not any(
                k.startswith("net.ipv6.conf.") and k.endswith(".forwarding") and v == "1"
                for k, v in sysctls.items()
            ):
                continue
            ports = {p for i in host.interfaces for p in i.ports}
            names = [e.ifname for e in self.scenario.link_ends() if e.host == host.name]
            names += [i.name for i in host.interfaces if i.kind == "bridge"]
            for name in names:
                off = {
                    sysctls.get(f"net.ipv6.conf.{n}.disable_ipv6") for n in ("all", "default", name)
                }
                if name not in ports and "1" not in off:
                    waits.append((host.name, name))
        return waits

    def _build_host_interfaces(self, host: Host) -> None:
        ns, where = self.ns(host.name), f"host {host.name!r}"
        for iface in host.interfaces:
            netns.add_interface(ns, iface, where)
            for port in iface.ports:
                netns.set_master(ns, port, iface.name)
        _, per_if = _split_sysctls(host)
        netns.set_sysctls(ns, per_if, where)
        names = [n for n in self.scenario.interfaces_of(host.name) if n != "lo"]
        for name in names:
            netns.link_up(ns, name)
        self.record.host(host.name).interfaces = names
        self._save()

    def _add_addresses(self, host: Host) -> None:
        # Only once both ends of every link are up: an IPv6 address added before link-up loses
        # the first neighbour solicitation sent to it (the first packet waits 1 s).
        for addr in host.addresses:
            netns.add_address(self.ns(host.name), addr)
        self.record.host(host.name).addresses = [f"{a.ifname} {a.cidr}" for a in host.addresses]
        self._save()

    # -- what tests use ---------------------------------------------------------------------

    @property
    def hosts(self) -> Sequence[str]:
        return self.scenario.host_names()

    def ns(self, host: str) -> str:
        """The namespace name of ``host``."""
        try:
            return self._ns[host]
        except KeyError:
            raise LabError(f"lab {self.lab_id} has no host {host!r}") from None

    def addr(self, host: str, family: FamilyArg, ifname: Optional[str] = None) -> str:
        """The host's first static address of ``family`` (``ipv4``/``ipv6`` or 4/6), no length."""
        self.ns(host)
        found = [
            a
            for a in self.scenario.host(host).addresses_of(family, ifname)
            if not a.ip.startswith("fe80:")
        ]
        if not found:
            raise LabError(f"host {host!r} has no {normalize_family(family)} address")
        return found[0].ip

    def exec(
        self,
        host: str,
        argv: Sequence[str],
        *,
        check: bool = False,
        timeout: float = 30.0,
        input: Optional[str] = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` inside the host (``ip netns exec``); text output captured."""
        return netns.run(
            netns.exec_argv(self.ns(host), argv), check=check, timeout=timeout, input=input
        )

    def popen(
        self,
        host: str,
        argv: Sequence[str],
        *,
        stdin: Optional[int] = subprocess.DEVNULL,
        stdout: Optional[int] = subprocess.DEVNULL,
        stderr: Optional[int] = subprocess.DEVNULL,
    ) -> subprocess.Popen[bytes]:
        """Start a background process inside the host; teardown kills it (SIGTERM, SIGKILL)."""
        proc = subprocess.Popen(
            netns.exec_argv(self.ns(host), argv), stdin=stdin, stdout=stdout, stderr=stderr
        )
        self._track(host, proc, "process", argv=list(argv))
        return proc

    def ping(self, host: str, address: str, timeout: int = 2) -> bool:
        """One echo request from ``host`` (``ping -c1 -W2``); True if it was answered."""
        return self.exec(host, ["ping", "-n", "-c1", f"-W{timeout}", address]).returncode == 0

    def connect(
        self, host: str, proto: Proto, address: str, port: int, timeout: float = 2.0
    ) -> listeners.Connection:
        """Connect from ``host`` (TCP) or send one datagram (UDP) and say what came back."""
        argv = listeners.client_argv(self.ns(host), proto, address, port, timeout)
        out = netns.run(argv, check=False, timeout=timeout + 10).stdout
        return listeners.parse_client_output(out)

    def wait_link_local(self, host: str, ifname: str, timeout: float = 10.0) -> str:
        """Wait for the interface's link-local address to finish DAD (2-3 s after link-up)."""
        deadline = time.monotonic() + timeout
        while True:
            found = netns.link_local(self.ns(host), ifname)
            if found:
                return found
            if time.monotonic() >= deadline:
                raise LabError(f"host {host!r}: no link-local address on {ifname} in {timeout:g}s")
            time.sleep(0.1)

    def start_listener(
        self,
        host: str,
        proto: Proto,
        address: str,
        port: int,
        v6only: Optional[bool] = None,
        name: str = "",
    ) -> listeners.RunningListener:
        """Start a listener and return once it is bound; teardown stops it.

        ``name`` sets the process name (comm); ``port`` 0 takes an ephemeral port.
        """
        lst = Listener(proto, address, port, v6only, name)
        proc, bound = listeners.start(self.ns(host), host, lst)
        self._track(host, proc, "listener", lst=lst, port=bound)
        running = listeners.RunningListener(host, lst, bound, proc.pid)
        self.listeners.append(running)
        return running

    def stop_listener(self, running: listeners.RunningListener) -> None:
        proc = self._children.pop(running.pid, None)
        if proc is not None:
            listeners.stop(proc)
        self.record.processes = [p for p in self.record.processes if p.pid != running.pid]
        self.listeners = [r for r in self.listeners if r.pid != running.pid]
        self._save()

    def load_nft(self, host: str, text: str) -> None:
        """Load an nft ruleset inside the host (``nft -f -``)."""
        netns.load_nft(self.ns(host), text, f"host {host!r}")

    def load_iptables(
        self, host: str, text: str, family: FamilyArg = 4, backend: Backend = "nft"
    ) -> None:
        """Load iptables-restore text for one family through the ``nft`` or ``legacy`` backend."""
        if backend not in ("nft", "legacy"):
            raise LabError(f"iptables backend must be nft or legacy, not {backend!r}")
        fam = 6 if normalize_family(family) == "ipv6" else 4
        netns.load_iptables(self.ns(host), text, fam, backend, f"host {host!r}")

    def set_sysctls(self, host: str, values: Mapping[str, object]) -> None:
        """Write ``net.*`` sysctls inside the host only."""
        netns.set_sysctls(self.ns(host), {k: str(v) for k, v in values.items()}, f"host {host!r}")

    def etc_dir(self, host: str) -> str:
        """/etc/netns/NS: files here replace /etc/<same name> under ``ip netns exec``."""
        return os.path.join(netns.ETC_NETNS_DIR, self.ns(host))

    def write_file(self, host: str, path: str, content: str) -> str:
        """Write ``/etc/netns/NS/<path>`` (seen as /etc/<path> inside); returns the real path."""
        if path.startswith("/") or ".." in path.split("/"):
            raise LabError(f"file {path!r} must be relative to /etc")
        rec, root = self.record.host(host), self.etc_dir(host)
        if rec.etc_dir is None:
            os.makedirs(netns.ETC_NETNS_DIR, exist_ok=True)
            try:
                os.mkdir(root, 0o755)
            except FileExistsError:
                raise LabError(f"{root} already exists: not made by this lab") from None
            rec.etc_dir = root
            self._save()
        target = os.path.join(root, path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w", encoding="utf-8") as fh:
            fh.write(content)
        return target

    def _track(
        self,
        host: str,
        proc: subprocess.Popen[bytes],
        kind: str,
        lst: Optional[Listener] = None,
        port: Optional[int] = None,
        argv: Optional[List[str]] = None,
    ) -> None:
        self._children[proc.pid] = proc
        inode = self.record.host(host).netns_inode or 0
        self.record.processes.append(
            state.ProcessRecord(
                pid=proc.pid,
                starttime=state.process_starttime(proc.pid) or 0,
                host=host,
                netns_inode=inode,
                kind=kind,
                proto=lst.proto if lst else None,
                address=lst.address if lst else None,
                port=port,
                v6only=lst.v6only if lst else None,
                name=lst.name if lst else "",
                argv=argv or [],
            )
        )
        self._save()


def _split_sysctls(host: Host) -> tuple[Dict[str, str], Dict[str, str]]:
    """(keys for all/default/global, keys naming one interface): the latter need the interface."""
    glob: Dict[str, str] = {}
    per_if: Dict[str, str] = {}
    for key, value in host.effective_sysctls().items():
        m = PER_IF_SYSCTL.match(key)
        (per_if if m and m.group(2) not in ("all", "default") else glob)[key] = value
    return glob, per_if
