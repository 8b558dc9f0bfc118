"""Schema and quality checks of a loaded CICIDS2017 frame, reported as a table.

Column presence, numeric types and labels are enforced while parsing (`nids.data.ingest`); this
module measures what parsed: missing and infinite values per file and column, duplicates,
class counts, and refuses data that is unfit to train on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from nids.data.schema import FEATURE_COLUMNS, LABEL_COLUMN

logger = logging.getLogger(__name__)


@dataclass
class ValidationResult:
    rows: int
    duplicate_rows: int | None     # None: not counted (monitoring batches)
    quality: pd.DataFrame          # one row per feature column
    label_counts: pd.Series
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def quality_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Share of missing, infinite and negative values of each feature column."""
    values = frame[list(FEATURE_COLUMNS)].to_numpy(dtype=np.float32, copy=False)
    with np.errstate(invalid="ignore"):
        table = pd.DataFrame(
            {
                "missing_share": np.isnan(values).mean(axis=0),
                "infinite_share": np.isinf(values).mean(axis=0),
                "negative_share": (values < 0).mean(axis=0),
            },
            index=pd.Index(FEATURE_COLUMNS, name="column"),
        )
    return table.round(6)


def _share_problems(frame: pd.DataFrame, flags: np.ndarray, kind: str, limit: float) -> list[str]:
    """Name the file and column wherever the share of flagged (`kind`) values is too high."""
    per_file = pd.DataFrame(flags, columns=list(FEATURE_COLUMNS)).groupby(
        frame["source_file"].to_numpy()
    ).mean()
    problems = []
    for source, shares in per_file.iterrows():
        for column, share in shares[shares > limit].items():
            problems.append(
                f"{source}: column {column!r} has {share:.0%} {kind} values "
                f"(limit {limit:.0%}); check the export, or raise "
                f"validation.max_{kind}_share in the config."
            )
    return problems


def count_duplicates(frame: pd.DataFrame) -> int:
    """Rows that repeat an earlier row (features and label), logged: they are kept."""
    labelled = LABEL_COLUMN in frame.columns
    subset = [*FEATURE_COLUMNS, LABEL_COLUMN] if labelled else list(FEATURE_COLUMNS)
    duplicates = int(frame.duplicated(subset=subset).sum())
    if duplicates:
        logger.info("%d duplicate rows (%.1f%%) are kept: CICIDS2017 repeats flows",
                    duplicates, 100 * duplicates / len(frame))
    return duplicates


def validate_frame(
    frame: pd.DataFrame, max_missing_share: float, max_infinite_share: float,
    duplicates: bool = True,
) -> ValidationResult:
    """Measure quality and collect every problem that makes the data unfit to train on.
    `duplicates`: count repeated rows (hashing every row: seconds on 500,000 rows; the
    monitoring flow, which keeps them anyway, skips it)."""
    if frame.empty:
        return ValidationResult(0, 0, pd.DataFrame(), pd.Series(dtype=int),
                                ["The input holds no data rows."])
    quality = quality_table(frame)
    values = frame[list(FEATURE_COLUMNS)].to_numpy(dtype=np.float32, copy=False)
    problems = _share_problems(frame, np.isnan(values), "missing", max_missing_share)
    problems += _share_problems(frame, np.isinf(values), "infinite", max_infinite_share)
    labelled = LABEL_COLUMN in frame.columns
    labels = frame[LABEL_COLUMN].value_counts() if labelled else pd.Series(dtype=int)
    return ValidationResult(len(frame), count_duplicates(frame) if duplicates else None,
                            quality, labels[labels > 0], problems)


def raise_on_problems(result: ValidationResult) -> None:
    if result.problems:
        raise ValueError("Data validation failed:\n- " + "\n- ".join(result.problems))
