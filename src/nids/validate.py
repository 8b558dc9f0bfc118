"""Schema and quality checks of a loaded CICIDS2017 frame, reported as a table.

Column presence, numeric types and labels are enforced while parsing (`nids.ingest`); this
module measures what parsed: missing and infinite values per file and column, duplicates,
class counts, and refuses data that is unfit to train on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from nids.schema import FEATURE_COLUMNS, LABEL_COLUMN

logger = logging.getLogger(__name__)


@dataclass
class ValidationResult:
    rows: int
    duplicate_rows: int
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


def _share_problems(
    frame: pd.DataFrame, column_share: pd.Series, kind: str, limit: float, test
) -> list[str]:
    """Name the file and column for every column whose share of `kind` values is too high."""
    problems = []
    for column in column_share[column_share > limit].index:
        per_file = test(frame[column]).groupby(frame["source_file"], observed=True).mean()
        for source, share in per_file[per_file > limit].items():
            problems.append(
                f"{source}: column {column!r} has {share:.0%} {kind} values "
                f"(limit {limit:.0%}); check the export, or raise "
                f"validation.max_{kind}_share in config/training.yaml."
            )
    return problems


def validate_frame(
    frame: pd.DataFrame, max_missing_share: float, max_infinite_share: float
) -> ValidationResult:
    """Measure quality and collect every problem that makes the data unfit to train on."""
    if frame.empty:
        return ValidationResult(0, 0, pd.DataFrame(), pd.Series(dtype=int),
                                ["The input holds no data rows."])
    quality = quality_table(frame)
    problems = _share_problems(
        frame, quality["missing_share"], "missing", max_missing_share, pd.Series.isna
    )
    problems += _share_problems(
        frame, quality["infinite_share"], "infinite", max_infinite_share,
        lambda s: pd.Series(np.isinf(s.to_numpy()), index=s.index),
    )
    duplicates = int(frame.duplicated(subset=[*FEATURE_COLUMNS, LABEL_COLUMN]).sum())
    if duplicates:
        logger.info("%d duplicate rows (%.1f%%) are kept: CICIDS2017 repeats flows",
                    duplicates, 100 * duplicates / len(frame))
    labels = frame[LABEL_COLUMN].value_counts()
    return ValidationResult(len(frame), duplicates, quality, labels[labels > 0], problems)


def raise_on_problems(result: ValidationResult) -> None:
    if result.problems:
        raise ValueError("Data validation failed:\n- " + "\n- ".join(result.problems))
