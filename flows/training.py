"""Training flow: ingest CICIDS2017, validate, split, (search,) train XGBoost, evaluate, measure,
promote, register, publish the model card.

Run it with `python flows/training.py` (ephemeral Prefect, no server) or through the
`training` deployment of prefect.yaml.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from nids.config import TrainingConfig, load_training_config, load_training_profile, project_path
from nids.data.ingest import LoadedData
from nids.data.sources import load_training_data
from nids.data.validate import ValidationResult, raise_on_problems, validate_frame
from nids.tracking import registry
from nids.tracking.runs import RunOrigin, fail_abandoned_versions
from nids.training.evaluate import Evaluation, evaluate_model
from nids.training.monitoring import MonitoringArtifacts, prepare_monitoring
from nids.training.promotion import (
    Candidate,
    Promotion,
    compare_with_champion,
    register_candidate,
)
from nids.training.result import TrainingResult, summary_markdown, write_metrics_file
from nids.training.search import search_params
from nids.training.splits import load_or_build_splits
from nids.training.train import TrainedModel, train_on_splits
from nids.training.version_report import (
    LaterDayRows,
    LaterDays,
    VersionMeasures,
    measure_later_days,
    measure_version,
    publish_version,
    take_later_days,
)


@task(cache_policy=NO_CACHE)
def ingest(config: TrainingConfig) -> LoadedData:
    """Load the raw CICIDS2017 files (or generated ones, when the config asks for them)."""
    loaded = load_training_data(config.data)
    get_run_logger().info("Loaded %d rows of %s data from %d file(s)%s and %d corpus "
                          "partition(s)", len(loaded.frame), loaded.data_source,
                          len(loaded.files), " (cached)" if loaded.from_cache else "",
                          len(loaded.corpus_partitions))
    return loaded


@task(cache_policy=NO_CACHE)
def validate(loaded: LoadedData, config: TrainingConfig) -> ValidationResult:
    """Measure data quality, publish it as a table, refuse unfit data."""
    result = validate_frame(loaded.frame, config.validation.max_missing_share,
                            config.validation.max_infinite_share)
    if not result.quality.empty:
        create_table_artifact(
            key="data-quality", description="Share of missing/infinite/negative values",
            table=result.quality.reset_index().to_dict("records"),
        )
    raise_on_problems(result)
    return result


@task(cache_policy=NO_CACHE)
def build_splits(loaded: LoadedData, config: TrainingConfig) -> dict[str, pd.DataFrame]:
    """Cleaned, stratified splits, reused from Parquet when the same inputs were split."""
    splits, folder = load_or_build_splits(
        loaded.frame, loaded.fingerprint, project_path(config.data.processed_dir),
        config.features, config.data.days)
    get_run_logger().info("Splits in %s: %s", folder,
                          {name: len(frame) for name, frame in splits.items()})
    return splits


@task(cache_policy=NO_CACHE)
def search_hyperparameters(splits: dict[str, pd.DataFrame],
                           config: TrainingConfig) -> TrainingConfig:
    """Optuna's best XGBoost settings, one nested MLflow run per trial, the trials as a table."""
    searched = search_params(splits, config.model, config.search, f"search-{flow_run.id}")
    create_table_artifact(key="search-trials", table=searched.table(),
                          description="Optuna trials (validation log-loss, lower is better)")
    return config.model_copy(update={"model": searched.best})


@task(cache_policy=NO_CACHE)
def train(splits: dict[str, pd.DataFrame], config: TrainingConfig) -> TrainedModel:
    """Select features on the training split and fit XGBoost."""
    trained = train_on_splits(splits, config.model)
    get_run_logger().info("Dropped columns: %s", trained.dropped)
    return trained


@task(cache_policy=NO_CACHE)
def evaluate_on_test(trained: TrainedModel, test: pd.DataFrame) -> Evaluation:
    """Scores of the new model on the test split."""
    return evaluate_model(trained.bundle, test)


@task(cache_policy=NO_CACHE)
def take_day_rows(loaded: LoadedData, config: TrainingConfig) -> LaterDayRows:
    """The rows the day-based evaluation learns (earlier days) and scores (later days)."""
    return take_later_days(loaded.frame, config)


@task(cache_policy=NO_CACHE)
def evaluate_by_day(day_rows: LaterDayRows, config: TrainingConfig) -> LaterDays:
    """For the model card: a model of the same settings trained on the earlier days and
    scored on the later ones."""
    return measure_later_days(day_rows, config)


@task(cache_policy=NO_CACHE)
def measure(splits: dict[str, pd.DataFrame], trained: TrainedModel, evaluation: Evaluation,
            later_days: LaterDays, config: TrainingConfig) -> VersionMeasures:
    """F1 intervals and figures, beside the day-based evaluation, for the model card."""
    return measure_version(splits, trained, evaluation, later_days, config)


@task(cache_policy=NO_CACHE)
def publish_model_card(measures: VersionMeasures, candidate: Candidate, config: TrainingConfig,
                       version: int, promotion: Promotion) -> None:
    """Log the measures and the model card with the version, and show the card."""
    card = publish_version(measures, candidate.evaluation, candidate.trained, config, version,
                           promotion.alias, promotion.reason, flow_run.id)
    create_markdown_artifact(key="model-card", markdown=card)


@task(cache_policy=NO_CACHE)
def promote(candidate: Candidate, config: TrainingConfig) -> Promotion:
    """Champion, challenger or refused: the new model against the champion, on the new test
    split and on the champion's holdout."""
    return compare_with_champion(candidate, config.registry)


@task(cache_policy=NO_CACHE)
def fit_monitoring(candidate: Candidate, config: TrainingConfig) -> MonitoringArtifacts:
    """The reference sample, health models and normal ranges the monitoring flow reads."""
    return prepare_monitoring(candidate.trained, candidate.splits, candidate.evaluation,
                              config.features)


@task(cache_policy=NO_CACHE)
def register(candidate: Candidate, promotion: Promotion,
             monitoring: MonitoringArtifacts | None, loaded: LoadedData,
             config: TrainingConfig, reason: str) -> int:
    """Log the run to MLflow, register the model and move the alias the promotion gives it."""
    # DVC versions the folder the rows were read from: data/raw, even when the generator wrote
    # its files; rows generated on request come from generated_dir, which DVC does not track.
    data = config.data
    read_from = data.generated_dir if data.source == "generated" else data.raw_dir
    origin = RunOrigin.of(reason, flow_run.id, project_path(read_from), loaded.fingerprint,
                          loaded.data_source, loaded.corpus_partitions,
                          project_path(data.corpus.dir))
    version = register_candidate(candidate, promotion, config, origin, monitoring)
    get_run_logger().info("Version %s of %s is now %s: %s", version,
                          config.registry.model_name, promotion.alias, promotion.reason)
    return version


@flow(name="training", log_prints=False)
def training_flow(config: TrainingConfig | None = None, reason: str = "manual",
                  search: bool | None = None) -> TrainingResult:
    """Ingest, validate, featurize, train, evaluate and register an intrusion detector.

    Args:
        config: Data, features, XGBoost and registry settings; empty means
            config/training.yaml as it is when the run starts.
        reason: Why this run started (manual, schedule, or the drift that triggered it).
        search: Search XGBoost's settings with Optuna before the final fit; empty means as
            the config's search.enabled says (off in config/training.yaml).
    """
    logger = get_run_logger()
    if config is None:
        config = load_training_config()
    if search is not None:
        config = config.model_copy(update={"search": config.search.model_copy(
            update={"enabled": search})})
    logger.info("Training started (reason: %s)", reason)
    registry.configure_tracking(config.registry.experiment_name)
    fail_abandoned_versions(config.registry.model_name)   # left pending by a dead run
    loaded = ingest(config)
    validate(loaded, config)
    splits = build_splits(loaded, config)
    day_rows = take_day_rows(loaded, config)
    # The last reader of every row is done: the rest holds the splits and the day-based
    # model's rows, not the whole frame (0.9 GB at full scale).
    loaded.drop_rows()
    if config.search.enabled:
        config = search_hyperparameters(splits, config)
    # The day-based model needs neither the main model nor its splits: it is fitted beside
    # the main fit, which leaves part of the cores idle (on two cores, a fifth).
    later_days = evaluate_by_day.submit(day_rows, config)
    trained = train(splits, config)
    day_based = later_days.result()
    evaluation = evaluate_on_test(trained, splits["test"])
    # The measures run beside the promotion and the monitoring models; all of them end
    # before anything is logged, so that a failure leaves no version.
    measures = measure.submit(splits, trained, evaluation, day_based, config)
    candidate = Candidate(trained, evaluation, splits, loaded.data_source,
                          config.features.label_grouping.value)
    promotion = promote(candidate, config)
    monitoring = fit_monitoring(candidate, config) if promotion.alias else None
    measured = measures.result()
    version = register(candidate, promotion, monitoring, loaded, config, reason)
    publish_model_card(measured, candidate, config, version, promotion)
    result = TrainingResult.of(config.registry.model_name, version, promotion, reason,
                               evaluation)
    create_markdown_artifact(key="training-summary", markdown=summary_markdown(result, evaluation))
    write_metrics_file(result, project_path(config.metrics_file))
    logger.info("Summary: %s", json.dumps(result.model_dump()))
    return result


if __name__ == "__main__":
    # `python flows/training.py config/training-search.yaml` runs with a config profile.
    training_flow(config=load_training_profile(Path(sys.argv[1])) if len(sys.argv) > 1
                  else None)
