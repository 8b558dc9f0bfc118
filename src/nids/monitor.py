"""Glue of the monitoring flow that needs no server: frames to compare, names of reports."""

from __future__ import annotations

import numpy as np
import pandas as pd

from nids.featurize import clean_features
from nids.schema import FEATURE_COLUMNS, LABEL_COLUMN


def current_frame(batch: pd.DataFrame, predictions: np.ndarray,
                  features: list[str]) -> pd.DataFrame:
    """The batch as the drift report sees it: cleaned features, prediction, label if any."""
    frame = clean_features(batch, features)
    frame["prediction"] = predictions
    if LABEL_COLUMN in batch.columns:
        frame[LABEL_COLUMN] = batch[LABEL_COLUMN].astype(str).to_numpy()
    return frame


def reference_frame(reference: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """The champion's reference sample restricted to its features, prediction and label."""
    missing = [c for c in [*features, "prediction", LABEL_COLUMN] if c not in reference]
    if missing:
        raise ValueError(f"The champion's reference sample lacks columns {missing}; retrain "
                         "so the model is logged with a complete reference.")
    frame = reference[[*features, "prediction", LABEL_COLUMN]].copy()
    frame[[*features]] = clean_features(frame, features)
    frame["prediction"] = frame["prediction"].astype(str)
    frame[LABEL_COLUMN] = frame[LABEL_COLUMN].astype(str)
    return frame


def drift_features(features: list[str]) -> list[str]:
    """The model's features in the canonical column order."""
    return [c for c in FEATURE_COLUMNS if c in set(features)]
