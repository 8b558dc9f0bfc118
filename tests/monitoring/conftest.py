"""Fixtures of the monitoring tests: a small real champion, traffic for it, and a monitoring
configuration whose reports and Evidently workspace live in a temporary folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

from nids.config import MonitoringConfig
from nids.data.schema import FEATURE_COLUMNS, LABEL_COLUMN, PREDICTION_COLUMN
from nids.monitoring import check, frames
from nids.tracking.registry import ModelBundle

TINY_FEATURES = ["destination_port", "flow_duration", "total_fwd_packets", "flow_bytes_s",
                 "flow_iat_min"]
TINY_CLASSES = ["BENIGN", "DDoS"]


def _traffic(seed: int, scale: float = 1.0, rows: int = 2_000) -> pd.DataFrame:
    """A loaded batch: every feature column, DDoS flows 1,000 times longer; `scale` multiplies
    every feature but the port."""
    rng = np.random.default_rng(seed)
    labels = rng.choice(TINY_CLASSES, rows, p=[0.7, 0.3])
    values = rng.lognormal(3, 1, (rows, len(FEATURE_COLUMNS))) * scale
    frame = pd.DataFrame(values.astype(np.float32), columns=list(FEATURE_COLUMNS))
    frame["flow_duration"] *= np.where(labels == "DDoS", 1_000, 1).astype(np.float32)
    frame["destination_port"] = rng.choice([80.0, 443.0, 53.0], rows).astype(np.float32)
    frame[LABEL_COLUMN] = pd.Categorical(labels)
    return frame


@pytest.fixture(scope="session")
def tiny_traffic() -> Callable[..., pd.DataFrame]:
    """Builds a batch of traffic for `tiny_champion`: `(seed, scale=1.0, rows=2000)`."""
    return _traffic


@pytest.fixture(scope="session")
def tiny_champion() -> check.Champion:
    """A small XGBoost model on five features, version 7 of model 'tiny' (test macro-F1 0.95),
    and its reference sample, as after training."""
    train = _traffic(seed=0)
    model = xgb.XGBClassifier(n_estimators=20, max_depth=3, n_jobs=1)
    model.fit(train[TINY_FEATURES], (train[LABEL_COLUMN] == "DDoS").astype(int))
    bundle = ModelBundle(model, TINY_CLASSES, TINY_FEATURES, version="7", run_id="run",
                         tags={"test_macro_f1": "0.95"})
    sample = _traffic(seed=1)
    sample[PREDICTION_COLUMN] = np.asarray(TINY_CLASSES)[model.predict(sample[TINY_FEATURES])]
    reference = frames.reference_frame(sample, frames.drift_features(TINY_FEATURES))
    return check.Champion("tiny", bundle, reference)


def _config_in(folder: Path) -> MonitoringConfig:
    return MonitoringConfig(reports_dir=str(folder / "reports"),
                            history={"workspace_dir": str(folder / "reports" / "workspace")})


@pytest.fixture(scope="session")
def config_in() -> Callable[[Path], MonitoringConfig]:
    """Builds the default monitoring config with reports, and the Evidently workspace in them,
    under a folder: `(folder)`."""
    return _config_in


@pytest.fixture
def history_config(tmp_path: Path) -> MonitoringConfig:
    """The default monitoring config with reports and the workspace under tmp_path."""
    return _config_in(tmp_path)
