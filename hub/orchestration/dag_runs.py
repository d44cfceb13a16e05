"""Several ``airflow dags test`` runs in one process: ``python -m hub.orchestration.dag_runs
DAG_ID=LOGICAL_DATE ...``.

Each run goes through Airflow's own CLI command, exactly as ``airflow dags test`` would; only
Airflow's start-up and the task code's heavy imports (Great Expectations, pyiceberg) are paid
once instead of once per DAG run. Prints one ``HUB-DAG-RUN {json}`` line per run.
"""

from __future__ import annotations

import json
import sys

MARK = "HUB-DAG-RUN "


def main(argv: list[str]) -> int:
    from airflow.cli import cli_parser

    parser = cli_parser.get_parser()
    failed = 0
    for spec in argv:
        dag_id, _, logical = spec.partition("=")
        print(f"===== {dag_id} {logical} =====", flush=True)
        state, error = "success", None
        try:
            args = parser.parse_args(["dags", "test", dag_id, logical])
            args.func(args)
        except SystemExit as exc:  # the command's way of saying the run failed
            state, error = "failed", str(exc.code)
        except Exception as exc:  # a DAG that does not load: report it, run the others
            state, error = "failed", f"{type(exc).__name__}: {exc}"
        failed += state != "success"
        record = {"dag_id": dag_id, "logical_date": logical, "state": state, "error": error}
        print(MARK + json.dumps(record), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
