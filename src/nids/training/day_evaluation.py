"""Day-based evaluation: a second model learns earlier days and is scored on later days.

A random split puts flows of the same attack session in both training and test rows, which
flatters the scores on CICIDS2017. Here the test rows come from days the model never saw, so
the per-class recall shows what a later day's traffic meets, including attack classes absent
from the training days (their recall is 0 by construction: the model cannot name them; the
table says which classes those are). The registered model is not this one; promotion keeps
using the random test split.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nids.config import DaySplitConfig, FeatureConfig, XGBoostConfig
from nids.data.official import day_names
from nids.data.schema import FEATURE_COLUMNS, LABEL_COLUMN
from nids.training.evaluate import evaluate_model
from nids.training.features import clean_features
from nids.training.splits import class_labels, split_frames, stratified_split, undersample
from nids.training.train import train_on_splits

logger = logging.getLogger(__name__)

BENIGN = "BENIGN"   # the class of benign rows, by label and by family


@dataclass(frozen=True)
class DayEvaluation:
    """Scores of a model of `train_days` on `test_days`."""

    train_days: list[str]
    test_days: list[str]
    train_rows: int
    test_rows: int
    macro_f1: float
    per_class: pd.DataFrame   # recall, precision, f1, support, in_training per test class

    def metrics(self) -> dict[str, float]:
        """MLflow metrics: `day_macro_f1`, `day_unseen_classes`, `day_recall_<class>`,
        `day_detected_<class>`."""
        unseen = int((~self.per_class["in_training"]).sum())
        return {"day_macro_f1": self.macro_f1, "day_unseen_classes": unseen,
                **{f"day_{column}_{name}": float(value)
                   for column in ("recall", "detected")
                   for name, value in self.per_class[column].items()}}


def rows_of_days(frame: pd.DataFrame, days: list[str]) -> pd.DataFrame:
    """The rows of `days` (the `day` column the loader adds from the file names)."""
    return frame[frame["day"].isin(day_names(days))].reset_index(drop=True)


def missing_days(frame: pd.DataFrame, split: DaySplitConfig) -> list[str]:
    """The configured days without any row in `frame` (the day split is then not run)."""
    present = set(frame["day"].astype(str).unique()) if "day" in frame else set()
    wanted = [*(split.train_days or []), *(split.test_days or [])]
    return sorted(day_names(wanted) - present)


def day_splits(frame: pd.DataFrame, days: list[str],
               features: FeatureConfig) -> dict[str, pd.DataFrame]:
    """Training and validation splits of the rows of `days`, as the main model's: stratified,
    the training rows undersampled to `max_rows_per_class`. No test split: the later days
    test, so the random test share of these days trains too (within the same cap)."""
    classes = class_labels(frame[LABEL_COLUMN], features.label_grouping)
    rows = np.flatnonzero(frame["day"].isin(day_names(days)).to_numpy())
    parts = stratified_split(classes.iloc[rows], features.validation_share,
                             features.test_share, features.seed)
    train = rows[np.sort(np.concatenate([parts["train"], parts["test"]]))]
    if features.max_rows_per_class is not None:
        train = undersample(train, classes, features.max_rows_per_class, features.seed)
    return split_frames(frame, classes, {"train": train,
                                         "validation": rows[parts["validation"]]})


def scored_frame(rows: pd.DataFrame, features: FeatureConfig) -> pd.DataFrame:
    """Cleaned features plus the class of each row, as the test split has them."""
    test = clean_features(rows, FEATURE_COLUMNS)
    test[LABEL_COLUMN] = class_labels(rows[LABEL_COLUMN], features.label_grouping).to_numpy()
    return test


def detected_share(confusion: pd.DataFrame) -> pd.Series:
    """Share of each true class's rows called an attack of any class (for BENIGN: the false
    alarm rate): an unseen attack named as another attack is still caught."""
    benign = confusion[BENIGN] if BENIGN in confusion.columns else 0
    totals = confusion.sum(axis=1).replace(0, 1)
    return 1 - benign / totals


def evaluate_by_day(frame: pd.DataFrame, split: DaySplitConfig, features: FeatureConfig,
                    params: XGBoostConfig) -> DayEvaluation | None:
    """Train on the rows of the train days (their own validation split stops it early) and
    score on every row of the test days. None, with the reason logged, when the split is
    not configured or a configured day has no rows."""
    if not split.train_days or not split.test_days:
        return None
    missing = missing_days(frame, split)
    if missing:
        logger.warning("No day-based evaluation: no rows of %s in the training data (days "
                       "are read from the file names)", ", ".join(missing))
        return None
    splits = day_splits(frame, split.train_days, features)
    trained = train_on_splits(splits, params)
    test = scored_frame(rows_of_days(frame, split.test_days), features)
    evaluation = evaluate_model(trained.bundle, test)
    per_class = evaluation.per_class.loc[sorted(set(test[LABEL_COLUMN]))].copy()
    per_class["detected"] = detected_share(evaluation.confusion).loc[per_class.index]
    per_class["in_training"] = per_class.index.isin(trained.classes)
    return DayEvaluation(list(split.train_days), list(split.test_days), len(splits["train"]),
                         len(test), evaluation.macro_f1, per_class)
