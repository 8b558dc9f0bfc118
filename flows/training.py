"""Training flow: ingest CICIDS2017, validate, featurize, train XGBoost, evaluate, register.

Run it with `python flows/training.py` (ephemeral Prefect, no server) or through the
`training` deployment of prefect.yaml.
"""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pandas as pd
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from nids.config import TrainingConfig, load_training_config, project_path
from nids.data import sources as datasets
from nids.data.ingest import LoadedData, load_inputs
from nids.data.schema import FEATURE_COLUMNS, LABEL_COLUMN
from nids.data.validate import ValidationResult, raise_on_problems, validate_frame
from nids.io import atomic_path, temporary_parquet
from nids.tracking import lineage, registry
from nids.training import features as featurize
from nids.training.evaluate import Evaluation, evaluate, plot_confusion
from nids.training.train import train_model

DEFAULT_CONFIG = load_training_config()


@task(cache_policy=NO_CACHE)
def ingest(config: TrainingConfig) -> LoadedData:
    """Load the raw CICIDS2017 files, or generated ones when there are none."""
    selection = datasets.select_inputs(config.data)
    loaded = load_inputs(selection.paths, project_path(config.data.interim_dir),
                         verify=config.data.verify_checksums and not selection.generated,
                         labels=config.data.labels)
    loaded.frame = datasets.filter_days(loaded.frame, config.data.days)
    get_run_logger().info("Loaded %d rows from %d file(s)%s", len(loaded.frame),
                          len(loaded.files), " (cached)" if loaded.from_cache else "")
    return loaded


@task(cache_policy=NO_CACHE)
def validate(frame: pd.DataFrame, config: TrainingConfig) -> ValidationResult:
    """Measure data quality, publish it as a table, refuse unfit data."""
    result = validate_frame(frame, config.validation.max_missing_share,
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
    folder = datasets.splits_folder(project_path(config.data.processed_dir), loaded.fingerprint,
                                    config.features, config.data.days)
    splits = datasets.load_splits(folder)
    if splits is None:
        f = config.features
        splits = featurize.build_splits(loaded.frame, f.label_grouping, f.validation_share,
                                        f.test_share, f.max_rows_per_class, f.seed)
        datasets.save_splits(splits, folder)
    get_run_logger().info("Splits in %s: %s", folder,
                          {name: len(frame) for name, frame in splits.items()})
    return splits


@task(cache_policy=NO_CACHE)
def train(splits: dict[str, pd.DataFrame], config: TrainingConfig):
    """Select features on the training split and fit XGBoost."""
    features, dropped = featurize.select_features(splits["train"][list(FEATURE_COLUMNS)])
    get_run_logger().info("Dropped columns: %s", dropped)
    order = featurize.class_order(splits["train"][LABEL_COLUMN])
    train_split, validation_split = splits["train"], splits["validation"]
    model = train_model(train_split[features], train_split[LABEL_COLUMN],
                        validation_split[features], validation_split[LABEL_COLUMN],
                        order, config.model)
    return model, order, features, dropped


@task(cache_policy=NO_CACHE)
def evaluate_on_test(bundle: registry.ModelBundle, test: pd.DataFrame) -> Evaluation:
    """Scores of a model on the test split."""
    names, _ = registry.predict_classes(bundle, test)
    return evaluate(test[LABEL_COLUMN], names)


def _summary_markdown(evaluation: Evaluation, promotion: registry.Promotion,
                      version: str | None, model_name: str) -> str:
    per_class = evaluation.per_class.round(4).reset_index()
    header = "| class | precision | recall | f1 | support |\n|---|---|---|---|---|\n"
    rows = "\n".join(f"| {r['class']} | {r.precision} | {r.recall} | {r.f1} | {r.support} |"
                     for _, r in per_class.iterrows())
    registered = f"version **{version}** of `{model_name}`" if version else "not registered"
    return (f"## Training result\n\naccuracy **{evaluation.accuracy:.4f}**, macro-F1 "
            f"**{evaluation.macro_f1:.4f}**, weighted-F1 **{evaluation.weighted_f1:.4f}**\n\n"
            f"Model: {registered}; alias: {promotion.alias or 'none'} ({promotion.reason}).\n\n"
            + header + rows)


def reference_sample(splits: dict[str, pd.DataFrame], bundle: registry.ModelBundle,
                     rows: int, seed: int) -> pd.DataFrame:
    """Training rows the monitoring flow compares new traffic with, with predictions."""
    train_split = splits["train"]
    sample = train_split.sample(min(rows, len(train_split)), random_state=seed)
    sample["prediction"], sample["probability"] = registry.predict_classes(bundle, sample)
    return sample.reset_index(drop=True)


@task(cache_policy=NO_CACHE)
def register(model, order, features, splits, evaluation, loaded, config, reason):
    """Log the run to MLflow, register the model and move the champion alias if it is better."""
    logger = get_run_logger()
    reg = config.registry
    bundle = registry.ModelBundle(model, order, features, version="new", run_id="")
    champion = registry.load_bundle(reg.model_name)
    champion_score = None
    if champion is not None:
        champion_eval = evaluate_on_test(champion, splits["test"])
        champion_score = champion_eval.metrics()[reg.promotion_metric]
    score = evaluation.metrics()[reg.promotion_metric]
    promotion = registry.decide_promotion(score, champion_score, reg.promotion_metric,
                                          reg.quality_floor)
    data_version = lineage.data_version(project_path(config.data.raw_dir), loaded.fingerprint)
    with mlflow.start_run(run_name=f"training-{flow_run.id or 'local'}") as run:
        mlflow.log_params(config.model.model_dump() | {
            "label_grouping": config.features.label_grouping.value,
            "features": len(features), "data_fingerprint": loaded.fingerprint,
        })
        mlflow.log_metrics(evaluation.metrics() | {"best_iteration": model.best_iteration})
        mlflow.log_metrics({f"test_f1_{name}": value for name, value in
                            evaluation.per_class["f1"].items()})
        mlflow.log_figure(plot_confusion(evaluation.confusion), "confusion_matrix.png")
        mlflow.log_table(evaluation.per_class.reset_index(), "per_class_metrics.json")
        mlflow.log_input(mlflow.data.from_pandas(
            splits["train"].head(1000), name="cicids2017-train", targets=LABEL_COLUMN,
            digest=data_version.dataset_digest, source=config.data.raw_dir), context="training")
        mlflow.set_tags({"data_fingerprint": loaded.fingerprint, "reason": reason,
                         "promotion": promotion.reason, "prefect_flow_run_id": str(flow_run.id),
                         **data_version.tags()})
        if promotion.alias is None:
            raise ValueError(f"Model refused: {promotion.reason}. Raise the data quality or "
                             "lower registry.quality_floor in config/training.yaml.")
        reference = reference_sample(splits, bundle, config.features.reference_rows,
                                     config.features.seed)
        with temporary_parquet(reference) as path:
            mlflow.log_artifact(str(path), artifact_path="reference")
        model_uri = registry.log_model(model, splits["test"][features].head(100), order, features)
        version = registry.register_version(model_uri, reg.model_name, {
            "data_fingerprint": loaded.fingerprint, **data_version.tags(),
            "prefect_flow_run_id": str(flow_run.id), "training_run_id": run.info.run_id,
            "reason": reason, **{f"test_{k}": f"{v:.6f}" for k, v in evaluation.metrics().items()},
        })
        registry.set_alias(reg.model_name, promotion.alias, version.version)
    logger.info("Version %s of %s is now %s: %s", version.version, reg.model_name,
                promotion.alias, promotion.reason)
    return version.version, promotion


def write_metrics_file(result: dict, path: Path) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(result, indent=2))


@flow(name="training", log_prints=False)
def training_flow(config: TrainingConfig = DEFAULT_CONFIG, reason: str = "manual") -> dict:
    """Ingest, validate, featurize, train, evaluate and register an intrusion detector.

    Args:
        config: Data, features, XGBoost and registry settings (defaults: config/training.yaml).
        reason: Why this run started (manual, schedule, or the drift that triggered it).
    """
    logger = get_run_logger()
    logger.info("Training started (reason: %s)", reason)
    registry.configure_tracking(config.registry.experiment_name)
    loaded = ingest(config)
    validate(loaded.frame, config)
    splits = build_splits(loaded, config)
    model, order, features, _ = train(splits, config)
    bundle = registry.ModelBundle(model, order, features, version="new", run_id="")
    evaluation = evaluate_on_test(bundle, splits["test"])
    version, promotion = register(model, order, features, splits, evaluation, loaded, config,
                                  reason)
    create_markdown_artifact(
        key="training-summary",
        markdown=_summary_markdown(evaluation, promotion, version, config.registry.model_name),
    )
    result = {"model_name": config.registry.model_name, "version": version,
              "alias": promotion.alias, "promotion": promotion.reason,
              "reason": reason, **evaluation.metrics()}
    write_metrics_file(result, project_path(config.metrics_file))
    logger.info("Summary: %s", json.dumps(result))
    return result


if __name__ == "__main__":
    training_flow()
