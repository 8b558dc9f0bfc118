"""A training run in MLflow: parameters, metrics, figures, data input, tags, reference sample,
model, registered version and alias."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import joblib
import mlflow
import pandas as pd
from pydantic import BaseModel

from nids.config import TrainingConfig
from nids.data.schema import LABEL_COLUMN
from nids.io import temporary_parquet
from nids.tracking import registry
from nids.tracking.lineage import DataVersion, data_version
from nids.training.evaluate import Evaluation, plot_confusion
from nids.training.train import TrainedModel

TRAINING_ROWS_LOGGED = 1000   # rows of the training split logged as the run's dataset input
EXAMPLE_ROWS = 100            # test rows the model's signature is inferred from


@dataclass(frozen=True)
class RunOrigin:
    """Why a training run started, from which Prefect flow run, on which data."""

    reason: str
    flow_run_id: str | None   # None outside Prefect
    fingerprint: str          # of the ingested input files
    data_version: DataVersion

    @classmethod
    def of(cls, reason: str, flow_run_id: str | None, raw_dir: Path,
           fingerprint: str) -> RunOrigin:
        return cls(reason, flow_run_id, fingerprint, data_version(raw_dir, fingerprint))

    def run_tags(self, promotion: str) -> dict[str, str]:
        """Tags of the MLflow run: data, lineage, why it ran and the promotion verdict."""
        return {"data_fingerprint": self.fingerprint, "reason": self.reason,
                "promotion": promotion, "prefect_flow_run_id": str(self.flow_run_id),
                **self.data_version.tags()}

    def version_tags(self, run_id: str, evaluation: Evaluation) -> dict[str, str]:
        """Tags of the registered model version, test scores included."""
        return {"data_fingerprint": self.fingerprint, **self.data_version.tags(),
                "prefect_flow_run_id": str(self.flow_run_id), "training_run_id": run_id,
                "reason": self.reason,
                **{f"test_{k}": f"{v:.6f}" for k, v in evaluation.metrics().items()}}


def start_training_run(flow_run_id: str | None) -> mlflow.ActiveRun:
    """An MLflow run named after the Prefect flow run (`training-local` outside Prefect)."""
    return mlflow.start_run(run_name=f"training-{flow_run_id or 'local'}")


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
    mlflow.log_params(training_params(config, trained, origin.fingerprint))
    log_evaluation(evaluation, trained.model.best_iteration)
    log_training_data(train_split, origin.data_version.dataset_digest, config.data.raw_dir)
    mlflow.set_tags(origin.run_tags(promotion))


def log_reference(reference: pd.DataFrame) -> None:
    """The reference sample, where `registry.download_reference` finds it."""
    with temporary_parquet(reference) as path:
        mlflow.log_artifact(str(path), artifact_path="reference")


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
    """Log the model in the active run, register it as a new version, point `alias` at it."""
    example = test_split[trained.features].head(EXAMPLE_ROWS)
    model_uri = registry.log_model(trained.model, example, trained.classes, trained.features)
    version = registry.register_version(model_uri, model_name, tags)
    registry.set_alias(model_name, alias, version.version)
    return int(version.version)
