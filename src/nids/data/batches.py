"""Incoming traffic batches: find them, load them like training data, save their scores."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from nids.data.ingest import read_input
from nids.data.schema import (
    FEATURE_COLUMNS,
    LABEL_COLUMN,
    LABELS,
    PREDICTION_COLUMN,
    canonical_label,
)
from nids.io import atomic_path, release_arrow_memory

logger = logging.getLogger(__name__)

PREDICTIONS_SUFFIX = ".predictions.parquet"
BATCH_SUFFIXES = (".csv", ".parquet", ".zip")


def predictions_path(batch: Path) -> Path:
    """Where the scores of a batch are saved: next to it.

    Only the last suffix is replaced, so traffic.07-03.csv and traffic.07-04.csv keep
    separate predictions (and one being scored does not hide the other).
    """
    return batch.with_name(batch.stem + PREDICTIONS_SUFFIX)


def is_batch(path: Path) -> bool:
    return (path.is_file() and path.suffix.lower() in BATCH_SUFFIXES
            and not path.name.endswith(PREDICTIONS_SUFFIX) and not path.name.startswith("."))


def pending_batches(folder: Path) -> list[Path]:
    """Batches in `folder` that have no saved predictions yet, oldest name first."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if is_batch(p) and not predictions_path(p).exists())


def _read_parquet_batch(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(path)
    except Exception as error:  # pyarrow raises several types for a bad file
        raise ValueError(f"{path.name}: not a readable Parquet file ({error}).") from error
    missing = [c for c in FEATURE_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{path.name}: {len(missing)} feature column(s) missing, e.g. {missing[:5]}. "
            "Parquet batches use the canonical snake_case names of "
            "nids.data.schema.FEATURE_COLUMNS."
        )
    batch = frame[list(FEATURE_COLUMNS)].copy()
    for column in FEATURE_COLUMNS:
        try:
            batch[column] = pd.to_numeric(batch[column], errors="raise").astype(np.float32)
        except (ValueError, TypeError) as error:
            raise ValueError(f"{path.name}: column {column!r} is not numeric ({error}); "
                             "CICIDS2017 features are numbers, inf or NaN.") from error
    if LABEL_COLUMN in frame.columns:
        labels = frame[LABEL_COLUMN].astype(str).map(canonical_label)
        if labels.isna().any():
            bad = sorted(set(frame.loc[labels.isna(), LABEL_COLUMN].astype(str)))[:5]
            raise ValueError(f"{path.name}: unknown label(s) {bad}; expected one of {LABELS}.")
        batch[LABEL_COLUMN] = pd.Categorical(labels, categories=list(LABELS))
    return batch


def load_batch(path: Path) -> pd.DataFrame:
    """A batch through the training loader: CSV (or zip) of either variant, or Parquet."""
    if path.suffix.lower() == ".parquet":
        frame = _read_parquet_batch(path)
    else:
        frame, _ = read_input(path, verify=False, require_label=False)
        frame = frame.drop(columns=["source_file", "day"])
    release_arrow_memory()   # the parse's buffers, while the batch is scored and reported
    if frame.empty:
        raise ValueError(f"{path.name}: the batch holds no rows.")
    return frame


def score_frame(frame: pd.DataFrame, names: np.ndarray, probability: np.ndarray) -> pd.DataFrame:
    """The predictions table saved next to a batch."""
    scores = pd.DataFrame({PREDICTION_COLUMN: names, "probability": probability.astype(np.float32)})
    if LABEL_COLUMN in frame.columns:
        scores[LABEL_COLUMN] = frame[LABEL_COLUMN].astype(str).to_numpy()
    return scores


def save_predictions(scores: pd.DataFrame, batch: Path) -> Path:
    target = predictions_path(batch)
    with atomic_path(target) as tmp:
        scores.to_parquet(tmp, index=False)
    return target
