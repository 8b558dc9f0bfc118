"""`make run`: train and register a model, then monitor new traffic with it.

On a fresh clone (no CICIDS2017 in data/raw/) this demo asks for generated data explicitly
(`data.source: generated`; scheduled runs never fall back to it), and when no batch waits in
data/incoming/ the monitoring step gets a demo batch of generated traffic, so the first run ends
with a drift report too.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel

from flows.monitoring import monitoring_flow
from flows.training import training_flow
from nids.config import (
    DataConfig,
    DataSource,
    MonitoringConfig,
    load_monitoring_config,
    load_training_config,
    project_path,
)
from nids.data import batches, sources
from nids.monitoring import scenario
from nids.monitoring.outcomes import BatchOutcome
from nids.training.result import TrainingResult


class FirstRunResult(BaseModel):
    training: TrainingResult
    monitoring: list[BatchOutcome]


@task(cache_policy=NO_CACHE)
def write_demo_batch(data: DataConfig, incoming: Path, rows: int, seed: int) -> Path:
    """A batch of newly generated traffic in the incoming folder."""
    name = f"demo-traffic-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    return scenario.write_demo_batch(sources.demo_traffic(data, seed), incoming, rows, seed, name)


def needs_demo_batch(data: DataConfig, monitoring: MonitoringConfig) -> bool:
    """No batch is waiting and the model learnt generated data (a fresh clone)."""
    incoming = project_path(monitoring.incoming_dir)
    return not batches.pending_batches(incoming) and data.source == DataSource.GENERATED


@flow(name="first-run")
def first_run_flow(demo_rows: int = 20_000, demo_seed: int = 11) -> FirstRunResult:
    """Train and register, then monitor the pending batches (a demo batch if none).

    Both flows use config/training.yaml and config/monitoring.yaml as they are when the run
    starts; with no CICIDS2017 file in data/raw/, training asks for generated data.

    Args:
        demo_rows: Rows of the demo batch written when there is no batch and no CICIDS2017 file.
        demo_seed: Seed of the demo traffic.
    """
    logger = get_run_logger()
    training, monitoring = load_training_config(), load_monitoring_config()
    training.data = sources.demo_data(training.data)
    trained = training_flow(config=training, reason="make run")
    if needs_demo_batch(training.data, monitoring):
        incoming = project_path(monitoring.incoming_dir)
        path = write_demo_batch(training.data, incoming, demo_rows, demo_seed)
        logger.info("No batch in %s: wrote demo traffic %s", incoming, path.name)
    monitored = monitoring_flow(config=monitoring)
    logger.info("Reports: %s", project_path(monitoring.reports_dir) / "index.html")
    return FirstRunResult(training=trained, monitoring=monitored)


if __name__ == "__main__":
    first_run_flow()
