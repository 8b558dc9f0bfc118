"""Frames as the drift report sees them: the scored batch and the champion's reference,
sampled, cleaned, log-scaled, with outcome pairs."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from nids.data.schema import FEATURE_COLUMNS, LABEL_COLUMN, PREDICTION_COLUMN
from nids.monitoring.settings import FeatureScale
from nids.training.features import clean_features

# One categorical column 'true -> predicted': its counts are the confusion matrix, which
# Evidently shows and counts for any set of classes (its per-class metrics do not).
OUTCOME_COLUMN = "label → prediction"
OUTCOME_SEPARATOR = " → "


def sample_for_drift(frame: pd.DataFrame, max_rows: int, seed: int) -> pd.DataFrame:
    """At most max_rows rows, each predicted class keeping its share (largest remainders)."""
    if len(frame) <= max_rows:
        return frame
    if PREDICTION_COLUMN not in frame.columns:
        return frame.sample(n=max_rows, random_state=seed).sort_index()
    sizes = frame[PREDICTION_COLUMN].value_counts(dropna=False)
    quotas = sizes * (max_rows / len(frame))
    counts = np.floor(quotas).astype(int)
    remainder = (quotas - counts).sort_values(ascending=False)
    counts[remainder.index[: max_rows - int(counts.sum())]] += 1
    parts = [
        frame[frame[PREDICTION_COLUMN] == value].sample(n=int(count), random_state=seed)
        for value, count in counts.items()
        if count > 0
    ]
    return pd.concat(parts).sort_index()


def report_column_name(column: str, scale: FeatureScale) -> str:
    """The name a feature carries in the report: 'log1p(x)' when compared on log scale."""
    return f"log1p({column})" if scale is FeatureScale.LOG1P else column


def feature_name(report_name: str) -> str:
    """The feature behind a report column name: 'log1p(x)' -> 'x'."""
    match = re.fullmatch(r"log1p\((.+)\)", report_name)
    return match.group(1) if match else report_name


def prepare_frame(
    frame: pd.DataFrame, feature_columns: Sequence[str], scale: FeatureScale, with_labels: bool
) -> pd.DataFrame:
    """Features (+/-inf as NaN, optionally log-scaled, renamed), prediction, label, outcome."""
    values = frame[list(feature_columns)].to_numpy(dtype=np.float64)
    values = np.where(np.isinf(values), np.nan, values)  # inf hides drift in Evidently's scores
    if scale is FeatureScale.LOG1P:
        values = np.sign(values) * np.log1p(np.abs(values))
    names = [report_column_name(c, scale) for c in feature_columns]
    prepared = pd.DataFrame(values, columns=names, index=frame.index)
    prepared[PREDICTION_COLUMN] = frame[PREDICTION_COLUMN].astype(str)
    if with_labels:
        prepared[LABEL_COLUMN] = frame[LABEL_COLUMN].astype(str)
        prepared[OUTCOME_COLUMN] = (
            prepared[LABEL_COLUMN] + OUTCOME_SEPARATOR + prepared[PREDICTION_COLUMN]
        )
    return prepared


def has_labels(frame: pd.DataFrame, name: str) -> bool:
    """Whether a frame carries a complete label column (a partial one is an error)."""
    if LABEL_COLUMN not in frame.columns or frame[LABEL_COLUMN].isna().all():
        return False
    if frame[LABEL_COLUMN].isna().any():
        raise ValueError(
            f"{name} frame: column '{LABEL_COLUMN}' is only partly filled; "
            "drop the unlabelled rows or the whole column"
        )
    return True


def unseen_labels(reference_frame: pd.DataFrame, current_frame: pd.DataFrame) -> list[str]:
    """Classes in the current labels that the reference labels lack.

    Evidently 0.7 shows per-class quality beside the reference's and fails (KeyError on the
    class) when the reference has no such class: the drift tour's Friday batch, with attacks
    the champion never saw, is exactly that case.
    """
    current = set(current_frame[LABEL_COLUMN].astype(str))
    return sorted(current - set(reference_frame[LABEL_COLUMN].astype(str)))


def check_columns(frame: pd.DataFrame, feature_columns: Sequence[str], name: str) -> None:
    """Raise naming the columns a frame lacks for the drift report."""
    if not feature_columns:
        raise ValueError("no feature columns to test; pass the model's feature names")
    missing = [c for c in (*feature_columns, PREDICTION_COLUMN) if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} frame lacks columns {missing}; score it with the model first")


def current_frame(batch: pd.DataFrame, predictions: np.ndarray,
                  features: list[str]) -> pd.DataFrame:
    """The batch as the drift report sees it: cleaned features, prediction, label if any."""
    frame = clean_features(batch, features)
    frame[PREDICTION_COLUMN] = predictions
    if LABEL_COLUMN in batch.columns:
        frame[LABEL_COLUMN] = batch[LABEL_COLUMN].astype(str).to_numpy()
    return frame


def reference_frame(reference: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """The champion's reference sample restricted to its features, prediction and label."""
    missing = [c for c in [*features, PREDICTION_COLUMN, LABEL_COLUMN] if c not in reference]
    if missing:
        raise ValueError(f"The champion's reference sample lacks columns {missing}; retrain "
                         "so the model is logged with a complete reference.")
    frame = reference[[*features, PREDICTION_COLUMN, LABEL_COLUMN]].copy()
    frame[[*features]] = clean_features(frame, features)
    frame[PREDICTION_COLUMN] = frame[PREDICTION_COLUMN].astype(str)
    frame[LABEL_COLUMN] = frame[LABEL_COLUMN].astype(str)
    return frame


def drift_features(features: list[str]) -> list[str]:
    """The model's features in the canonical column order."""
    return [c for c in FEATURE_COLUMNS if c in set(features)]
