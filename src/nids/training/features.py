"""From validated flows to model inputs: the cleaning policy and the feature selection.

Cleaning policy (applied the same way when training and when scoring):
- `Infinity`/`-Infinity` (rates of zero-duration flows) become missing (NaN); XGBoost learns
  a default branch for missing values, and drift statistics are not skewed by infinities.
- `-1` in `init_win_bytes_forward`/`init_win_bytes_backward` is kept: it means "no TCP window
  seen" and marks 20-65% of the real rows, so it carries information.
- Any other negative value (`flow_duration` = -1, negative IAT minimums, header lengths,
  `min_seg_size_forward`) is a measurement glitch of CICFlowMeter and becomes missing.
"""

from __future__ import annotations

import hashlib
import logging

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

SENTINEL_COLUMNS = ("init_win_bytes_forward", "init_win_bytes_backward")


def clean_features(frame: pd.DataFrame, columns: list[str] | tuple[str, ...]) -> pd.DataFrame:
    """The `columns` of `frame` as float32 with the cleaning policy of this module applied."""
    values = frame[list(columns)].to_numpy(dtype=np.float32, copy=True)
    values[np.isinf(values)] = np.nan
    for position, column in enumerate(columns):
        if column not in SENTINEL_COLUMNS:
            with np.errstate(invalid="ignore"):
                negative = values[:, position] < 0
            values[negative, position] = np.nan
    return pd.DataFrame(values, columns=list(columns), index=frame.index)


def _column_digest(values: np.ndarray) -> str:
    return hashlib.sha1(np.ascontiguousarray(values).tobytes()).hexdigest()


def select_features(train: pd.DataFrame) -> tuple[list[str], dict[str, str]]:
    """Keep columns that vary in the training data and are not copies of an earlier column."""
    kept, dropped, seen = [], {}, {}
    for column in train.columns:
        values = train[column].to_numpy()
        if pd.Series(values).nunique(dropna=False) <= 1:
            dropped[column] = "constant in the training data"
            continue
        digest = _column_digest(values)
        if digest in seen:
            dropped[column] = f"duplicate of {seen[digest]}"
            continue
        seen[digest] = column
        kept.append(column)
    logger.info("Dropped %d feature columns: %s", len(dropped), dropped)
    return kept, dropped
