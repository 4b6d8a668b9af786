"""The probing engine: non-blocking TCP connects and connected UDP sockets on one event loop.

Each probe is a socket, a writer/reader callback and a timer, not a task per port: 131,070
probes (every TCP port on two addresses) stay cheap. Unanswered probes are retried in later
rounds; answered ones never are. An ICMP error that is not port-unreachable (EHOSTUNREACH,
EACCES, ENETUNREACH) is an answer: "filtered" by a reject rule, decided at once. The kernel
rate-limits those ICMP errors, so a reject policy answers only some probes; the rest time out
and are retried like drops, without slowing the whole scan down.
"""

from __future__ import annotations

import asyncio
import errno
import resource
import socket
import struct
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

from v6gap.errors import InputError
from v6gap.probe.model import Observation, Proto, Reason, State
from v6gap.probe.timing import RateLimiter, RttEstimator

DEFAULT_CONCURRENCY = 2000
DEFAULT_RETRIES = 2
UDP_PAYLOAD = b"v6gap\r\n"

# errno of a connect/recv that an ICMP error other than port-unreachable ended: a reject rule.
REJECT_ERRNOS = frozenset(
    {errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EACCES, errno.EPERM, errno.EHOSTDOWN}
)
_NO_ANSWER = -1
# Without IP(V6)_RECVERR the kernel keeps some ICMP errors "soft" during a connect (IPv6
# admin-prohibited waits for the SYN retransmit, 1 s later); with it they end the connect at once.
ICMP_REFUSED = "icmp"  # detail of a "refused" that an ICMP port-unreachable caused
_IP_RECVERR = 11
_IPV6_RECVERR = 25
_TCPI_RTT_OFFSET = 68  # struct tcp_info: 8 bytes of u8 fields, then u32s; tcpi_rtt is the 16th
_TCP_INFO_LEN = 104
_LINGER_RESET = struct.pack("ii", 1, 0)  # l_onoff=1, l_linger=0


@dataclass(frozen=True)
class Outcome:
    """One attempt: ``state`` None means no answer (retry)."""

    state: Optional[State]
    reason: Reason
    detail: str = ""
    rtt: Optional[float] = None


def classify_errno(proto: Proto, code: int) -> Outcome:
    """The state an attempt's result code means (0 = connected / datagram answered)."""
    if code == 0:
        return Outcome("open", "syn-ack" if proto == "tcp" else "reply")
    if code == errno.ECONNREFUSED:
        return Outcome("closed", "refused")
    if code in REJECT_ERRNOS:
        return Outcome("filtered", "reject", errno.errorcode.get(code, str(code)))
    return Outcome(None, "no-answer", errno.errorcode.get(code, str(code)) if code > 0 else "")


@dataclass(frozen=True)
class ProbeOptions:
    concurrency: int = DEFAULT_CONCURRENCY
    rate: Optional[float] = None
    retries: int = DEFAULT_RETRIES
    initial_timeout: float = 1.0
    min_timeout: float = 0.1
    # Source addresses to bind, at most one per family; a family without one lets the kernel
    # choose. Checked with ``check_sources`` in the probing namespace before anything is sent.
    sources: Tuple[str, ...] = ()


Job = Tuple[str, Proto, int]


def sockaddr_of(address: str) -> Tuple[int, Any]:
    """(family, sockaddr) of a numeric address, scope ids (``fe80::1%eth0``) included."""
    info = socket.getaddrinfo(address, 0, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
    return int(info[0][0]), info[0][4]


def check_sources(sources: Sequence[str]) -> None:
    """``InputError`` naming the first source address this namespace cannot send from."""
    for source in sources:
        fam, sa = sockaddr_of(source)
        with socket.socket(fam, socket.SOCK_DGRAM) as sock:
            try:
                sock.bind(sa)
            except OSError as exc:
                raise InputError(
                    f"--source {source}: cannot send from it here ({exc.strerror}): not an "
                    "address of the probing host"
                ) from None


class Prober:
    """Probes jobs on the running loop with a concurrency cap, a rate cap and adaptive timeouts."""

    def __init__(
        self,
        options: ProbeOptions,
        estimators: Dict[str, RttEstimator],
        on_final: Optional[Callable[[int], None]] = None,
    ) -> None:
        self.options = options
        self.on_final = on_final  # told how many probes reached a final state (progress)
        self.estimators = estimators
        self.rate = RateLimiter(options.rate)
        self._sockaddrs: Dict[str, Tuple[int, Any]] = {}
        self._bind: Dict[int, Any] = dict(map(sockaddr_of, options.sources))

    def _target(self, address: str, port: int) -> Tuple[int, Any]:
        if address not in self._sockaddrs:
            self._sockaddrs[address] = sockaddr_of(address)
        fam, sa = self._sockaddrs[address]
        return fam, (sa[0], port, *sa[2:])

    def estimator(self, address: str) -> RttEstimator:
        if address not in self.estimators:
            self.estimators[address] = RttEstimator(
                self.options.initial_timeout, self.options.min_timeout
            )
        return self.estimators[address]

    async def attempt(self, job: Job) -> Outcome:
        address, proto, port = job
        fam, sa = self._target(address, port)
        est = self.estimator(address)
        kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
        sock = socket.socket(fam, kind)
        try:
            if fam in self._bind:
                sock.bind(self._bind[fam])
            sock.setblocking(False)
            if fam == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, _IPV6_RECVERR, 1)
            else:
                sock.setsockopt(socket.IPPROTO_IP, _IP_RECVERR, 1)
            started = time.monotonic()
            if proto == "tcp":
                code, seen = await _tcp_connect(sock, sa, est.timeout)
            else:
                code, seen = await _udp_exchange(sock, sa, est.timeout)
            outcome = classify_errno(proto, code)
            if outcome.state is not None:
                rtt = seen - started
                if proto == "tcp" and code == 0:
                    rtt = _kernel_rtt(sock) or rtt
                est.add(rtt)
                if proto == "tcp" and code == 0:  # reset, not FIN: leave no TIME_WAIT behind
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
                detail = outcome.detail
                if proto == "tcp" and code == errno.ECONNREFUSED and _icmp_queued(sock):
                    detail = ICMP_REFUSED  # a reject rule's port-unreachable, not a reset
                return Outcome(outcome.state, outcome.reason, detail, rtt)
            return outcome
        finally:
            sock.close()

    async def run(self, jobs: Sequence[Job]) -> List[Observation]:
        """Every job to a final state: retries only for the unanswered, then their last word."""
        final: Dict[Job, Observation] = {}
        pending: List[Job] = list(jobs)
        for _ in range(self.options.retries + 1):
            if not pending:
                break
            unanswered: List[Job] = []
            await self._round(pending, final, unanswered)
            pending = unanswered
        if pending and self.on_final is not None:
            self.on_final(len(pending))
        for address, proto, port in pending:
            state: State = "filtered" if proto == "tcp" else "open|filtered"
            final[(address, proto, port)] = Observation(address, proto, port, state, "no-answer")
        return [final[j] for j in jobs]

    async def _round(
        self, jobs: Sequence[Job], final: Dict[Job, Observation], unanswered: List[Job]
    ) -> None:
        queue: Iterator[Job] = iter(jobs)

        async def worker() -> None:
            for job in queue:
                await self.rate.wait()
                outcome = await self.attempt(job)
                if outcome.state is None:
                    unanswered.append(job)
                else:
                    final[job] = Observation(*job, outcome.state, outcome.reason, outcome.detail)
                    if self.on_final is not None:
                        self.on_final(1)

        workers = max(1, min(self.options.concurrency, len(jobs), _fd_budget()))
        await asyncio.gather(*(worker() for _ in range(workers)))


def _fd_budget() -> int:
    """How many sockets may be open at once: the soft RLIMIT_NOFILE, less room for the rest."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return max(1, soft - 64) if soft != resource.RLIM_INFINITY else 1 << 20


def _icmp_queued(sock: socket.socket) -> bool:
    """Whether an ICMP error sits in the socket's error queue (IP(V6)_RECVERR puts it there)."""
    try:
        sock.recvmsg(1, 1024, socket.MSG_ERRQUEUE)
    except OSError:
        return False
    return True


def _kernel_rtt(sock: socket.socket) -> Optional[float]:
    """The SYN/SYN-ACK round trip the kernel measured (``tcpi_rtt``), free of event-loop lag."""
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, _TCP_INFO_LEN)
    except OSError:
        return None
    if len(info) < _TCPI_RTT_OFFSET + 4:
        return None
    (micros,) = struct.unpack_from("I", info, _TCPI_RTT_OFFSET)
    return micros / 1e6 if micros else None


Answer = Tuple[int, float]  # (result code, monotonic time the answer was seen)


def _tcp_connect(sock: socket.socket, sa: Any, timeout: float) -> asyncio.Future[Answer]:
    """0 when the connect completes, its errno when refused or rejected, -1 on timeout."""
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[Answer] = loop.create_future()
    code = sock.connect_ex(sa)
    if code != errno.EINPROGRESS:
        fut.set_result((code, time.monotonic()))
        return fut
    fd = sock.fileno()

    def finish(result: int) -> None:
        if not fut.done():
            loop.remove_writer(fd)
            timer.cancel()
            fut.set_result((result, time.monotonic()))

    loop.add_writer(fd, lambda: finish(sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)))
    timer = loop.call_later(timeout, finish, _NO_ANSWER)
    return fut


def _udp_exchange(sock: socket.socket, sa: Any, timeout: float) -> asyncio.Future[Answer]:
    """0 when a reply comes back, the errno of an ICMP error (refused = closed), -1 on silence."""
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[Answer] = loop.create_future()
    try:
        sock.connect(sa)
        sock.send(UDP_PAYLOAD)
    except OSError as exc:
        fut.set_result((exc.errno or _NO_ANSWER, time.monotonic()))
        return fut
    fd = sock.fileno()

    def finish(result: int) -> None:
        if not fut.done():
            loop.remove_reader(fd)
            timer.cancel()
            fut.set_result((result, time.monotonic()))

    def readable() -> None:
        try:
            sock.recv(65535)
        except BlockingIOError:
            return
        except OSError as exc:
            finish(exc.errno or _NO_ANSWER)
            return
        finish(0)

    loop.add_reader(fd, readable)
    timer = loop.call_later(timeout, finish, _NO_ANSWER)
    return fut
