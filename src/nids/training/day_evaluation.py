"""Day-based evaluation: a second model learns earlier days and is scored on later days.

A random split puts flows of the same attack session in both training and test rows, which
flatters the scores on CICIDS2017. Here the test rows come from days the model never saw, so
the per-class recall shows what a later day's traffic meets, including attack classes absent
from the training days (their recall is 0 by construction: the model cannot name them; the
table says which classes those are). The registered model is not this one; promotion keeps
using the random test split.

It is an estimate, so it is capped to stay a small part of a run: the model learns at most
`by_day.max_rows_per_class` rows of a class, and is scored on at most `test_rows_per_class`
rows of a class of the later days, each weighted by the rows it stands for (recall of a class
is then an unbiased estimate, and precision too, the other classes' rows weighted alike).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nids.config import DaySplitConfig, FeatureConfig, XGBoostConfig
from nids.data.official import day_names
from nids.data.schema import BENIGN, LABEL_COLUMN
from nids.training.evaluate import evaluate_model
from nids.training.splits import class_labels, split_frames, stratified_split, undersample
from nids.training.train import train_on_splits

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DayEvaluation:
    """Scores of a model of `train_days` on `test_days`."""

    train_days: list[str]
    test_days: list[str]
    train_rows: int
    test_rows: int
    macro_f1: float
    scored_rows: int          # test rows scored: at most `test_rows_per_class` of a class
    test_rows_per_class: int | None
    per_class: pd.DataFrame   # recall, precision, f1, support, in_training per test class

    def metrics(self) -> dict[str, float]:
        """MLflow metrics: `day_macro_f1`, `day_unseen_classes`, `day_scored_rows`,
        `day_recall_<class>`, `day_detected_<class>`."""
        unseen = int((~self.per_class["in_training"]).sum())
        return {"day_macro_f1": self.macro_f1, "day_unseen_classes": unseen,
                "day_scored_rows": self.scored_rows,
                **{f"day_{column}_{name}": float(value)
                   for column in ("recall", "detected")
                   for name, value in self.per_class[column].items()}}


def missing_days(frame: pd.DataFrame, split: DaySplitConfig) -> list[str]:
    """The configured days without any row in `frame` (the day split is then not run)."""
    present = set(map(str, frame["day"].unique())) if "day" in frame else set()
    wanted = [*(split.train_days or []), *(split.test_days or [])]
    return sorted(day_names(wanted) - present)


def day_splits(frame: pd.DataFrame, classes: pd.Series, days: list[str],
               features: FeatureConfig, max_rows_per_class: int | None,
               ) -> dict[str, pd.DataFrame]:
    """Training and validation splits of the rows of `days` (`classes`: each row's class), as
    the main model's: stratified, the training rows undersampled to `max_rows_per_class`. No
    test split: the later days test, so the random test share of these days trains too
    (within the same cap)."""
    rows = np.flatnonzero(frame["day"].isin(day_names(days)).to_numpy())
    parts = stratified_split(classes.iloc[rows], features.validation_share,
                             features.test_share, features.seed)
    train = rows[np.sort(np.concatenate([parts["train"], parts["test"]]))]
    if max_rows_per_class is not None:
        train = undersample(train, classes, max_rows_per_class, features.seed)
    return split_frames(frame, classes, {"train": train,
                                         "validation": rows[parts["validation"]]})


def scored_frame(frame: pd.DataFrame, classes: pd.Series, days: list[str],
                 features: FeatureConfig, rows_per_class: int | None,
                 ) -> tuple[pd.DataFrame, np.ndarray, int]:
    """The rows of `days` as the test split has them (cleaned features plus the class), at
    most `rows_per_class` of a class (every row of rarer classes); the rows each stands for
    (a capped class's rows / rows kept), so that weighted counts are those of every row and
    recall, precision and F1 estimate the scores on all of them; and how many rows there are."""
    rows = np.flatnonzero(frame["day"].isin(day_names(days)).to_numpy())
    kept = rows if rows_per_class is None else undersample(rows, classes, rows_per_class,
                                                           features.seed)
    test = split_frames(frame, classes, {"test": kept})["test"]
    counts = classes.iloc[rows].value_counts()
    weights = (counts / test[LABEL_COLUMN].value_counts()).loc[test[LABEL_COLUMN]].to_numpy()
    return test, weights, len(rows)


def detected_share(confusion: pd.DataFrame) -> pd.Series:
    """Share of each true class's rows called an attack of any class (for BENIGN: the false
    alarm rate): an unseen attack named as another attack is still caught."""
    benign = confusion[BENIGN] if BENIGN in confusion.columns else 0
    totals = confusion.sum(axis=1).replace(0, 1)
    return 1 - benign / totals


@dataclass(frozen=True)
class DayRows:
    """What the day-based model reads, taken from the ingested rows: its training and
    validation splits of the train days, and the scored rows of the test days with their
    weights. Taken ahead, so that the ingested frame can go before the fits (at full scale
    these are 413,000 rows, 0.13 GB; the frame of every row is 0.89 GB)."""

    splits: dict[str, pd.DataFrame]
    test: pd.DataFrame
    weights: np.ndarray   # the rows each scored row stands for
    test_rows: int        # rows of the test days, before the cap


def day_rows(frame: pd.DataFrame, split: DaySplitConfig, features: FeatureConfig,
             ) -> DayRows | None:
    """The rows of the train days (at most `max_rows_per_class` of a class learnt) and of the
    test days (at most `test_rows_per_class` of a class scored). None, with the reason logged,
    when the split is not configured or a configured day has no rows."""
    if not split.train_days or not split.test_days:
        return None
    missing = missing_days(frame, split)
    if missing:
        logger.warning("No day-based evaluation: no rows of %s in the training data (days "
                       "are read from the file names)", ", ".join(missing))
        return None
    classes = class_labels(frame[LABEL_COLUMN], features.label_grouping)   # once for both
    splits = day_splits(frame, classes, split.train_days, features,
                        split.max_rows_per_class or features.max_rows_per_class)
    test, weights, test_rows = scored_frame(frame, classes, split.test_days, features,
                                            split.test_rows_per_class)
    return DayRows(splits, test, weights, test_rows)


def evaluate_day_rows(rows: DayRows, split: DaySplitConfig, params: XGBoostConfig,
                      ) -> DayEvaluation:
    """Train on the train days' rows (their own validation split stops it early) and score on
    the test days' rows, weighted up to their class's rows."""
    trained = train_on_splits(rows.splits, params)
    test = rows.test
    evaluation = evaluate_model(trained.bundle, test, rows.weights)
    per_class = evaluation.per_class.loc[sorted(set(test[LABEL_COLUMN]))].copy()
    per_class["detected"] = detected_share(evaluation.confusion).loc[per_class.index]
    per_class["in_training"] = per_class.index.isin(trained.classes)
    per_class["support"] = per_class["support"].round().astype(int)   # weighted: every row
    return DayEvaluation(list(split.train_days), list(split.test_days),
                         len(rows.splits["train"]), rows.test_rows, evaluation.macro_f1,
                         len(test), split.test_rows_per_class, per_class)


def evaluate_by_day(frame: pd.DataFrame, split: DaySplitConfig, features: FeatureConfig,
                    params: XGBoostConfig) -> DayEvaluation | None:
    """Train on the rows of the train days and score on the rows of the test days
    (`day_rows`, then `evaluate_day_rows`). None, with the reason logged, when the split is
    not configured or a configured day has no rows."""
    rows = day_rows(frame, split, features)
    return None if rows is None else evaluate_day_rows(rows, split, params)
