"""Small process helpers: free ports, liveness, and stopping only what we started, by PID."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time
from collections.abc import Callable


def free_port(*, also_free: int | None = None) -> int:
    """A TCP port free on 127.0.0.1 now; with ``also_free``, port + that offset is free too.

    SeaweedFS opens each gRPC port at its HTTP port + 10000, so both must be free.
    """
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if also_free is None:
            return port
        if port + also_free < 65536 and port_is_free(port + also_free):
            return port
    raise RuntimeError("no free port pair found on 127.0.0.1")


def port_is_free(port: int) -> bool:
    """True when a server could listen on the port (TIME_WAIT leftovers do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0); reap it if it is ours.
    with contextlib.suppress(ChildProcessError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    return True


def stop_pid(pid: int, *, grace_s: float = 3.0, sig: int = signal.SIGTERM) -> None:
    """Signal one PID, wait up to ``grace_s``, then SIGKILL it. Never touches other processes."""
    if not pid_alive(pid):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
    if wait_until(lambda: not pid_alive(pid), timeout_s=grace_s):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not pid_alive(pid), timeout_s=10)


def wait_until(check: Callable[[], bool], *, timeout_s: float, interval_s: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval_s)
    return check()
