"""Comparing a candidate with the champion on rows neither learnt from, matched by the hash of
their cleaned features and class (`row_hashes`). Each registered run logs its test split
(`registry.HOLDOUT_ARTIFACT`) and the hashes of its training and validation rows
(`registry.TRAINED_ROWS_ARTIFACT`).

The candidate's test split: rows the champion learnt from would flatter the champion (a retrain
on raw data plus a grown corpus splits anew, so many of its test rows were the champion's
training rows), so both are scored on the rest (`score_test_split`). A champion registered
before its training rows were logged cannot have them left out (`left_out` None).

The champion's holdout, its logged test split: rows of it the candidate learnt from would
flatter the candidate, so they are left out (`score_on_holdout`).

With the same data and split settings nothing is left out either way: the split is seeded
(`splits.stratified_split`), so the candidate's test split is the champion's holdout. With other
data (a retrain on more days, other files) how many rows were left out is part of the
promotion's reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from nids.data.schema import FEATURE_COLUMNS, LABEL_COLUMN
from nids.tracking.registry import ModelBundle
from nids.training.evaluate import Evaluation, evaluate_model, evaluate_probabilities


@dataclass(frozen=True)
class ComparedMetric:
    """The promotion metric as the comparisons with the champion compute it. Macro-F1 counts
    the classes with at least `min_class_rows` rows among the rows compared: a class of one or
    two flows there moves macro-F1 by up to 1/classes on a single flow, noise and not evidence
    (as monitoring's `min_support` makes such classes shown but never decisive)."""

    name: str
    min_class_rows: int = 1

    def restricted(self) -> bool:
        return self.name == "macro_f1" and self.min_class_rows > 1

    def __str__(self) -> str:
        return (f"{self.name} (classes with {self.min_class_rows}+ rows)" if self.restricted()
                else self.name)

    def score(self, bundle: ModelBundle, rows: pd.DataFrame) -> float:
        """The metric of `bundle` on `rows` (over every class when none has enough rows)."""
        return self.of(evaluate_model(bundle, rows))

    def of(self, evaluation: Evaluation) -> float:
        """The metric of an evaluation (over every class when none has enough rows)."""
        per_class = evaluation.per_class
        decisive = per_class[per_class["support"] >= self.min_class_rows]
        if not self.restricted() or decisive.empty:
            return evaluation.metrics()[self.name]
        return float(decisive["f1"].mean())


HASH_CHUNK_ROWS = 100_000   # rows whose features are copied at once to hash them


def row_hashes(frame: pd.DataFrame) -> np.ndarray:
    """One 64-bit hash per row of the cleaned features and the class, HASH_CHUNK_ROWS rows
    at a time: hashing copies the rows' features (0.35 GB for the 566,147 full-scale test
    rows at once), and a row's hash does not depend on the rows hashed with it."""
    chunks = [_hashes(frame.iloc[start:start + HASH_CHUNK_ROWS])
              for start in range(0, len(frame), HASH_CHUNK_ROWS)]
    return np.concatenate(chunks) if chunks else np.empty(0, dtype=np.uint64)


def _hashes(rows: pd.DataFrame) -> np.ndarray:
    keyed = rows[list(FEATURE_COLUMNS)].copy()
    keyed[LABEL_COLUMN] = rows[LABEL_COLUMN].astype(str).to_numpy(dtype=object)
    return pd.util.hash_pandas_object(keyed, index=False).to_numpy()


def learnt_rows(splits: dict[str, pd.DataFrame]) -> np.ndarray:
    """The hashes of the rows a model learnt from: its training and validation splits."""
    return np.concatenate([row_hashes(splits[name]) for name in ("train", "validation")])


def not_in(frame: pd.DataFrame, known: np.ndarray) -> np.ndarray:
    """Whether each row's `row_hashes` is not among `known`."""
    return ~np.isin(row_hashes(frame), known)


def rows_not_in(frame: pd.DataFrame, known: np.ndarray) -> pd.DataFrame:
    """The rows of `frame` whose `row_hashes` are not among `known`."""
    return rows_where(frame, not_in(frame, known))


def rows_where(frame: pd.DataFrame, keep: np.ndarray) -> pd.DataFrame:
    """The rows of `frame` where `keep` is True, indexed from 0; when that is every row (a
    retrain on the same data: nothing to leave out), the same rows without a copy."""
    if keep.all():
        return frame.reset_index(drop=True)
    return frame[keep].reset_index(drop=True)


def unseen_rows(holdout: pd.DataFrame, seen: list[pd.DataFrame]) -> pd.DataFrame:
    """The rows of `holdout` that are in none of the `seen` frames."""
    return rows_not_in(holdout, np.concatenate([row_hashes(frame) for frame in seen]))


@dataclass(frozen=True)
class HoldoutScores:
    """Candidate and champion on the champion's holdout, minus the candidate's own rows."""

    champion_version: str
    rows: int        # rows both were scored on
    left_out: int    # holdout rows the candidate trained on
    candidate: float
    champion: float

    def describe(self, metric: ComparedMetric | str) -> str:
        left_out = f", {self.left_out} it trained on left out" if self.left_out else ""
        return (f"on champion v{self.champion_version}'s holdout ({self.rows} rows{left_out}) "
                f"{metric} {self.candidate:.4f} vs {self.champion:.4f}")


def score_on_holdout(holdout: pd.DataFrame, candidate: ModelBundle, champion: ModelBundle,
                     seen: list[pd.DataFrame], metric: ComparedMetric) -> HoldoutScores | None:
    """Both models' `metric` on the holdout rows the candidate never saw; None when none."""
    unseen = unseen_rows(holdout, seen)
    if unseen.empty:
        return None
    return HoldoutScores(
        champion_version=champion.version, rows=len(unseen), left_out=len(holdout) - len(unseen),
        candidate=metric.score(candidate, unseen), champion=metric.score(champion, unseen),
    )


@dataclass(frozen=True)
class SplitScores:
    """Candidate and champion on the candidate's test split, minus the champion's own rows;
    the scores are None when the champion learnt from every row of it."""

    champion_version: str
    rows: int               # rows both were scored on
    left_out: int | None    # test rows the champion learnt from; None: it logged none
    candidate: float | None
    champion: float | None

    def where(self) -> str:
        """Which rows the scores are on."""
        version = f"champion v{self.champion_version}"
        if self.left_out is None:
            return (f"on its test split ({self.rows} rows; {version} logged no training rows, "
                    "so the comparison could not leave them out)")
        left_out = f", {self.left_out} {version} learnt from left out" if self.left_out else ""
        return f"on its test split ({self.rows} rows{left_out})"


def score_test_split(test: pd.DataFrame, trained_rows: np.ndarray | None,
                     candidate: ModelBundle, candidate_probabilities: np.ndarray,
                     champion: ModelBundle, metric: ComparedMetric) -> SplitScores:
    """Both models' `metric` on the test rows whose hashes are not in `trained_rows` (all of
    them when it is None). The candidate's come from its probabilities of the whole split
    (`candidate_probabilities`, from its evaluation): only the champion scores the rows."""
    keep = (np.ones(len(test), dtype=bool) if trained_rows is None
            else not_in(test, trained_rows))
    left_out = None if trained_rows is None else int((~keep).sum())
    if not keep.any():
        return SplitScores(champion.version, 0, left_out, None, None)
    unseen = rows_where(test, keep)
    candidate_score = metric.of(evaluate_probabilities(candidate, unseen[LABEL_COLUMN],
                                                       candidate_probabilities[keep]))
    return SplitScores(
        champion_version=champion.version, rows=len(unseen), left_out=left_out,
        candidate=candidate_score, champion=metric.score(champion, unseen),
    )
