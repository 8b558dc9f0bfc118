"""A training run in MLflow: parameters, metrics, figures, data input, tags, reference sample,
holdout, model, registered version and alias.

A run that fails after creating its version leaves no candidate behind: the version is tagged
`status=failed` with the reason, the alias goes back to the version that held it, and the
MLflow run ends FAILED. When the registry itself is down (or the process is killed) these
marks cannot be made; the version then keeps `status=pending`, which says the same, and the next
training run tags it failed and ends its MLflow run FAILED (`fail_abandoned_versions`).
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import joblib
import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.entities import RunStatus
from mlflow.exceptions import MlflowException
from pydantic import BaseModel

from nids.config import DataSource, TrainingConfig
from nids.data.schema import LABEL_COLUMN
from nids.io import atomic_path, temporary_parquet
from nids.tracking import registry
from nids.tracking.lineage import (
    CORPUS_ARTIFACT,
    CORPUS_MD5_TAG,
    CORPUS_PARTITIONS_TAG,
    DataVersion,
    corpus_md5,
    data_version,
)
from nids.training.evaluate import Evaluation, plot_confusion
from nids.training.train import TrainedModel

logger = logging.getLogger(__name__)

TRAINING_ROWS_LOGGED = 1000   # rows of the training split logged as the run's dataset input
EXAMPLE_ROWS = 100            # test rows the model's signature is inferred from
# Registering takes seconds: a version still pending after this long was left by a dead run.
ABANDONED_AFTER_MINUTES = 30


@dataclass(frozen=True)
class RunOrigin:
    """Why a training run started, from which Prefect flow run, on which data."""

    reason: str
    flow_run_id: str | None   # None outside Prefect
    fingerprint: str          # of the ingested input files
    data_version: DataVersion
    data_source: DataSource = DataSource.REAL   # real rows, or the generator's
    corpus_partitions: tuple[str, ...] = ()     # the corpus partitions read (nids.data.corpus)
    corpus_md5: str | None = None               # the corpus folder's md5 in its .dvc file

    @classmethod
    def of(cls, reason: str, flow_run_id: str | None, raw_dir: Path, fingerprint: str,
           data_source: DataSource = DataSource.REAL, corpus_partitions: Sequence[str] = (),
           corpus_dir: Path | None = None) -> RunOrigin:
        """`corpus_dir`: the corpus folder the partitions were read from (its DVC version)."""
        md5 = corpus_md5(corpus_dir) if corpus_partitions and corpus_dir else None
        return cls(reason, flow_run_id, fingerprint, data_version(raw_dir, fingerprint),
                   DataSource(data_source), tuple(corpus_partitions), md5)

    def data_tags(self) -> dict[str, str]:
        """What the model learnt from: the data's source, version, fingerprint and how many
        corpus partitions (their names: the run's CORPUS_ARTIFACT)."""
        corpus = {CORPUS_MD5_TAG: self.corpus_md5} if self.corpus_md5 else {}
        return {"data_source": self.data_source.value, "data_fingerprint": self.fingerprint,
                CORPUS_PARTITIONS_TAG: str(len(self.corpus_partitions)),
                **corpus, **self.data_version.tags()}

    def run_tags(self, promotion: str) -> dict[str, str]:
        """Tags of the MLflow run: data, lineage, why it ran and the promotion verdict."""
        return {**self.data_tags(), "reason": self.reason, "promotion": promotion,
                "prefect_flow_run_id": str(self.flow_run_id)}

    def version_tags(self, run_id: str, evaluation: Evaluation) -> dict[str, str]:
        """Tags of the registered model version, test scores included."""
        return {**self.data_tags(), "prefect_flow_run_id": str(self.flow_run_id),
                "training_run_id": run_id, "reason": self.reason,
                **{f"test_{k}": f"{v:.6f}" for k, v in evaluation.metrics().items()}}


def _end_run_failed() -> None:
    """End the active run as FAILED; when the store cannot be reached, say so and go on."""
    try:
        mlflow.end_run(RunStatus.to_string(RunStatus.FAILED))
    except Exception as error:  # the first error is raised
        logger.error("Could not mark the MLflow run FAILED (%s); it stays RUNNING", error)


@contextmanager
def start_training_run(flow_run_id: str | None) -> Iterator[mlflow.ActiveRun]:
    """An MLflow run named after the Prefect flow run (`training-local` outside Prefect),
    ended FINISHED, or FAILED when the block raises (without hiding the block's error)."""
    run = mlflow.start_run(run_name=f"training-{flow_run_id or 'local'}")
    try:
        yield run
    except BaseException:
        _end_run_failed()
        raise
    mlflow.end_run()


def training_params(config: TrainingConfig, trained: TrainedModel,
                    fingerprint: str) -> dict[str, object]:
    """The run's parameters: XGBoost's settings, the class grouping, the inputs."""
    return config.model.model_dump() | {
        "label_grouping": config.features.label_grouping.value,
        "features": len(trained.features), "data_fingerprint": fingerprint,
    }


def log_evaluation(evaluation: Evaluation, best_iteration: int) -> None:
    """Test metrics (per class too), the confusion matrix and the per-class table."""
    mlflow.log_metrics(evaluation.metrics() | {"best_iteration": best_iteration})
    mlflow.log_metrics({f"test_f1_{name}": value for name, value in
                        evaluation.per_class["f1"].items()})
    mlflow.log_figure(plot_confusion(evaluation.confusion), "confusion_matrix.png")
    mlflow.log_table(evaluation.per_class.reset_index(), "per_class_metrics.json")


def log_training_data(train_split: pd.DataFrame, digest: str, source: str) -> None:
    """The training split as the run's dataset input (its head; the digest names the data)."""
    dataset = mlflow.data.from_pandas(train_split.head(TRAINING_ROWS_LOGGED),
                                      name="cicids2017-train", targets=LABEL_COLUMN,
                                      digest=digest, source=source)
    mlflow.log_input(dataset, context="training")


def log_training_run(config: TrainingConfig, trained: TrainedModel, evaluation: Evaluation,
                     train_split: pd.DataFrame, origin: RunOrigin, promotion: str) -> None:
    """Everything the active run records before the model is accepted or refused."""
    mlflow.log_params(training_params(config, trained, origin.fingerprint)
                      | {CORPUS_PARTITIONS_TAG: len(origin.corpus_partitions)})
    mlflow.log_dict({"corpus_dir": config.data.corpus.dir,
                     "partitions": list(origin.corpus_partitions)}, CORPUS_ARTIFACT)
    log_evaluation(evaluation, trained.model.best_iteration)
    log_training_data(train_split, origin.data_version.dataset_digest, config.data.raw_dir)
    mlflow.set_tags(origin.run_tags(promotion))


def log_reference(reference: pd.DataFrame) -> None:
    """The reference sample, where `registry.download_reference` finds it."""
    with temporary_parquet(reference) as path:
        mlflow.log_artifact(str(path), artifact_path="reference")


def log_holdout(test_split: pd.DataFrame, trained_rows: np.ndarray) -> None:
    """The test split and the hashes of the rows the model learnt from, where
    `registry.download_holdout` and `download_trained_rows` find them: later candidates are
    scored on the test split, and compared with this model on rows it never saw."""
    folder, name = registry.HOLDOUT_ARTIFACT.split("/")
    with temporary_parquet(test_split, name) as path:
        mlflow.log_artifact(str(path), artifact_path=folder)
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / Path(registry.TRAINED_ROWS_ARTIFACT).name
        with atomic_path(path) as partial, partial.open("wb") as handle:
            np.save(handle, np.unique(trained_rows.astype(np.uint64)), allow_pickle=False)
        mlflow.log_artifact(str(path), artifact_path=folder)


def undo_registration(model_name: str, version: str, alias: str, previous: str | None,
                      error: BaseException) -> None:
    """After a failure past the version's creation: tag it failed, give the alias back to the
    version that held it. Each step is tried even if the one before fails."""
    reason = f"{type(error).__name__}: {error}"
    steps = [("tag it failed", lambda: registry.set_status(model_name, version, registry.FAILED,
                                                             reason))]
    if previous is not None:
        steps.append(("give the alias back",
                      lambda: registry.set_alias(model_name, alias, previous)))
    else:
        steps.append(("take the alias off it",
                      lambda: registry.delete_alias(model_name, alias, version)))
    for what, step in steps:
        try:
            step()
        except Exception as failure:  # the first error is raised
            logger.error("Version %s of %s: could not %s (%s)", version, model_name, what,
                         failure)
    logger.error("Version %s of %s failed to register (%s); it is tagged status=failed and "
                 "%s", version, model_name, reason,
                 f"{alias} is back on version {previous}" if previous else f"holds no {alias}")


def log_monitoring(models: object, thresholds: BaseModel) -> None:
    """The model's health models and calibrated thresholds, where monitoring reads them."""
    with tempfile.TemporaryDirectory() as folder:
        models_path, thresholds_path = Path(folder) / "health_models.joblib", \
            Path(folder) / "thresholds.json"
        joblib.dump(models, models_path)
        thresholds_path.write_text(thresholds.model_dump_json(indent=2), encoding="utf-8")
        mlflow.log_artifact(str(models_path), artifact_path="monitoring")
        mlflow.log_artifact(str(thresholds_path), artifact_path="monitoring")


def register_model(trained: TrainedModel, test_split: pd.DataFrame, model_name: str,
                   tags: dict[str, str], alias: str) -> int:
    """Log the model in the active run, register it as a new version (status pending), point
    `alias` at it and mark it ready; a failure after the version exists undoes the alias and
    tags the version failed."""
    example = test_split[trained.features].head(EXAMPLE_ROWS)
    model_uri = registry.log_model(trained.model, example, trained.classes, trained.features)
    previous = registry.version_by_alias(model_name, alias)
    version = registry.register_version(model_uri, model_name,
                                        tags | {registry.STATUS_TAG: registry.PENDING})
    try:
        registry.set_alias(model_name, alias, version.version)
        registry.set_status(model_name, version.version, registry.READY)
    except BaseException as error:
        undo_registration(model_name, str(version.version), alias,
                          str(previous.version) if previous else None, error)
        raise
    return int(version.version)


def fail_abandoned_versions(model_name: str,
                            older_than_minutes: float = ABANDONED_AFTER_MINUTES) -> list[str]:
    """Versions a run left `pending` (it died registering them, or the registry went down):
    tag them failed and end their MLflow runs FAILED. Returns their numbers."""
    client = MlflowClient()
    query = f"name = '{model_name}' and tags.{registry.STATUS_TAG} = '{registry.PENDING}'"
    try:
        pending = client.search_model_versions(query)
    except MlflowException as error:
        if registry.is_not_found(error):
            return []
        raise registry.unreachable(error) from error
    cutoff_ms = (time.time() - older_than_minutes * 60) * 1000
    abandoned = [v for v in pending if v.creation_timestamp <= cutoff_ms]
    for version in abandoned:
        registry.set_status(model_name, str(version.version), registry.FAILED,
                            "left pending by a training run that stopped while registering it")
        if version.run_id and client.get_run(version.run_id).info.status == "RUNNING":
            client.set_terminated(version.run_id, RunStatus.to_string(RunStatus.FAILED))
        logger.warning("Version %s of %s was left pending by a run that stopped while "
                       "registering it: tagged status=failed", version.version, model_name)
    return [str(v.version) for v in abandoned]
