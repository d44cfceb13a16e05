"""``hub bench``: run the benchmark scripts in ``bench/`` and show their figures."""

from __future__ import annotations

import json
import subprocess
import sys

from hub.core.settings import PROJECT_ROOT


def run_benchmarks(*, rows: int, only: str | None = None) -> None:
    """Runs ``bench/run.py`` in its own process (bench code uses the simulators, the hub doesn't)."""
    proc = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "bench" / "run.py"), "--rows", str(rows),
         *(["--only", only] if only else [])],
        cwd=PROJECT_ROOT, check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        raise SystemExit(proc.returncode)
    results = json.loads((PROJECT_ROOT / "bench" / "results.json").read_text())
    print(json.dumps(results, indent=2, ensure_ascii=False))
