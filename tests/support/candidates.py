"""Candidates as promotion sees them, trained on small frames whose classes one column tells
apart, and their registration against the champion (the tracking tests' MLflow store)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from nids.config import DataSource, LabelGrouping, TrainingConfig, XGBoostConfig
from nids.tracking import registry
from nids.tracking.runs import RunOrigin
from nids.training.evaluate import evaluate_model
from nids.training.monitoring import MonitoringArtifacts, prepare_monitoring
from nids.training.promotion import Candidate, compare_with_champion, register_candidate
from nids.training.splits import build_splits
from nids.training.train import train_on_splits
from tests.support.builders import flow_frame

SMALL_MODEL = XGBoostConfig(n_estimators=20, max_depth=3, n_jobs=1, early_stopping_rounds=5)
CLASSES = ("BENIGN", "DDoS", "PortScan")


def separable_frame(column: str, seed: int = 5, times: int = 1,
                    noise: float = 0.0) -> pd.DataFrame:
    """Three classes told apart by `column` alone (the other features are noise), `times` x 270
    rows; `noise`: the share of rows given a random class instead."""
    labels = (["BENIGN"] * 150 + ["DDoS"] * 60 + ["PortScan"] * 60) * times
    frame = flow_frame(labels, seed=seed)
    codes = np.array([CLASSES.index(label) for label in labels], dtype=np.float32)
    frame[column] += 1000 * codes
    rng = np.random.default_rng(seed)
    flipped = rng.random(len(frame)) < noise
    frame.loc[flipped, "label"] = rng.choice(CLASSES, flipped.sum())
    return frame


def make_candidate(frame: pd.DataFrame, model: XGBoostConfig = SMALL_MODEL,
                   source: DataSource = DataSource.REAL) -> Candidate:
    """Splits of `frame`, the model trained on them and its test scores, as promotion sees it."""
    splits = build_splits(frame, LabelGrouping.LABELS, 0.2, 0.2, None, seed=0)
    trained = train_on_splits(splits, model)
    return Candidate(trained, evaluate_model(trained.bundle, splits["test"]), splits, source,
                     LabelGrouping.LABELS.value)


def training_config(folder: Path, model_name: str) -> TrainingConfig:
    config = TrainingConfig(model=SMALL_MODEL)
    config.data.raw_dir = str(folder / "raw")
    config.features.reference_rows = 100
    config.registry.model_name = model_name
    return config


def register(candidate: Candidate, folder: Path, model_name: str, reason: str) -> str:
    """Weigh `candidate` against the champion and register it; returns the promotion reason."""
    config = training_config(folder, model_name)
    config.registry.quality_floor = 0.0   # the weak first models are meant to be beaten
    promotion = compare_with_champion(candidate, config.registry)
    origin = RunOrigin.of(reason, None, folder / "raw", f"fingerprint-{reason}",
                          DataSource(candidate.data_source))
    register_candidate(candidate, promotion, config, origin, monitoring_of(candidate, config))
    return promotion.reason


def monitoring_of(candidate: Candidate, config: TrainingConfig) -> MonitoringArtifacts:
    """What the training flow hands monitoring for `candidate`."""
    return prepare_monitoring(candidate.trained, candidate.splits, candidate.evaluation,
                              config.features)


def champion_of(model_name: str) -> str:
    return str(registry.version_by_alias(model_name, registry.CHAMPION).version)
