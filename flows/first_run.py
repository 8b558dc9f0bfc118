"""`make run`: train and register a model, then monitor new traffic with it.

On a fresh clone (no CICIDS2017 in data/raw/, no batch in data/incoming/) the monitoring step
gets a demo batch of generated traffic, so the first run ends with a drift report too.
"""

from __future__ import annotations

from datetime import UTC, datetime

from prefect import flow, get_run_logger

from flows.monitoring import DEFAULT_CONFIG as MONITORING
from flows.monitoring import monitoring_flow
from flows.training import DEFAULT_CONFIG as TRAINING
from flows.training import training_flow
from nids.config import project_path
from nids.data import batches
from nids.data import sources as datasets
from nids.data.generate import generate_dataset
from nids.data.ingest import load_inputs
from nids.monitoring import scenario


@flow(name="first-run")
def first_run_flow(demo_rows: int = 20_000, demo_seed: int = 11) -> dict:
    """Train and register, then monitor the pending batches (a demo batch if none)."""
    logger = get_run_logger()
    trained = training_flow(config=TRAINING, reason="make run")
    incoming = project_path(MONITORING.incoming_dir)
    if not batches.pending_batches(incoming) and datasets.select_inputs(TRAINING.data).generated:
        demo_dir = project_path(TRAINING.data.generated_dir) / f"demo-seed{demo_seed}"
        traffic = generate_dataset(demo_dir, TRAINING.data.generated_rows, demo_seed)
        frame = load_inputs(traffic, project_path(TRAINING.data.interim_dir), verify=False).frame
        name = f"demo-traffic-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
        path = scenario.write_demo_batch(frame, incoming, demo_rows, demo_seed, name)
        logger.info("No batch in %s: wrote demo traffic %s", incoming, path.name)
    monitored = monitoring_flow(config=MONITORING)
    logger.info("Reports: %s", project_path(MONITORING.reports_dir) / "index.html")
    return {"training": trained, "monitoring": monitored}


if __name__ == "__main__":
    first_run_flow()
