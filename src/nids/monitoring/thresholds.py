"""Normal ranges of the monitoring statistics, calibrated from the training data.

NannyML's chunk-based thresholds: the time-ordered held-out training data (validation and test
splits, which keep the files' row order) is cut into consecutive chunks of about the monitoring
batch size (smaller when that gives fewer than MIN_CHUNKS chunks; at most MAX_CHUNKS of them,
evenly spread, at full scale), every statistic is computed per chunk, and each statistic's normal
range is its chunk mean plus or minus k standard deviations (with a small floor on the width, for
statistics that hardly vary). The attack shares use the median and the median absolute deviation
instead: training data holds attack bursts, and they are what an incident is, not part of the
normal range. The ranges are stored with the model version (`monitoring/thresholds.json`);
`config/monitoring.yaml` may override any of them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field
from scipy.stats import median_abs_deviation

from nids.data.schema import LABEL_COLUMN
from nids.monitoring.health import row_statistics, summarize_rows
from nids.monitoring.judgment_settings import RangeOverride
from nids.tracking.registry import ModelBundle, predict_probabilities
from nids.training.calibration import HealthModels
from nids.training.evaluate import Evaluation

LOW_SIDE = frozenset({"estimated_accuracy"})   # statistics that are bad when they fall
CHUNK_ROWS, MIN_CHUNKS, K_STD, MIN_MARGIN, UNCERTAIN_BELOW = 2_000, 10, 3.0, 0.02, 0.9
MAX_CHUNKS = 200   # chunks the ranges are calibrated on, at most (400,000 rows)


class Range(BaseModel):
    """The normal range of one statistic over the training chunks."""

    mean: float
    std: float
    side: Literal["low", "high"] = Field(description="Which side is abnormal.")


class Thresholds(BaseModel):
    """The normal ranges of a model version and what they were calibrated with."""

    chunk_rows: int
    chunks: int
    k: float
    min_margin: float
    uncertain_below: float
    ranges: dict[str, Range]
    champion_recall: dict[str, float] = Field(default_factory=dict)
    champion_f1: dict[str, float] = Field(default_factory=dict)

    def limit(self, statistic: str, rows: int, overrides: dict[str, RangeOverride]) -> float | None:
        """The abnormal side's limit for a batch of `rows` rows. A batch smaller than a
        chunk gets a wider range (std grows as 1/sqrt(rows)); a larger one keeps the chunk's
        range (real traffic varies more than sampling noise says)."""
        found = self.ranges.get(statistic)
        override = overrides.get(statistic)
        if found is None:
            return None
        if override is not None and getattr(override, found.side) is not None:
            return getattr(override, found.side)
        scale = math.sqrt(self.chunk_rows / rows) if 0 < rows < self.chunk_rows else 1.0
        margin = max(self.k * found.std * scale, self.min_margin)
        return found.mean - margin if found.side == "low" else found.mean + margin

    def markdown(self) -> str:
        head = (f"Normal ranges from {self.chunks} training chunks of {self.chunk_rows} rows "
                f"(mean ± {self.k:g} std; attack shares median ± {self.k:g} scaled MAD; width "
                f"at least {self.min_margin:g}):\n\n"
                "| statistic | mean | std | abnormal when |\n|---|---|---|---|\n")
        rows = [f"| {name} | {r.mean:.4f} | {r.std:.4f} | "
                f"{'<' if r.side == 'low' else '>'} "
                f"{self.limit(name, self.chunk_rows, {}):.4f} |"
                for name, r in self.ranges.items()]
        return head + "\n".join(rows) + "\n"


def is_attack_share(statistic: str) -> bool:
    return statistic == "attack_share" or statistic.startswith("share:")


def chunk_range(values: pd.Series, side: Literal["low", "high"], robust: bool) -> Range:
    """Mean and std of the chunks' values; robust: median and the MAD scaled to a normal std,
    so that the bursts among the chunks do not widen the range."""
    if robust:
        return Range(mean=float(values.median()),
                     std=float(median_abs_deviation(values, scale="normal")), side=side)
    return Range(mean=float(values.mean()), std=float(values.std(ddof=1)), side=side)


def chunk_size(rows: int, chunk_rows: int = CHUNK_ROWS, min_chunks: int = MIN_CHUNKS) -> int:
    """The batch size, or smaller so the data gives at least `min_chunks` chunks."""
    return max(1, min(chunk_rows, rows // min_chunks))


def chunk_starts(rows: int, chunk_rows: int, max_chunks: int = MAX_CHUNKS) -> np.ndarray:
    """First rows of the consecutive chunks; at most `max_chunks`, evenly spread over the
    rows when there are more (the ranges need enough chunks, not every one)."""
    starts = np.arange(0, rows - chunk_rows + 1, chunk_rows)
    if len(starts) <= max_chunks:
        return starts
    return starts[np.linspace(0, len(starts) - 1, max_chunks).round().astype(int)]


def chunk_positions(rows: int, chunk_rows: int) -> np.ndarray:
    """The row positions of the chunks (`chunk_starts`), chunk after chunk."""
    return (chunk_starts(rows, chunk_rows)[:, None] + np.arange(chunk_rows)).ravel()


def chunked_statistics(chunks: pd.DataFrame, probabilities: np.ndarray, models: HealthModels,
                       chunk_rows: int, uncertain_below: float) -> pd.DataFrame:
    """One row of statistics per `chunk_rows` consecutive rows of `chunks` (`probabilities`:
    the model's, of each row); the rows' statistics are computed in one pass, then summarized
    chunk by chunk."""
    rows = row_statistics(models, chunks, probabilities, uncertain_below)
    return pd.DataFrame([summarize_rows(rows.iloc[at:at + chunk_rows]).values(models.classes)
                         for at in range(0, len(rows), chunk_rows)])


def rows_of(frames: list[pd.DataFrame], positions: np.ndarray) -> pd.DataFrame:
    """The rows at `positions` of the frames end to end, without the label: what
    `pd.concat(frames).iloc[positions]` gives, without copying every frame whole first
    (at full scale the validation and test splits are 849,000 rows, the chunks 400,000)."""
    parts, offset = [], 0
    for frame in frames:
        inside = positions[(positions >= offset) & (positions < offset + len(frame))] - offset
        columns = [at for at, name in enumerate(frame.columns) if name != LABEL_COLUMN]
        parts.append(frame.iloc[inside, columns])
        offset += len(frame)
    return pd.concat(parts, ignore_index=True)


@dataclass(frozen=True)
class HeldOutChunks:
    """The rows of the chunks, the model's probabilities of them, and the chunk size."""

    rows: pd.DataFrame
    probabilities: np.ndarray
    size: int


def held_out_chunks(splits: dict[str, pd.DataFrame], bundle: ModelBundle,
                    test_probabilities: np.ndarray) -> HeldOutChunks:
    """Consecutive chunks of the validation then the test split, each in its time order.
    These are rows the classifier and the novelty models were not fitted on (on training rows
    they are overconfident, and their ranges would be too narrow for any new traffic). The
    model scores the validation rows among them; those of the test split come from its
    evaluation (`test_probabilities`, every test row)."""
    validation, test = splits["validation"], splits["test"]
    rows = len(validation) + len(test)
    size = chunk_size(rows)
    positions = chunk_positions(rows, size)   # ascending: the validation rows come first
    chunks = rows_of([validation, test], positions)
    in_validation = int((positions < len(validation)).sum())
    probabilities = np.concatenate([
        predict_probabilities(bundle, chunks.iloc[:in_validation]),
        test_probabilities[positions[in_validation:] - len(validation)],
    ])
    return HeldOutChunks(chunks, probabilities, size)


def fit_thresholds(splits: dict[str, pd.DataFrame], models: HealthModels, bundle: ModelBundle,
                   evaluation: Evaluation) -> Thresholds:
    """The ranges of every statistic over consecutive chunks of the held-out splits;
    `evaluation` is the model's on the test split (its probabilities of every test row,
    recall and f1 per class)."""
    chunks = held_out_chunks(splits, bundle, evaluation.probabilities)
    stats = chunked_statistics(chunks.rows, chunks.probabilities, models, chunks.size,
                               UNCERTAIN_BELOW)
    ranges = {name: chunk_range(stats[name], side="low" if name in LOW_SIDE else "high",
                                robust=is_attack_share(name)) for name in stats}
    per_class = evaluation.per_class
    return Thresholds(chunk_rows=chunks.size, chunks=len(stats), k=K_STD,
                      min_margin=MIN_MARGIN, uncertain_below=UNCERTAIN_BELOW, ranges=ranges,
                      champion_recall=per_class["recall"].astype(float).to_dict(),
                      champion_f1=per_class["f1"].astype(float).to_dict())
