"""``hub bench``: run the benchmark scripts in ``bench/`` and show their figures."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Annotated

import typer

from hub.core.settings import PROJECT_ROOT


def bench(
    rows: Annotated[int, typer.Option(help="Rows for the publish benchmark.")] = 1_000_000,
    only: Annotated[
        str | None,
        typer.Option(
            help="Groups to run (publish, connectors, sql, protect, quality, lineage, dags, web); "
            "the other figures in bench/results.json are kept."
        ),
    ] = None,
) -> None:
    """Run bench/ and write bench/results.json."""
    run_benchmarks(rows=rows, only=only)


def run_benchmarks(*, rows: int, only: str | None = None) -> None:
    """Run ``bench/run.py`` in its own process, then print ``bench/results.json``.

    Its own process, because the bench code uses the simulators and the hub never imports them.

    Args:
        rows: Rows for the publish benchmark.
        only: Comma-separated groups to run; the figures of the others are kept.

    Raises:
        typer.Exit: With the benchmark's exit code, when it failed.
    """
    proc = subprocess.run(
        [
            sys.executable,
            str(PROJECT_ROOT / "bench" / "run.py"),
            "--rows",
            str(rows),
            *(["--only", only] if only else []),
        ],
        cwd=PROJECT_ROOT,
        check=False,
    )
    if proc.returncode != 0:
        raise typer.Exit(proc.returncode)
    results = json.loads((PROJECT_ROOT / "bench" / "results.json").read_text())
    typer.echo(json.dumps(results, indent=2, ensure_ascii=False))
