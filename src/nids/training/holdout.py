"""The champion's holdout: the test split a champion was scored on, logged with its run
(`registry.HOLDOUT_ARTIFACT`). Before a candidate may replace the champion it is scored there
too, and it must not do worse than the champion on those rows.

Rows of the holdout the candidate learnt from (its training or validation split) would
flatter it, so they are left out, matched by the hash of their cleaned features and class.
With the same data and split settings nothing is left out: the split is seeded
(`splits.stratified_split`), so the candidate's test split is the champion's holdout. With other
data (a retrain on more days, other files) the rows that moved into the candidate's training
data are left out, and how many is part of the promotion's reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from nids.data.schema import FEATURE_COLUMNS, LABEL_COLUMN
from nids.tracking.registry import ModelBundle
from nids.training.evaluate import evaluate_model


def row_hashes(frame: pd.DataFrame) -> np.ndarray:
    """One 64-bit hash per row of the cleaned features and the class."""
    keyed = frame[list(FEATURE_COLUMNS)].copy()
    keyed[LABEL_COLUMN] = frame[LABEL_COLUMN].astype(str).to_numpy(dtype=object)
    return pd.util.hash_pandas_object(keyed, index=False).to_numpy()


def unseen_rows(holdout: pd.DataFrame, seen: list[pd.DataFrame]) -> pd.DataFrame:
    """The rows of `holdout` that are in none of the `seen` frames."""
    known = np.concatenate([row_hashes(frame) for frame in seen])
    return holdout[~np.isin(row_hashes(holdout), known)].reset_index(drop=True)


@dataclass(frozen=True)
class HoldoutScores:
    """Candidate and champion on the champion's holdout, minus the candidate's own rows."""

    champion_version: str
    rows: int        # rows both were scored on
    left_out: int    # holdout rows the candidate trained on
    candidate: float
    champion: float

    def describe(self, metric: str) -> str:
        left_out = f", {self.left_out} it trained on left out" if self.left_out else ""
        return (f"on champion v{self.champion_version}'s holdout ({self.rows} rows{left_out}) "
                f"{metric} {self.candidate:.4f} vs {self.champion:.4f}")


def score_on_holdout(holdout: pd.DataFrame, candidate: ModelBundle, champion: ModelBundle,
                     seen: list[pd.DataFrame], metric: str) -> HoldoutScores | None:
    """Both models' `metric` on the holdout rows the candidate never saw; None when none."""
    unseen = unseen_rows(holdout, seen)
    if unseen.empty:
        return None
    return HoldoutScores(
        champion_version=champion.version, rows=len(unseen), left_out=len(holdout) - len(unseen),
        candidate=evaluate_model(candidate, unseen).metrics()[metric],
        champion=evaluate_model(champion, unseen).metrics()[metric],
    )
