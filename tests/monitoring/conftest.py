"""Fixtures of the monitoring tests: a small real champion with its health models."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nids.config import XGBoostConfig
from nids.data.schema import FEATURE_COLUMNS, LABEL_COLUMN
from nids.monitoring import check, frames
from nids.training.evaluate import evaluate_model
from nids.training.monitoring import monitoring_models
from nids.training.reference import reference_sample
from nids.training.train import train_on_splits

KNOWN = ("BENIGN", "DDoS", "PortScan")
SHARES = (0.8, 0.12, 0.08)


def flows(rows: int, seed: int, classes: tuple[str, ...] = KNOWN,
          shares: tuple[float, ...] = SHARES) -> pd.DataFrame:
    """Loaded flows: every feature column; each class has its own scale on the first eight
    features ('Bot' is far from all of them)."""
    rng = np.random.default_rng(seed)
    labels = rng.choice(classes, rows, p=shares)
    values = rng.lognormal(3, 0.5, (rows, len(FEATURE_COLUMNS)))
    scale = {"BENIGN": 1.0, "DDoS": 30.0, "PortScan": 0.03, "Bot": 3_000.0}
    values[:, :8] *= np.array([scale[name] for name in labels])[:, None]
    frame = pd.DataFrame(values.astype(np.float32), columns=list(FEATURE_COLUMNS))
    frame[LABEL_COLUMN] = labels
    return frame


@pytest.fixture(scope="session")
def health_champion() -> check.Champion:
    """A small XGBoost champion with its calibrator, novelty models and thresholds, fitted
    as the training run fits them (validation split, reference, held-out chunks)."""
    splits = {"train": flows(6_000, 0), "validation": flows(3_000, 1), "test": flows(3_000, 2)}
    trained = train_on_splits(splits, XGBoostConfig(n_estimators=30, max_depth=4, n_jobs=1))
    evaluation = evaluate_model(trained.bundle, splits["test"])
    reference = reference_sample(splits["train"], trained.bundle, 3_000, seed=0)
    models, thresholds = monitoring_models(trained, splits, reference, evaluation, seed=0)
    bundle = trained.bundle
    bundle.version, bundle.tags = "3", {"test_macro_f1": f"{evaluation.macro_f1:.6f}"}
    return check.Champion("health", bundle, frames.reference_frame(
        reference, frames.drift_features(trained.features)), models, thresholds)
