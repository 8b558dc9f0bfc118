"""Train, validation and test splits: classes, stratification, undersampling, saved Parquet.

The splits are saved under a folder keyed by the data fingerprint and every setting that
shapes them, so a later run on the same inputs resumes from them instead of splitting again.
Saved splits that cannot be read (a truncated Parquet) are reported by path, removed and built
again.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from nids.config import FeatureConfig, LabelGrouping
from nids.data.schema import BENIGN, FEATURE_COLUMNS, LABEL_COLUMN, LABEL_FAMILIES, LABELS
from nids.io import atomic_path, release_arrow_memory, write_parquet
from nids.training.features import clean_features

logger = logging.getLogger(__name__)

SPLITS = ("train", "validation", "test")
COMPLETE_MARKER = "_COMPLETE"


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
    positions: np.ndarray, classes: pd.Series, max_rows: int | None, seed: int,
    caps: dict[str, int] | None = None,
) -> np.ndarray:
    """Keep at most `max_rows` rows of each class among `positions` (None: every row), or
    the class's own cap in `caps`."""
    rng = np.random.default_rng(seed)
    of_positions = classes.to_numpy()[positions]
    kept = []
    for name in pd.unique(of_positions):
        rows = positions[of_positions == name]
        cap = (caps or {}).get(name, max_rows)
        kept.append(rows if cap is None or len(rows) <= cap else
                    rng.choice(rows, cap, replace=False))
    return np.sort(np.concatenate(kept))


def build_splits(
    frame: pd.DataFrame, grouping: LabelGrouping, validation_share: float,
    test_share: float, max_rows_per_class: int | None, seed: int,
    max_benign_rows: int | None = None,
) -> dict[str, pd.DataFrame]:
    """Cleaned features plus `label` (the class) for the train, validation and test splits;
    the training split keeps at most `max_rows_per_class` rows of a class and
    `max_benign_rows` of BENIGN (None: BENIGN has the other classes' cap)."""
    classes = class_labels(frame[LABEL_COLUMN], grouping)
    positions = stratified_split(classes, validation_share, test_share, seed)
    caps = None if max_benign_rows is None else {BENIGN: max_benign_rows}
    if max_rows_per_class is not None or caps:
        positions["train"] = undersample(positions["train"], classes, max_rows_per_class, seed,
                                         caps)
    return split_frames(frame, classes, positions)


def configured_splits(frame: pd.DataFrame, features: FeatureConfig) -> dict[str, pd.DataFrame]:
    """`build_splits` with the classes, shares, caps and seed of `features`."""
    return build_splits(frame, features.label_grouping, features.validation_share,
                        features.test_share, features.max_rows_per_class, features.seed,
                        features.max_benign_rows)


def split_frames(frame: pd.DataFrame, classes: pd.Series,
                 positions: dict[str, np.ndarray]) -> dict[str, pd.DataFrame]:
    """Cleaned features plus `label` (the class) of the rows at each split's positions."""
    splits = {}
    for name, rows in positions.items():
        part = clean_features(frame.iloc[rows], FEATURE_COLUMNS)
        part[LABEL_COLUMN] = classes.iloc[rows].to_numpy()
        splits[name] = part.reset_index(drop=True)
    return splits


def splits_folder(processed_dir: Path, fingerprint: str, features: FeatureConfig,
                  days: list[str] | None) -> Path:
    """A folder keyed by the data fingerprint and everything that shapes the splits."""
    settings = json.dumps({"features": features.model_dump(mode="json"), "days": days},
                          sort_keys=True)
    key = hashlib.sha256(f"{fingerprint}{settings}".encode()).hexdigest()[:16]
    return processed_dir / key


def save_splits(splits: dict[str, pd.DataFrame], folder: Path) -> None:
    """Write each split as Parquet; a marker written last says the set is complete."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / COMPLETE_MARKER).unlink(missing_ok=True)
    for name, frame in splits.items():
        with atomic_path(folder / f"{name}.parquet") as tmp:
            write_parquet(frame, tmp)
    (folder / COMPLETE_MARKER).touch()


def load_splits(folder: Path) -> dict[str, pd.DataFrame] | None:
    """The saved splits, or None when the folder holds no complete set. A set that cannot be
    read is reported by path and removed (None: build it again)."""
    if not (folder / COMPLETE_MARKER).exists():
        return None
    splits = {}
    for name in SPLITS:
        path = folder / f"{name}.parquet"
        try:
            splits[name] = pd.read_parquet(path)
        except (OSError, ValueError, pa.ArrowException) as error:
            logger.warning("%s: the saved split cannot be read (%s); removing the saved splits "
                           "and splitting again", path, error)
            (folder / COMPLETE_MARKER).unlink(missing_ok=True)
            for stale in SPLITS:
                (folder / f"{stale}.parquet").unlink(missing_ok=True)
            return None
    return splits


def load_or_build_splits(
    frame: pd.DataFrame, fingerprint: str, processed_dir: Path, features: FeatureConfig,
    days: list[str] | None,
) -> tuple[dict[str, pd.DataFrame], Path]:
    """The splits saved for these inputs and settings (built and saved first if there are
    none), and the folder that holds them."""
    folder = splits_folder(processed_dir, fingerprint, features, days)
    splits = load_splits(folder)
    if splits is None:
        splits = configured_splits(frame, features)
        save_splits(splits, folder)
    release_arrow_memory()   # the Parquet reads' and writes' buffers
    return splits, folder
