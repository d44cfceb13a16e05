"""The production topology (``hub/deploy/topology.py``) run as local processes on 127.0.0.1.

Each service's argv and environment come from the topology, with its ``${VAR}`` references
resolved to this run's values (generated at run time, never written into the repository) and
what only a container network has mapped to this machine: service hostnames to 127.0.0.1 and
free ports, the image's folders (``/opt/hub``) to the checkout and to per-process folders under
the run's directory. The few settings a container gets for free (its own host name and ports)
are added per process and listed in ``LOCAL_OVERRIDES`` below, so the differences are on record.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from hub.core.settings import PROJECT_ROOT
from hub.deploy.topology import AIRFLOW_HOME, APP_DIR, Service
from hub.services.process import wait_until

#: ``$$`` (a literal ``$``) or a Compose reference ``${NAME}``, ``${NAME:-x}``, ``${NAME:?x}``.
TOKEN = re.compile(r"\$\$|\$\{([A-Z_][A-Z0-9_]*)(?:(:?[-?])([^}]*))?\}")
VENV_BIN = Path(sys.executable).parent


def interpolate(text: str, values: Mapping[str, str]) -> str:
    """Compose's interpolation of one string: references resolved, ``$$`` to ``$``.

    Raises:
        KeyError: a required reference (``${NAME}`` or ``${NAME:?...}``) has no value.
    """

    def one(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, default = match.groups()
        value = values.get(name)
        if (op in (":-", ":?") and not value) or (op in ("-", "?") and value is None):
            if op in (":-", "-"):
                return default
            raise KeyError(f"{name} is required ({default})")
        if value is None:
            raise KeyError(f"{name} is required")
        return value

    return TOKEN.sub(one, text)


def references(service: Service) -> set[str]:
    """Every variable a service's command or environment refers to."""
    texts = [*service.command, *service.environment.values()]
    return {m.group(1) for t in texts for m in TOKEN.finditer(t) if m.group(1)}


def generate_secrets(names: set[str]) -> dict[str, str]:
    """A value for every secret the topology asks ``.env`` for, made now for this run."""
    from cryptography.fernet import Fernet

    values: dict[str, str] = {}
    for name in sorted(names):
        if name == "AIRFLOW_FERNET_KEY":
            values[name] = Fernet.generate_key().decode()
        elif name in ("HUB_VAULT_MASTER_KEY", "HUB_BACKUP_KEY"):
            values[name] = base64.b64encode(os.urandom(32)).decode()
        elif name.endswith("_ACCESS_KEY"):
            values[name] = f"{name.split('_')[1].lower()}-{secrets.token_hex(6)}"
        elif re.search(r"(PASSWORD|SECRET|SECRET_KEY)$", name):
            values[name] = secrets.token_urlsafe(48)
    return values


@dataclass
class Process:
    """One service process this run started: stopped by its PID (and its own process group)."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0

    def start(self) -> Process:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                self.argv,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=PROJECT_ROOT,
                start_new_session=True,  # its own process group: its children stop with it
            )
        self.started_at = time.monotonic()
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, *, grace_s: float = 15.0, sig: int = signal.SIGTERM) -> None:
        """Signal the process, wait, then SIGKILL its process group and its descendants in
        groups of their own (Airflow's task processes)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            tree = descendants(self.pid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=grace_s)
            _kill(tree)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)  # leftovers in the group this process led
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)

    def kill9(self) -> None:
        """``kill -9`` of this process, its process group and every descendant (a task
        process leads a group of its own), all at once, as a crashed machine would."""
        assert self.proc is not None
        tree = descendants(self.pid) if self.proc.poll() is None else []
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        _kill(tree)
        self.proc.wait(timeout=10)

    def wait_for(self, check: Callable[[], bool], *, timeout_s: float, what: str) -> None:
        if not wait_until(lambda: not self.alive() or check(), timeout_s=timeout_s, interval_s=0.5):
            raise StackError(f"{self.name}: {what} not within {timeout_s:.0f} s", self)
        if not self.alive() and not check():
            code = self.proc.returncode if self.proc else None
            raise StackError(f"{self.name}: exited with {code} before {what}", self)

    def tail(self, lines: int = 40) -> str:
        if not self.log.exists():
            return "(no log)"
        text = self.log.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children, theirs, ...), from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _kill(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


class StackError(RuntimeError):
    def __init__(self, message: str, process: Process | None = None) -> None:
        tail = f"\n--- {process.log} (tail) ---\n{process.tail()}" if process else ""
        super().__init__(message + tail)


@dataclass
class LocalTopology:
    """Maps the topology's container world onto this machine for one run.

    ``ports`` maps each service name to the free port it listens on here; ``values`` is the
    run's ``.env``; ``root`` is the run's directory (logs, homes, Airflow's home).
    """

    root: Path
    values: dict[str, str]
    ports: dict[str, int]
    topology: Mapping[str, Service]
    processes: dict[str, Process] = field(default_factory=dict)

    @property
    def airflow_home(self) -> Path:
        return self.root / "airflow"

    def home(self, process_name: str) -> Path:
        return self.root / "homes" / process_name

    def localize(self, text: str, process_name: str) -> str:
        """A resolved value with the containers' host names and folders mapped to this machine."""
        for name, service in self.topology.items():
            if service.port is not None and name in self.ports:
                text = re.sub(
                    rf"(?<![\w.-]){re.escape(name)}:{service.port}\b",
                    f"127.0.0.1:{self.ports[name]}",
                    text,
                )
        text = text.replace(AIRFLOW_HOME, str(self.airflow_home))
        text = text.replace(f"{APP_DIR}/var", str(self.home(process_name)))
        return text.replace(APP_DIR, str(PROJECT_ROOT))

    def environment(self, service: Service, process_name: str) -> dict[str, str]:
        """The service's environment, resolved and localized, on top of a minimal base."""
        home = self.home(process_name)
        tmp = home / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        env = {
            "PATH": f"{VENV_BIN}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
            "LANG": "C.UTF-8",
            "HOME": str(home),
            "TMPDIR": str(tmp),
        }
        for name, value in service.environment.items():
            env[name] = self.localize(interpolate(value, self.values), process_name)
        return env

    def argv(self, service: Service, process_name: str) -> list[str]:
        argv = [self.localize(interpolate(a, self.values), process_name) for a in service.command]
        if service.port is not None and service.name in self.ports:
            port = str(service.port)
            argv = [str(self.ports[service.name]) if a == port else a for a in argv]
        return argv

    def process(
        self,
        service_name: str,
        *,
        process_name: str | None = None,
        extra_env: Mapping[str, str] | None = None,
        extra_args: list[str] | None = None,
    ) -> Process:
        """A process of a topology service (not started); several may share one service."""
        service = self.topology[service_name]
        name = process_name or service_name
        env = self.environment(service, name) | dict(extra_env or {})
        proc = Process(
            name=name,
            argv=self.argv(service, name) + list(extra_args or []),
            env=env,
            log=self.root / "logs" / f"{name}.log",
        )
        self.processes[name] = proc
        return proc

    def stop_all(self) -> None:
        """Stop every process this run started, last started first."""
        for proc in reversed(list(self.processes.values())):
            proc.stop(grace_s=12.0 if proc.name == "s3" else 8.0)

    def tails(self, lines: int = 30) -> str:
        return "\n".join(
            f"--- {p.name} (pid {p.proc.pid if p.proc else '-'}, "
            f"{'running' if p.alive() else 'stopped'}) {p.log} ---\n{p.tail(lines)}"
            for p in self.processes.values()
        )
