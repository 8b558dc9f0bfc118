"""What a trained model hands to monitoring: its health models and calibrated thresholds."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import mlflow
import pandas as pd
from mlflow.exceptions import MlflowException

from nids.config import FeatureConfig
from nids.monitoring.thresholds import Thresholds, fit_thresholds
from nids.training.calibration import HealthModels, fit_health_models
from nids.training.evaluate import Evaluation
from nids.training.reference import reference_sample
from nids.training.train import TrainedModel

logger = logging.getLogger(__name__)

MONITORING_DIR = "monitoring"   # artifact folder: health_models.joblib, thresholds.json


def monitoring_models(trained: TrainedModel, splits: dict[str, pd.DataFrame],
                      reference: pd.DataFrame, evaluation: Evaluation,
                      seed: int) -> tuple[HealthModels, Thresholds]:
    """Calibrator and novelty model, and the normal ranges from the training chunks."""
    models = fit_health_models(trained, splits, reference, seed)
    thresholds = fit_thresholds(splits, models, trained.bundle, evaluation)
    logger.info("Monitoring thresholds from %d chunks of %d rows: %s", thresholds.chunks,
                thresholds.chunk_rows,
                {k: round(v.mean, 4) for k, v in thresholds.ranges.items()})
    return models, thresholds


@dataclass(frozen=True)
class MonitoringArtifacts:
    """What the monitoring flow reads of a version, computed before anything is logged."""

    reference: pd.DataFrame   # training rows with the model's predictions
    models: HealthModels
    thresholds: Thresholds


def prepare_monitoring(trained: TrainedModel, splits: dict[str, pd.DataFrame],
                       evaluation: Evaluation, features: FeatureConfig) -> MonitoringArtifacts:
    """The reference sample (`features.reference_rows` training rows), then the health models
    and thresholds fitted with it."""
    reference = reference_sample(splits["train"], trained.bundle, features.reference_rows,
                                 features.seed)
    return MonitoringArtifacts(reference, *monitoring_models(trained, splits, reference,
                                                             evaluation, features.seed))


def download_monitoring(run_id: str, folder: Path) -> tuple[HealthModels, Thresholds] | None:
    """The health models and thresholds logged with a training run; None for a model
    trained before they were logged (monitoring then falls back to the drift decision)."""
    try:
        local = Path(mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path=MONITORING_DIR, dst_path=str(folder)))
    except MlflowException as error:
        logger.warning("Run %s has no %s artifacts (%s): no health or incident verdicts",
                       run_id, MONITORING_DIR, error)
        return None
    thresholds = Thresholds.model_validate_json(
        (local / "thresholds.json").read_text(encoding="utf-8"))
    return HealthModels.load(local / "health_models.joblib"), thresholds
