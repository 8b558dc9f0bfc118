"""Measurement: how long a run takes to fail when the MLflow registry is down.

Points MLflow at a free loopback port nothing listens on and times (1) the champion lookup the
monitoring flow starts with (`registry.load_bundle`) and (2) a whole training flow run, both
with the project's bounded client retries (`registry.HTTP_DEFAULTS`) unless the environment
sets its own. Prints the seconds and the error each ends with.

    .venv/bin/python -m bench.registry_down   (from the project root)
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from pathlib import Path

# The ephemeral Prefect server starts slowly on a busy machine (read when a flow first runs).
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")

from flows.training import training_flow  # noqa: E402
from nids.config import DataSource, load_training_config  # noqa: E402
from nids.services.probes import free_ports  # noqa: E402
from nids.tracking import registry  # noqa: E402


def timed(what: str, call) -> None:
    started = time.perf_counter()
    try:
        call()
        outcome = "no error (unexpected)"
    except Exception as error:   # the outcome to print
        outcome = f"{type(error).__name__}: {str(error)[:160]}..."
    print(f"{what}: {time.perf_counter() - started:.1f} s -> {outcome}")


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    [port] = free_ports(1)
    os.environ["MLFLOW_TRACKING_URI"] = f"http://127.0.0.1:{port}"
    registry.use_tracking_store()
    retries = {name: os.environ[name] for name in registry.HTTP_DEFAULTS}
    print(f"registry: {os.environ['MLFLOW_TRACKING_URI']} (nothing listens); client: {retries}")
    timed("champion lookup (monitoring)", lambda: registry.load_bundle("cicids2017-xgboost"))
    with tempfile.TemporaryDirectory() as folder:
        config = load_training_config()
        config.data.source = DataSource.GENERATED
        config.data.generated_dir = str(Path(folder) / "generated")
        config.data.generated_rows = 1_000
        timed("training flow", lambda: training_flow(config=config, reason="schedule"))


if __name__ == "__main__":
    main()
