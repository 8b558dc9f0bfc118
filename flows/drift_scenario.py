"""The tour: train on Monday-Wednesday, then replay batches that tell the monitoring story:
an ordinary day (ok), a burst of DoS Hulk the model knows (an incident, no retraining), Friday's
attacks it never saw arriving without labels (model health degraded, a label request, not a
retrain), the labels coming back (the labels flow adds them to the corpus and retrains: a new
champion), and Friday again, labelled (handled by the new champion). Labelled batches join the
tour's corpus of labelled traffic as they are monitored (nids.data.corpus); the tour plays the
analyst who answers the label request, from the ground truth it kept aside.

Runs on the real day files when they are in data/raw/; otherwise the tour asks for generated
data explicitly. `make scenario` runs it.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger

from flows.labels import labels_flow
from flows.monitoring import monitoring_flow
from flows.training import training_flow
from nids.config import (
    DataSource,
    MonitoringConfig,
    TrainingConfig,
    load_monitoring_config,
    load_training_config,
    project_path,
)
from nids.data import sources
from nids.data.batches import predictions_path
from nids.data.sources import InputSelection
from nids.monitoring import scenario, tour_analyst, workspace
from nids.monitoring.outcomes import BatchOutcome
from nids.monitoring.tour_analyst import AnsweredRequest, TourOutcome
from nids.paths import DATA_DIR
from nids.tracking import registry

SCENARIO_DIR = DATA_DIR / "scenario"
MODEL_NAME = "cicids2017-xgboost-scenario"


def first_model(training: TrainingConfig) -> tuple[TrainingConfig, InputSelection]:
    """Land Monday-Wednesday, train the tour's first model on them (a fresh model and
    dashboard each tour); the tour's training settings and the day files it replays."""
    training.data = sources.demo_data(training.data)
    source = sources.select_inputs(training.data)
    raw = scenario.start_tour(SCENARIO_DIR, source, training.data.raw_dir)
    training = scenario.tour_training(training, raw, source.generated, MODEL_NAME)
    # Every run of the tour reads the day files landed in its raw folder; generated ones are
    # recognised as such there (nids.data.sources) and tagged data_source=generated.
    training.data.source = DataSource.REAL
    registry.use_tracking_store()
    registry.delete_registered_model(MODEL_NAME)
    workspace.delete_model_project(
        project_path(load_monitoring_config().history.workspace_dir), MODEL_NAME)
    training_flow(config=training, reason="scenario: first model on Monday-Wednesday")
    return training, source


def truth_of(batch: Path) -> Path:
    """Where the tour kept the labels of a batch it sent without them (scenario.keep_truth)."""
    return batch.parent.parent / scenario.TRUTH_DIR / f"{batch.stem}.csv"


def answer_and_retrain(outcome: BatchOutcome, batch: Path,
                       monitoring: MonitoringConfig) -> AnsweredRequest:
    """Play the analyst: label the requested flows from the kept ground truth into the labels
    folder; the labels flow validates them, adds them to the corpus and retrains."""
    answered = tour_analyst.answer_request(Path(outcome.label_request), truth_of(batch),
                                           project_path(monitoring.labels.labels_dir))
    answered.retrain = labels_flow(config=monitoring)
    return answered


def log_tour(tour: TourOutcome) -> None:
    logger = get_run_logger()
    for outcome in tour.batches:
        started = outcome.retrain is not None and outcome.retrain.started
        logger.info("%-24s health %-8s incident %-8s drift %-5s retrain started: %-5s label "
                    "request: %s; recall %s", outcome.batch, outcome.health, outcome.incident,
                    outcome.drift, started, outcome.label_request is not None,
                    tour.recall.get(outcome.batch))
    for answered in tour.answered:
        retrain = answered.retrain
        logger.info("Labels %s (%s): retrain %s", Path(answered.labels_file).name,
                    answered.labelled, retrain.state if retrain and retrain.started
                    else retrain and retrain.why)


@flow(name="drift-scenario")
def drift_scenario_flow(rows_per_batch: int = 20_000, seed: int = 7) -> TourOutcome:
    """Train on Monday-Wednesday, replay the tour's batches, answer its label request;
    returns each batch's outcome, the answered request and each labelled batch's recall."""
    training, source = first_model(load_training_config())
    frame = scenario.replay_traffic(source, training, SCENARIO_DIR, seed)
    batch_paths = scenario.write_batches(frame, SCENARIO_DIR / "incoming", rows_per_batch, seed,
                                         scenario.TOUR_PLAN)
    monitoring = scenario.tour_monitoring(load_monitoring_config(), training)
    tour = TourOutcome()
    for path in batch_paths:  # labelled batches join the tour's corpus, which retrains read
        [outcome] = monitoring_flow(config=monitoring, batch=str(path))
        tour.batches.append(outcome)
        if outcome.label_request:
            tour.answered.append(answer_and_retrain(outcome, path, monitoring))
        if outcome.location:
            truth = truth_of(path)
            tour.recall[outcome.batch] = tour_analyst.class_recall(
                predictions_path(Path(outcome.location)), truth if truth.is_file() else None)
    log_tour(tour)
    return tour


if __name__ == "__main__":
    drift_scenario_flow()
