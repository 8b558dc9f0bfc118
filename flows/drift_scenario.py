"""The drift tour: train on Monday-Wednesday, then replay Thursday and Friday as batches.

Each day's labelled traffic joins the training data when its batch arrives, so a retrain
triggered by a batch learns what that batch showed. Runs on the real day files when they are
in data/raw/, on generated data otherwise. `make scenario` runs it.
"""

from __future__ import annotations

import shutil

from prefect import flow, get_run_logger

from flows.monitoring import monitoring_flow
from flows.training import training_flow
from nids.config import load_monitoring_config, load_training_config, project_path
from nids.data import sources as datasets
from nids.data.generate import generate_dataset
from nids.data.ingest import load_inputs
from nids.monitoring import scenario
from nids.paths import DATA_DIR
from nids.tracking import registry

SCENARIO_DIR = DATA_DIR / "scenario"
MODEL_NAME = "cicids2017-xgboost-scenario"


@flow(name="drift-scenario")
def drift_scenario_flow(rows_per_batch: int = 20_000, seed: int = 7) -> list[dict]:
    """Train on Monday-Wednesday, replay later days, retrain on drift; returns each outcome."""
    logger = get_run_logger()
    training = load_training_config()
    source = datasets.select_inputs(training.data)
    shutil.rmtree(SCENARIO_DIR, ignore_errors=True)  # derived data only: symlinks and batches
    raw = SCENARIO_DIR / "raw"
    if not scenario.land_day_files(source.paths, scenario.REFERENCE_DAYS, raw):
        raise ValueError(f"The tour needs the per-day CICIDS2017 CSVs (Monday-..., Friday-...) "
                         f"in {training.data.raw_dir}; extract the official zip there.")
    training.data.raw_dir = str(raw)
    training.data.verify_checksums = not source.generated
    training.registry.model_name = MODEL_NAME
    registry.use_tracking_store()
    registry.delete_registered_model(MODEL_NAME)  # each tour starts from a fresh model
    training_flow(config=training, reason="scenario: first model on Monday-Wednesday")

    traffic = source.paths
    if source.generated:  # new traffic, not the rows the model was trained on
        traffic = generate_dataset(SCENARIO_DIR / "traffic", training.data.generated_rows,
                                   seed, training.data.generated_days)
    frame = load_inputs(traffic, project_path(training.data.interim_dir), verify=False).frame
    batch_paths = scenario.write_batches(frame, SCENARIO_DIR / "incoming", rows_per_batch, seed)

    monitoring = load_monitoring_config()
    monitoring.model_name = MODEL_NAME
    monitoring.retrain.cooldown_hours = 0
    monitoring.retrain.training_config = training
    outcomes = []
    for plan, path in zip(scenario.DEFAULT_PLAN, batch_paths, strict=True):
        scenario.land_day_files(source.paths, plan.days, raw)  # labelled traffic archived
        outcomes += monitoring_flow(config=monitoring, batch=str(path))
    for outcome in outcomes:
        started = outcome.get("retrain", {}).get("started", False)
        logger.info("%-24s verdict %-8s retrain started: %s", outcome["batch"],
                    outcome["verdict"], started)
    return outcomes


if __name__ == "__main__":
    drift_scenario_flow()
