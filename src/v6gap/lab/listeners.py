"""Listeners: small python3 processes holding one socket open inside a lab namespace.

TCP listeners accept, send ``v6gap-lab HOST PROTO/PORT PEER`` and close; UDP listeners answer
every datagram with the same line. ``PEER`` is the client address as the socket saw it, so a
dual-stack socket shows IPv4 clients as ``::ffff:a.b.c.d``. A listener is ready when it has bound
(and listened): it says so on stdout before ``start`` returns.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Literal

from v6gap.errors import LabError
from v6gap.lab.netns import exec_argv
from v6gap.lab.scenario import Listener
from v6gap.lab.state import process_starttime

READY_TIMEOUT = 10.0

# Runs under `python3 -I -S -c`; argv: proto address port v6only(1/0/-) tag [comm]
LISTENER_SCRIPT = r"""
import os, socket, sys
proto, addr, port, v6only, tag = sys.argv[1:6]
if len(sys.argv) > 6:
    with open("/proc/self/comm", "w") as fh:
        fh.write(sys.argv[6])
try:
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    s = socket.socket(fam, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if fam == socket.AF_INET6 and v6only != "-":
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, int(v6only))
    s.bind((addr, int(port)))
    if kind == socket.SOCK_STREAM:
        s.listen(64)
except OSError as exc:
    print("ERROR", exc, flush=True)
    sys.exit(1)
print("READY", s.getsockname()[1], flush=True)
null = os.open(os.devnull, os.O_RDWR)
os.dup2(null, 1)
os.dup2(null, 2)
head = "v6gap-lab %s %s/%d " % (tag, proto, s.getsockname()[1])
while True:
    try:
        if kind == socket.SOCK_STREAM:
            conn, peer = s.accept()
            try:
                conn.sendall((head + peer[0] + "\n").encode())
            finally:
                conn.close()
        else:
            data, peer = s.recvfrom(4096)
            s.sendto((head + peer[0] + "\n").encode(), peer)
    except OSError:
        pass
"""


@dataclass(frozen=True)
class RunningListener:
    """A started listener: ``port`` is the bound port (the real one when 0 was asked for)."""

    host: str
    listener: Listener
    port: int
    pid: int


def listener_argv(ns: str, host: str, lst: Listener) -> list[str]:
    v6only = "-" if lst.v6only is None else str(int(lst.v6only))
    script = [sys.executable, "-I", "-S", "-c", LISTENER_SCRIPT]
    comm = [lst.name] if lst.name else []
    return exec_argv(ns, [*script, lst.proto, lst.address, str(lst.port), v6only, host, *comm])


def start(ns: str, host: str, lst: Listener) -> tuple[subprocess.Popen[bytes], int]:
    """Start a listener and wait until it has bound; returns the process and the bound port."""
    proc = subprocess.Popen(
        listener_argv(ns, host, lst),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # Ctrl-C on the terminal does not reach it: teardown stops it
    )
    assert proc.stdout is not None
    try:
        line = _read_line(proc.stdout.fileno(), READY_TIMEOUT)
    except BaseException:
        stop(proc)
        raise
    finally:
        proc.stdout.close()
    words = line.split()
    if len(words) == 2 and words[0] == "READY" and words[1].isdigit():
        return proc, int(words[1])
    stop(proc)
    reason = line.strip() or f"exited with status {proc.returncode}"
    raise LabError(f"host {host!r}: listener {lst.label()} did not start: {reason}")


def _read_line(fd: int, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    buf = b""
    while b"\n" not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            return f"ERROR no readiness within {timeout:g}s"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            buf += chunk
    return buf.decode("utf-8", errors="replace").split("\n", 1)[0]


def stop(proc: subprocess.Popen[bytes], timeout: float = 3.0) -> None:
    """Terminate a process this lab started (and reap it)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)


def kill_pid(pid: int, timeout: float = 3.0) -> bool:
    """SIGTERM then SIGKILL a process that is not our child; True once it is gone."""
    start = process_starttime(pid)
    if start is None:
        return True
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, timeout)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return True
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)  # reap it when it is our own (detached) child
            if process_starttime(pid) != start:
                return True
            time.sleep(0.02)
    return process_starttime(pid) != start


# Runs under `python3 -I -S -c`; argv: proto address port timeout
CLIENT_SCRIPT = r"""
import socket, sys
proto, addr, port, timeout = sys.argv[1:5]
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
s = socket.socket(fam, kind)
s.settimeout(float(timeout))
try:
    s.connect((addr, int(port)))
    if kind == socket.SOCK_DGRAM:
        s.send(b"v6gap-lab probe\n")
    data = s.recv(4096)
    print("open", data.decode(errors="replace").strip())
except ConnectionRefusedError:
    print("refused")
except (socket.timeout, TimeoutError):
    print("timeout")
except OSError as exc:
    print("error", exc)
"""


Outcome = Literal["open", "refused", "timeout", "error"]


@dataclass(frozen=True)
class Connection:
    """What a client inside one namespace saw: ``open`` (with the listener's banner), \
``refused`` (RST or ICMP unreachable), ``timeout`` (dropped) or ``error``."""

    outcome: Outcome
    banner: str = ""

    @property
    def open(self) -> bool:
        return self.outcome == "open"


def client_argv(ns: str, proto: str, address: str, port: int, timeout: float) -> list[str]:
    script = [sys.executable, "-I", "-S", "-c", CLIENT_SCRIPT]
    return exec_argv(ns, [*script, proto, address, str(port), f"{timeout:g}"])


def parse_client_output(out: str) -> Connection:
    word, _, rest = out.strip().partition(" ")
    outcomes: dict[str, Outcome] = {"open": "open", "refused": "refused", "timeout": "timeout"}
    if word in outcomes:
        return Connection(outcomes[word], rest)
    return Connection("error", out.strip())
