"""`python -m nids.services up|down|status`: the command line behind `make serve` / `make stop`.

Ports default to 4200 (Prefect), 5000 (MLflow), 8000 (scoring API) and 8001 (the Evidently UI
over the monitoring workspace); NIDS_PREFECT_PORT / NIDS_MLFLOW_PORT / NIDS_SCORING_PORT /
NIDS_EVIDENTLY_PORT or --prefect-port / --mlflow-port / --scoring-port / --evidently-port
override them.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from nids.config import load_monitoring_config, project_path
from nids.paths import MLFLOW_ARTIFACTS_DIR, MLFLOW_DB, PROJECT_ROOT, STATE_DIR
from nids.services.commands import (
    DEFAULT_EVIDENTLY_PORT,
    DEFAULT_MLFLOW_PORT,
    DEFAULT_PREFECT_PORT,
    DEFAULT_SCORING_PORT,
    ServiceLayout,
)
from nids.services.lifecycle import READY_TIMEOUT, running_records, start_services, stop_services
from nids.services.state import ServicesState

logger = logging.getLogger("nids.services")


def build_parser(env: Mapping[str, str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m nids.services", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--state-dir", type=Path, default=STATE_DIR,
                        help="where pids, logs and Prefect's database live (default: .state)")
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start the servers, deploy prefect.yaml, start a worker")
    up.add_argument("--prefect-port", type=int,
                    default=int(env.get("NIDS_PREFECT_PORT", DEFAULT_PREFECT_PORT)))
    up.add_argument("--mlflow-port", type=int,
                    default=int(env.get("NIDS_MLFLOW_PORT", DEFAULT_MLFLOW_PORT)))
    up.add_argument("--scoring-port", type=int,
                    default=int(env.get("NIDS_SCORING_PORT", DEFAULT_SCORING_PORT)))
    up.add_argument("--no-scoring", dest="scoring", action="store_false",
                    help="do not start the scoring API")
    up.add_argument("--evidently-port", type=int,
                    default=int(env.get("NIDS_EVIDENTLY_PORT", DEFAULT_EVIDENTLY_PORT)))
    up.add_argument("--evidently-workspace", type=Path,
                    help="workspace the Evidently UI serves (default: config/monitoring.yaml's "
                    "history.workspace_dir)")
    up.add_argument("--mlflow-db", type=Path, default=MLFLOW_DB)
    up.add_argument("--artifacts-dir", type=Path, default=MLFLOW_ARTIFACTS_DIR)
    up.add_argument("--project-root", type=Path, default=PROJECT_ROOT,
                    help="folder holding prefect.yaml and flows/")
    up.add_argument("--no-deploy", dest="deploy", action="store_false",
                    help="skip `prefect deploy --all`")
    up.add_argument("--timeout", type=float, default=READY_TIMEOUT,
                    help="seconds each service may take to become ready")
    commands.add_parser("down", help="stop everything `up` started")
    commands.add_parser("status", help="show what runs and where")
    return parser


def layout_from_args(args: argparse.Namespace) -> ServiceLayout:
    workspace = args.evidently_workspace or project_path(
        load_monitoring_config().history.workspace_dir)
    return ServiceLayout(args.state_dir, args.prefect_port, args.mlflow_port,
                         args.mlflow_db.resolve(), args.artifacts_dir.resolve(),
                         args.project_root.resolve(),
                         scoring_port=args.scoring_port if args.scoring else None,
                         evidently_port=args.evidently_port,
                         workspace_dir=workspace.resolve())


def _say(text: str) -> None:
    print(text)  # noqa: T201 - the CLI's answer goes to stdout, progress to the log


def _show_status(state_dir: Path) -> bool:
    """Print each recorded service; False when one of them has stopped on its own."""
    records = running_records(state_dir)
    if not records:
        _say(f"Nothing started from {state_dir} (start with `make serve`)")
    for record, alive in records:
        where = record.url or ""
        _say(f"{record.name:<15} {'running' if alive else 'STOPPED':<8} pid {record.pid:<7} "
             f"{where:<24} log {record.log}")
    return all(alive for _, alive in records)


def _up(args: argparse.Namespace) -> int:
    if any(alive for _, alive in running_records(args.state_dir)):
        _say("Already running (stop with `make stop`):")
        _show_status(args.state_dir)
        return 0
    stop_services(args.state_dir)  # leftovers of a crashed `up`, if any
    state: ServicesState = start_services(layout_from_args(args), deploy=args.deploy,
                                          timeout=args.timeout)
    _say(f"Prefect UI  {state.urls.prefect_ui}\nMLflow UI   {state.urls.mlflow}\n"
         + (f"Scoring API {state.urls.scoring} (POST /predict, GET /health, GET /metrics)\n"
            if state.urls.scoring else "")
         + f"Evidently   {state.urls.evidently} (monitoring dashboard)\n"
         + f"Worker      {state.worker_name} on work pool nids-process\nStop with `make stop`.")
    return 0


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    args = build_parser(os.environ if env is None else env).parse_args(argv)
    args.state_dir = args.state_dir.resolve()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        if args.command == "up":
            return _up(args)
        if args.command == "down":
            return 1 if stop_services(args.state_dir) else 0
        return 0 if _show_status(args.state_dir) else 1
    except (RuntimeError, TimeoutError, ValueError, OSError) as error:
        logger.error("%s", error)
        return 1


if __name__ == "__main__":
    sys.exit(main())
