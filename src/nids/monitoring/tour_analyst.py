"""The tour's analyst: answers a label request from the ground truth the tour kept aside when
its batch arrived unlabelled, and reads how well the champion then handles each class.

An analyst opens the request, fills its `label` column and drops the file into the labels
folder; the tour does the same from `scenario.keep_truth`'s file, so the labels flow that
follows is the real one (validation, corpus, retrain).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
from pydantic import BaseModel, Field

from nids.data.corpus import FLOW_KEY_COLUMN
from nids.data.schema import LABEL_COLUMN, PREDICTION_COLUMN
from nids.io import atomic_path
from nids.monitoring import label_requests
from nids.monitoring.outcomes import BatchOutcome, RetrainOutcome

logger = logging.getLogger(__name__)

LABELS_SUFFIX = ".labels.csv"


class AnsweredRequest(BaseModel):
    """A label request answered: the labels file written, its flows per label, and what the
    labels flow did with it."""

    request: str
    labels_file: str
    labelled: dict[str, int] = Field(description="Flows given each label.")
    retrain: RetrainOutcome | None = Field(None, description="The labels flow's retrain.")


class TourOutcome(BaseModel):
    """What the tour did: each batch's outcome, the label requests it answered, and the
    recall of each class in each batch by the champion that scored it (by batch name; for an
    unlabelled batch, against the ground truth the tour kept aside)."""

    batches: list[BatchOutcome] = Field(default_factory=list)
    answered: list[AnsweredRequest] = Field(default_factory=list)
    recall: dict[str, dict[str, float]] = Field(default_factory=dict)


def answer_request(request: Path, truth: Path, labels_dir: Path) -> AnsweredRequest:
    """Fill the request's label column from the kept ground truth (by flow key) and write it
    into the labels folder, atomically (the labels flow never sees half a file)."""
    answers = pd.read_csv(request, dtype=str, keep_default_na=False)
    known = pd.read_csv(truth, dtype=str, keep_default_na=False).set_index(FLOW_KEY_COLUMN)
    answers[LABEL_COLUMN] = answers[FLOW_KEY_COLUMN].map(known[LABEL_COLUMN]).fillna("")
    stem = request.name.removesuffix(label_requests.SUFFIX).removesuffix(".csv")
    path = labels_dir / f"{stem}{LABELS_SUFFIX}"
    with atomic_path(path) as tmp:
        answers.to_csv(tmp, index=False)
    counts = answers.loc[answers[LABEL_COLUMN] != "", LABEL_COLUMN].value_counts()
    logger.info("Answered %s: %d flows labelled in %s", request.name, int(counts.sum()), path)
    return AnsweredRequest(request=str(request), labels_file=str(path),
                           labelled={str(k): int(v) for k, v in counts.items()})


def class_recall(predictions: Path, truth: Path | None = None) -> dict[str, float]:
    """Recall of each class in a batch's saved scores (`batches.save_predictions`): against
    its labels, or for a batch that arrived without them, against the kept ground truth
    (`truth`, in the batch's row order); empty when there is neither."""
    scores = pd.read_parquet(predictions)
    if LABEL_COLUMN not in scores.columns and truth is not None:
        known = pd.read_csv(truth, dtype=str, keep_default_na=False)
        scores[LABEL_COLUMN] = known[LABEL_COLUMN].to_numpy()
    if LABEL_COLUMN not in scores.columns or scores.empty:
        return {}
    hits = scores[PREDICTION_COLUMN].astype(str) == scores[LABEL_COLUMN].astype(str)
    recall = hits.groupby(scores[LABEL_COLUMN].astype(str)).mean()
    return {str(name): round(float(value), 4) for name, value in recall.items()}
