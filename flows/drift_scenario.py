"""The tour: train on Monday-Wednesday, then replay batches that tell the monitoring story:
reference days (ok), a burst of DoS Hulk the model knows (an incident, no retraining), Friday's
attacks it never saw (model health degraded, retraining, a new champion), and Friday again
(handled by the new champion). The batches are labelled replays: each joins the tour's corpus
of labelled traffic as it is monitored, so the retrain learns Friday from the Friday batch
(nids.data.corpus), as it would in production.

Runs on the real day files when they are in data/raw/; otherwise the tour asks for generated
data explicitly. `make scenario` runs it.
"""

from __future__ import annotations

from prefect import flow, get_run_logger

from flows.monitoring import monitoring_flow
from flows.training import training_flow
from nids.config import DataSource, load_monitoring_config, load_training_config, project_path
from nids.data import sources
from nids.monitoring import scenario, workspace
from nids.monitoring.outcomes import BatchOutcome
from nids.paths import DATA_DIR
from nids.tracking import registry

SCENARIO_DIR = DATA_DIR / "scenario"
MODEL_NAME = "cicids2017-xgboost-scenario"


@flow(name="drift-scenario")
def drift_scenario_flow(rows_per_batch: int = 20_000, seed: int = 7) -> list[BatchOutcome]:
    """Train on Monday-Wednesday, replay the tour's batches; returns each batch's outcome."""
    logger = get_run_logger()
    training = load_training_config()
    training.data = sources.demo_data(training.data)
    source = sources.select_inputs(training.data)
    raw = scenario.start_tour(SCENARIO_DIR, source, training.data.raw_dir)
    training = scenario.tour_training(training, raw, source.generated, MODEL_NAME)
    # Every run of the tour reads the day files landed in its raw folder; generated ones are
    # recognised as such there (nids.data.sources) and tagged data_source=generated.
    training.data.source = DataSource.REAL
    registry.use_tracking_store()
    registry.delete_registered_model(MODEL_NAME)  # each tour starts from a fresh model
    workspace.delete_model_project(  # and a fresh dashboard
        project_path(load_monitoring_config().history.workspace_dir), MODEL_NAME)
    training_flow(config=training, reason="scenario: first model on Monday-Wednesday")

    frame = scenario.replay_traffic(source, training, SCENARIO_DIR, seed)
    batch_paths = scenario.write_batches(frame, SCENARIO_DIR / "incoming", rows_per_batch, seed,
                                         scenario.TOUR_PLAN)
    monitoring = scenario.tour_monitoring(load_monitoring_config(), training)
    outcomes = []
    for path in batch_paths:  # labelled batches join the tour's corpus, which retrains read
        outcomes += monitoring_flow(config=monitoring, batch=str(path))
    for outcome in outcomes:
        started = outcome.retrain is not None and outcome.retrain.started
        logger.info("%-24s health %-8s incident %-8s drift %-5s retrain started: %s",
                    outcome.batch, outcome.health, outcome.incident, outcome.drift, started)
    return outcomes


if __name__ == "__main__":
    drift_scenario_flow()
