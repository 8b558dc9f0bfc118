"""From validated flows to model inputs: cleaning policy, feature selection, classes, splits.

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

from nids.config import LabelGrouping
from nids.data.schema import FEATURE_COLUMNS, LABEL_COLUMN, LABEL_FAMILIES, LABELS

logger = logging.getLogger(__name__)

SENTINEL_COLUMNS = ("init_win_bytes_forward", "init_win_bytes_backward")
SPLITS = ("train", "validation", "test")


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


def class_labels(labels: pd.Series, grouping: LabelGrouping) -> pd.Series:
    """Class name of each row: the canonical label or its attack family."""
    names = labels.astype(str)
    if grouping is LabelGrouping.FAMILIES:
        return names.map(LABEL_FAMILIES)
    return names


def class_order(classes: pd.Series) -> list[str]:
    """The classes present, in the canonical order of the labels (families by first label)."""
    order = list(dict.fromkeys([*LABELS, *LABEL_FAMILIES.values()]))
    present = set(classes.unique())
    return [name for name in order if name in present]


def split_counts(n: int, validation_share: float, test_share: float) -> tuple[int, int]:
    """(validation, test) rows of a class of n rows; at least one each when n >= 3."""
    n_val, n_test = round(n * validation_share), round(n * test_share)
    if n >= 3:
        n_val, n_test = max(n_val, 1), max(n_test, 1)
    return n_val, n_test


def stratified_split(
    classes: pd.Series, validation_share: float, test_share: float, seed: int
) -> dict[str, np.ndarray]:
    """Row positions of each split, stratified by class, keeping rare classes in every split."""
    rng = np.random.default_rng(seed)
    parts: dict[str, list[np.ndarray]] = {name: [] for name in SPLITS}
    codes, _ = pd.factorize(classes, sort=True)
    for code in np.unique(codes):
        rows = rng.permutation(np.flatnonzero(codes == code))
        n_val, n_test = split_counts(len(rows), validation_share, test_share)
        parts["test"].append(rows[:n_test])
        parts["validation"].append(rows[n_test:n_test + n_val])
        parts["train"].append(rows[n_test + n_val:])
    return {name: np.sort(np.concatenate(chunks)) for name, chunks in parts.items()}


def undersample(
    positions: np.ndarray, classes: pd.Series, max_rows: int, seed: int
) -> np.ndarray:
    """Keep at most `max_rows` rows of each class among `positions`."""
    rng = np.random.default_rng(seed)
    of_positions = classes.to_numpy()[positions]
    kept = []
    for name in pd.unique(of_positions):
        rows = positions[of_positions == name]
        kept.append(rng.choice(rows, max_rows, replace=False) if len(rows) > max_rows else rows)
    return np.sort(np.concatenate(kept))


def build_splits(
    frame: pd.DataFrame, grouping: LabelGrouping, validation_share: float,
    test_share: float, max_rows_per_class: int | None, seed: int,
) -> dict[str, pd.DataFrame]:
    """Cleaned features plus `label` (the class) for the train, validation and test splits."""
    classes = class_labels(frame[LABEL_COLUMN], grouping)
    positions = stratified_split(classes, validation_share, test_share, seed)
    if max_rows_per_class is not None:
        positions["train"] = undersample(positions["train"], classes, max_rows_per_class, seed)
    splits = {}
    for name, rows in positions.items():
        part = clean_features(frame.iloc[rows], FEATURE_COLUMNS)
        part[LABEL_COLUMN] = classes.iloc[rows].to_numpy()
        splits[name] = part.reset_index(drop=True)
    return splits
