"""Schema and quality checks of a loaded CICIDS2017 frame, reported as a table.

Column presence, numeric types and labels are enforced while parsing (`nids.data.ingest`); this
module measures what parsed: missing and infinite values per file and column, duplicates,
class counts, and refuses data that is unfit to train on.

Everything is read in place from the typed frame, one column at a time (no copy of the
frame): at full scale (2.8 million rows) validation takes seconds.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from nids.data.schema import FEATURE_COLUMNS, LABEL_COLUMN

logger = logging.getLogger(__name__)

FLAGS = ("missing", "infinite", "negative")
# Duplicate candidates share these first feature columns: destination port, duration, packet
# counts and lengths (few distinct flows agree on all of them).
KEY_COLUMNS = 8


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


def _column_flags(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Missing, infinite and negative flags of one column's values."""
    with np.errstate(invalid="ignore"):
        return np.isnan(values), np.isinf(values), values < 0


def flag_counts(frame: pd.DataFrame, groups: np.ndarray, n_groups: int) -> dict[str, pd.DataFrame]:
    """Per kind of flag (`FLAGS`), the flagged values of each feature column (columns) in each
    group of rows (`groups`: codes 0..n_groups-1)."""
    counts = {kind: {} for kind in FLAGS}
    for column in FEATURE_COLUMNS:
        values = frame[column].to_numpy()
        for kind, flags in zip(FLAGS, _column_flags(values), strict=True):
            counts[kind][column] = np.bincount(groups[flags], minlength=n_groups)
    return {kind: pd.DataFrame(table) for kind, table in counts.items()}


def quality_table(frame: pd.DataFrame, counts: dict[str, pd.DataFrame] | None = None,
                  ) -> pd.DataFrame:
    """Share of missing, infinite and negative values of each feature column."""
    if counts is None:
        counts = flag_counts(frame, np.zeros(len(frame), np.intp), 1)
    table = pd.DataFrame({f"{kind}_share": counts[kind].sum(axis=0) / max(len(frame), 1)
                          for kind in FLAGS})
    return table.rename_axis("column").round(6)


def _share_problems(shares: pd.DataFrame, kind: str, limit: float) -> list[str]:
    """Name the file and column wherever the share of flagged (`kind`) values is too high."""
    problems = []
    for source, row in shares.iterrows():
        for column, share in row[row > limit].items():
            problems.append(
                f"{source}: column {column!r} has {share:.0%} {kind} values "
                f"(limit {limit:.0%}); check the export, or raise "
                f"validation.max_{kind}_share in the config."
            )
    return problems


def duplicate_rows(frame: pd.DataFrame) -> int:
    """Rows equal to an earlier row in every feature (and the label). Candidates first: rows
    whose hash of the first KEY_COLUMNS repeats (pandas' `hash_pandas_object`); then only those
    are compared in full (`DataFrame.duplicated`), so hashing most columns of most rows is
    skipped."""
    labelled = LABEL_COLUMN in frame.columns
    subset = [*FEATURE_COLUMNS, LABEL_COLUMN] if labelled else list(FEATURE_COLUMNS)
    keys = pd.util.hash_pandas_object(frame[list(FEATURE_COLUMNS[:KEY_COLUMNS])], index=False)
    candidates = np.flatnonzero(keys.duplicated(keep=False).to_numpy())
    return int(frame.iloc[candidates].duplicated(subset=subset).sum())


def validate_frame(
    frame: pd.DataFrame, max_missing_share: float, max_infinite_share: float,
    duplicates: bool = True,
) -> ValidationResult:
    """Measure quality and collect every problem that makes the data unfit to train on.
    `duplicates`: count repeated rows (hashing rows: seconds on 500,000 rows; the monitoring
    flow, which keeps them anyway, skips it)."""
    if frame.empty:
        return ValidationResult(0, 0, pd.DataFrame(), pd.Series(dtype=int),
                                ["The input holds no data rows."])
    groups, files = pd.factorize(frame["source_file"])
    counts = flag_counts(frame, groups, len(files))
    rows_per_file = np.bincount(groups, minlength=len(files))[:, None]
    shares = {kind: (counts[kind] / rows_per_file).set_axis(files.astype(str)) for kind in FLAGS}
    problems = _share_problems(shares["missing"], "missing", max_missing_share)
    problems += _share_problems(shares["infinite"], "infinite", max_infinite_share)
    repeated = duplicate_rows(frame) if duplicates else None
    if repeated:
        logger.info("%d duplicate rows (%.1f%%) are kept: CICIDS2017 repeats flows",
                    repeated, 100 * repeated / len(frame))
    labelled = LABEL_COLUMN in frame.columns
    labels = frame[LABEL_COLUMN].value_counts() if labelled else pd.Series(dtype=int)
    return ValidationResult(len(frame), repeated, quality_table(frame, counts),
                            labels[labels > 0], problems)


def raise_on_problems(result: ValidationResult) -> None:
    if result.problems:
        raise ValueError("Data validation failed:\n- " + "\n- ".join(result.problems))
