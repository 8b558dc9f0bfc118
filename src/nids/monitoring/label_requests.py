"""Label requests: the flows of an unlabelled batch an analyst should label first.

When the champion is unsure about an unlabelled batch (its health degraded), or calls many
flows to one ordinary service benign (a port surge), retraining cannot learn anything new:
labels are needed. A request is a CSV under the requests folder (`<time>--<batch>.csv`), one
line per flow, the least confident and most novel first: the flow key (`nids.data.corpus`),
an empty `label` column for the analyst's verdict, the prediction, its probability, the novelty
score when there is one, why the flow was picked, and the flow's features.

A share of the request (`random_share`) is a uniform random sample of the other flows: flows
the champion gets wrong with confidence (a new attack it takes for benign traffic) are neither
unsure nor always novel, and only a random sample reaches them, in proportion to their number.
Uncertainty sampling mixed with random sampling, as in active learning practice.

The file filled in (or any CSV of flow_key and label) dropped into the labels folder joins the
corpus (`nids.data.label_files`).
"""

from __future__ import annotations

import logging
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from prefect.artifacts import create_markdown_artifact

from nids.config import LabelsConfig, project_path
from nids.data.corpus import FLOW_KEY_COLUMN, TIME_FORMAT, flow_keys
from nids.data.schema import FEATURE_COLUMNS, LABEL_COLUMN, PREDICTION_COLUMN
from nids.io import atomic_path

logger = logging.getLogger(__name__)

PROBABILITY, NOVELTY, PICKED = "probability", "novelty", "picked"
LEAST_CONFIDENT, RANDOM_SAMPLE = "least confident", "random sample"
SUFFIX = ".label-request.csv"


@dataclass(frozen=True)
class LabelRequest:
    """A written label request: where, for which batch, how many flows of how many."""

    path: Path
    batch: str
    flows: int
    batch_flows: int
    model_version: str | None
    least_probability: float


def priority_order(probability: np.ndarray, novelty: np.ndarray | None) -> np.ndarray:
    """Row positions, the least confident and most novel first: the mean of the two ranks
    (uncertainty alone without a novelty score); ties keep the batch's order."""
    uncertainty = pd.Series(1 - np.asarray(probability, dtype=np.float64)).rank(pct=True)
    if novelty is not None:
        uncertainty = (uncertainty + pd.Series(np.asarray(novelty, np.float64)).rank(pct=True)) / 2
    return np.argsort(-uncertainty.to_numpy(), kind="stable")


def picked_rows(order: np.ndarray, max_rows: int | None, random_share: float,
                batch: str) -> tuple[np.ndarray, np.ndarray]:
    """Row positions to ask for and why each was picked: the first of `order`, then a random
    sample (seeded by the batch's name: a rerun asks for the same flows) of the others."""
    wanted = len(order) if max_rows is None else min(max_rows, len(order))
    sampled = int(round(wanted * random_share)) if wanted < len(order) else 0
    first = order[:wanted - sampled]
    rng = np.random.default_rng(zlib.crc32(batch.encode("utf-8")))
    sample = np.sort(rng.choice(order[wanted - sampled:], size=sampled, replace=False))
    why = np.array([LEAST_CONFIDENT] * len(first) + [RANDOM_SAMPLE] * sampled, dtype=object)
    return np.concatenate([first, sample]).astype(np.int64), why


def request_frame(features: pd.DataFrame, predictions: np.ndarray, probability: np.ndarray,
                  batch: str, novelty: np.ndarray | None = None,
                  max_rows: int | None = None, random_share: float = 0.0) -> pd.DataFrame:
    """The request's lines: key, empty label, prediction, probability, novelty, why picked,
    features."""
    lines = pd.DataFrame({FLOW_KEY_COLUMN: flow_keys(batch, len(features)), LABEL_COLUMN: "",
                          PREDICTION_COLUMN: np.asarray(predictions),
                          PROBABILITY: np.asarray(probability, dtype=np.float64).round(4)})
    if novelty is not None:
        lines[NOVELTY] = np.asarray(novelty, dtype=np.float64).round(4)
    present = [c for c in FEATURE_COLUMNS if c in features.columns]
    lines = pd.concat([lines, features[present].reset_index(drop=True)], axis=1)
    rows, why = picked_rows(priority_order(probability, novelty), max_rows, random_share, batch)
    lines = lines.iloc[rows].reset_index(drop=True)
    lines.insert(lines.columns.get_loc(PROBABILITY) + 1 + (novelty is not None), PICKED, why)
    return lines


def request_path(requests_dir: Path, batch: str, created_at: datetime) -> Path:
    stamp = created_at.astimezone(UTC).strftime(TIME_FORMAT)
    return requests_dir / f"{stamp}--{Path(batch).stem}{SUFFIX}"


def write_label_request(features: pd.DataFrame, predictions: np.ndarray,
                        probability: np.ndarray, batch: str, requests_dir: Path,
                        model_version: str | None = None, novelty: np.ndarray | None = None,
                        max_rows: int | None = None, random_share: float = 0.0,
                        created_at: datetime | None = None) -> LabelRequest:
    """Write the label request of an unlabelled batch atomically; returns what was written."""
    if len(features) == 0:
        raise ValueError(f"{batch}: no flows to ask labels for (the batch is empty).")
    lines = request_frame(features, predictions, probability, batch, novelty, max_rows,
                          random_share)
    path = request_path(requests_dir, batch, created_at or datetime.now(UTC))
    with atomic_path(path) as tmp:
        lines.to_csv(tmp, index=False)
    logger.info("Label request for %s: %d of %d flows in %s", batch, len(lines), len(features),
                path)
    return LabelRequest(path, batch, len(lines), len(features), model_version,
                        float(lines[PROBABILITY].min()))


def request_for_batch(frame: pd.DataFrame, scores: pd.DataFrame, batch: str,
                      labels: LabelsConfig, model_version: str | None = None,
                      novelty: np.ndarray | None = None) -> LabelRequest:
    """The label request of a checked batch: its rows and the scores the monitoring flow
    saved for them (`batches.score_frame`), under `labels.requests_dir`."""
    return write_label_request(frame, scores[PREDICTION_COLUMN].to_numpy(),
                               scores[PROBABILITY].to_numpy(), batch,
                               project_path(labels.requests_dir), model_version, novelty,
                               labels.max_request_rows, labels.random_share)


def request_markdown(request: LabelRequest, labels_dir: Path,
                     reason: str = "it is unsure about this batch") -> str:
    """What the Prefect artifact says: why labels are asked, where the file is, how to
    answer."""
    version = f" (champion version {request.model_version})" if request.model_version else ""
    return (f"## Labels needed for {request.batch}\n\n"
            f"The champion{version} needs labels for this unlabelled batch: {reason}. A "
            f"retrain cannot learn from it without them.\n\n"
            f"- Request: [{request.path.name}]({request.path.resolve().as_uri()}) "
            f"(`{request.path}`)\n"
            f"- {request.flows} of {request.batch_flows} flows, least confident first "
            f"(lowest probability {request.least_probability:.3f}), then a random sample of "
            f"the others (column `{PICKED}`)\n\n"
            f"Fill the `{LABEL_COLUMN}` column (a CICIDS2017 label, e.g. BENIGN or DDoS; leave "
            f"flows you cannot judge empty) and drop the file into `{labels_dir}/`: the labelled "
            "flows join the corpus and start a retrain (reason: labels arrived).\n")


def publish_request(request: LabelRequest, labels_dir: Path, reason: str) -> None:
    """Show the request on the flow run as a markdown artifact linking to the CSV."""
    create_markdown_artifact(key="label-request",
                             markdown=request_markdown(request, labels_dir, reason),
                             description=f"Labels needed for {request.batch}")
