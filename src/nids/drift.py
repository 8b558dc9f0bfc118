"""Drift monitoring with Evidently 0.7: settings, the report, its one reader, and saving it."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from evidently import DataDefinition, Dataset, MulticlassClassification, Report, Run
from evidently.metrics import (
    DriftedColumnsCount,
    F1ByLabel,
    RecallByLabel,
    UniqueValueCount,
    ValueDrift,
)
from pydantic import BaseModel, Field

from nids.drift_settings import DriftSettings, FeatureScale
from nids.report_index import atomic_path
from nids.schema import LABEL_COLUMN

logger = logging.getLogger(__name__)


PREDICTION_COLUMN = "prediction"


class ColumnDrift(BaseModel):
    """Evidently's drift verdict on one column."""

    column: str
    method: str
    threshold: float
    score: float
    drifted: bool


class DriftSummary(BaseModel):
    """What the monitoring flow needs from an Evidently drift snapshot."""

    columns: list[ColumnDrift]
    drifted_share: float
    prediction_drift: ColumnDrift
    macro_f1: float | None = Field(None, description="Mean F1 of the classes in the labels.")
    accuracy: float | None = None
    f1_by_label: dict[str, float] = Field(default_factory=dict)
    untestable_columns: list[str] = Field(default_factory=list)

    @property
    def drifted_columns(self) -> list[str]:
        """Names of the drifted feature columns."""
        return [c.column for c in self.columns if c.drifted]


def sample_for_drift(frame: pd.DataFrame, max_rows: int, seed: int) -> pd.DataFrame:
    """At most max_rows rows, each predicted class keeping its share (largest remainders)."""
    if len(frame) <= max_rows:
        return frame
    if PREDICTION_COLUMN not in frame.columns:
        return frame.sample(n=max_rows, random_state=seed).sort_index()
    sizes = frame[PREDICTION_COLUMN].value_counts(dropna=False)
    quotas = sizes * (max_rows / len(frame))
    counts = np.floor(quotas).astype(int)
    remainder = (quotas - counts).sort_values(ascending=False)
    counts[remainder.index[: max_rows - int(counts.sum())]] += 1
    parts = [
        frame[frame[PREDICTION_COLUMN] == value].sample(n=int(count), random_state=seed)
        for value, count in counts.items()
        if count > 0
    ]
    return pd.concat(parts).sort_index()


def report_column_name(column: str, scale: FeatureScale) -> str:
    """The name a feature carries in the report: 'log1p(x)' when compared on log scale."""
    return f"log1p({column})" if scale is FeatureScale.LOG1P else column


def _feature_name(report_name: str) -> str:
    match = re.fullmatch(r"log1p\((.+)\)", report_name)
    return match.group(1) if match else report_name


def prepare_frame(
    frame: pd.DataFrame, feature_columns: Sequence[str], scale: FeatureScale, with_labels: bool
) -> pd.DataFrame:
    """Features (+/-inf as NaN, optionally log-scaled, renamed), prediction and label."""
    values = frame[list(feature_columns)].to_numpy(dtype=np.float64)
    values = np.where(np.isinf(values), np.nan, values)  # inf hides drift in Evidently's scores
    if scale is FeatureScale.LOG1P:
        values = np.sign(values) * np.log1p(np.abs(values))
    names = [report_column_name(c, scale) for c in feature_columns]
    prepared = pd.DataFrame(values, columns=names, index=frame.index)
    extra = [PREDICTION_COLUMN, LABEL_COLUMN] if with_labels else [PREDICTION_COLUMN]
    return pd.concat([prepared, frame[extra].astype(str)], axis=1)


def has_labels(frame: pd.DataFrame, name: str) -> bool:
    """Whether a frame carries a complete label column (a partial one is an error)."""
    if LABEL_COLUMN not in frame.columns or frame[LABEL_COLUMN].isna().all():
        return False
    if frame[LABEL_COLUMN].isna().any():
        raise ValueError(
            f"{name} frame: column '{LABEL_COLUMN}' is only partly filled; "
            "drop the unlabelled rows or the whole column"
        )
    return True


def _check_columns(frame: pd.DataFrame, feature_columns: Sequence[str], name: str) -> None:
    if not feature_columns:
        raise ValueError("no feature columns to test; pass the model's feature names")
    missing = [c for c in (*feature_columns, PREDICTION_COLUMN) if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} frame lacks columns {missing}; score it with the model first")


def build_metrics(
    columns: Sequence[str], settings: DriftSettings, with_labels: bool
) -> list:
    """Evidently metrics, summary first: drifted share, prediction drift, quality, columns."""
    scale = settings.feature_scale
    tests = {report_column_name(c, scale): settings.test_for(c) for c in columns}
    metrics: list = [
        DriftedColumnsCount(
            columns=list(tests),
            drift_share=settings.drifted_share_threshold,
            method=settings.column_test.method.value,
            threshold=settings.column_test.threshold,
            per_column_method={name: test.method.value for name, test in tests.items()},
            per_column_threshold={name: test.threshold for name, test in tests.items()},
        ),
        ValueDrift(
            column=PREDICTION_COLUMN,
            method=settings.prediction_method.value,
            threshold=settings.prediction_threshold,
        ),
    ]
    if with_labels:
        # Not F1Score/Accuracy: they fail (KeyError 1) when a batch holds only two classes.
        metrics += [F1ByLabel(), RecallByLabel(), UniqueValueCount(column=LABEL_COLUMN)]
    metrics += [
        ValueDrift(column=name, method=test.method.value, threshold=test.threshold)
        for name, test in tests.items()
    ]
    return metrics


def run_drift_report(
    reference_frame: pd.DataFrame,
    current_frame: pd.DataFrame,
    feature_columns: Sequence[str],
    settings: DriftSettings,
) -> Run:
    """Run the Evidently drift report of a scored batch against the champion's reference."""
    _check_columns(reference_frame, feature_columns, "reference")
    _check_columns(current_frame, feature_columns, "current")
    with_labels = has_labels(current_frame, "current") and has_labels(reference_frame, "reference")
    unused = sorted(set(settings.column_overrides) - set(feature_columns))
    if unused:
        logger.warning("column_overrides for columns the report does not test: %s", unused)
    scale = settings.feature_scale
    reference, current = (
        prepare_frame(
            sample_for_drift(frame, settings.sample_rows, settings.sample_seed),
            feature_columns, scale, with_labels,
        )
        for frame in (reference_frame, current_frame)
    )
    testable = [
        c for c in feature_columns
        if reference[report_column_name(c, scale)].notna().any()
        and current[report_column_name(c, scale)].notna().any()
    ]
    untestable = [c for c in feature_columns if c not in testable]
    if untestable:
        logger.warning("No values to test drift on (all NaN) in columns %s", untestable)
    if not testable:
        raise ValueError(f"every feature column is empty (all NaN) in one frame: {untestable}")
    categorical = [PREDICTION_COLUMN, LABEL_COLUMN] if with_labels else [PREDICTION_COLUMN]
    definition = DataDefinition(
        numerical_columns=[report_column_name(c, scale) for c in testable],
        categorical_columns=categorical,
        classification=[
            MulticlassClassification(target=LABEL_COLUMN, prediction_labels=PREDICTION_COLUMN)
        ] if with_labels else None,
    )
    report = Report(
        build_metrics(testable, settings, with_labels),
        metadata={"untestable_columns": untestable, "feature_scale": scale.value},
        include_tests=True,
    )
    logger.info(
        "Drift report: %d reference rows, %d current rows, %d columns, labels=%s",
        len(reference), len(current), len(testable), with_labels,
    )
    return report.run(
        Dataset.from_pandas(current, data_definition=definition),
        Dataset.from_pandas(reference, data_definition=definition),
    )


def _quality(by_label: dict[str, dict[str, float]]) -> dict[str, object]:
    """Macro-F1 over the classes present in the labels (as nids.evaluate), and accuracy."""
    f1_by_label = by_label.get("F1ByLabel")
    if not f1_by_label:
        return {}
    quality: dict[str, object] = {
        "f1_by_label": f1_by_label, "macro_f1": float(np.mean(list(f1_by_label.values())))
    }
    recall, support = by_label.get("RecallByLabel"), by_label.get("support")
    if recall and support:  # correct predictions of a class = its recall x its support
        hits = sum(recall.get(label, 0.0) * count for label, count in support.items())
        quality["accuracy"] = hits / sum(support.values())
    return quality


def summarize_snapshot(snapshot: Run) -> DriftSummary:
    """Read the drift, prediction-drift and quality results out of an Evidently snapshot."""
    failed = {
        test.metric_config.metric_id
        for test in snapshot.tests_results
        if test.status.value == "FAIL"
    }
    columns: list[ColumnDrift] = []
    found: dict[str, object] = {}
    by_label: dict[str, dict[str, float]] = {}
    for metric_id, result in snapshot.metric_results.items():
        params = result.get_metric_value_location().metric.params
        kind = params["type"].rsplit(":", 1)[-1]
        if kind == "ValueDrift":
            drift = ColumnDrift(
                column=_feature_name(params["column"]), method=str(params["method"]),
                threshold=float(params["threshold"]), score=float(result.value),
                drifted=metric_id in failed,
            )
            if params["column"] == PREDICTION_COLUMN:
                found["prediction_drift"] = drift
            else:
                columns.append(drift)
        elif kind == "DriftedColumnsCount":
            found["drifted_share"] = float(result.share.value)
        elif kind in ("F1ByLabel", "RecallByLabel"):
            by_label[kind] = {str(k): float(v.value) for k, v in result.values.items()}
        elif kind == "UniqueValueCount" and params["column"] == LABEL_COLUMN:
            by_label["support"] = {str(k): float(v.value) for k, v in result.counts.items()}
    if "prediction_drift" not in found:
        raise ValueError(f"snapshot has no ValueDrift on column '{PREDICTION_COLUMN}'")
    if not columns:
        raise ValueError("snapshot has no ValueDrift on any feature column")
    found.setdefault("drifted_share", sum(c.drifted for c in columns) / len(columns))
    found.update(_quality(by_label))
    metadata = snapshot.to_snapshot_model().metadata
    return DriftSummary(
        columns=columns, untestable_columns=list(metadata.get("untestable_columns", [])), **found
    )


def save_report(snapshot: Run, html_path: Path, json_path: Path, summary: BaseModel) -> None:
    """Write the HTML report, then the JSON summary, each atomically (never half-written)."""
    with atomic_path(html_path) as tmp:
        snapshot.save_html(str(tmp))  # save_html silently writes nothing for a Path
    with atomic_path(json_path) as tmp:
        tmp.write_text(summary.model_dump_json(indent=2), encoding="utf-8")
    logger.info("Saved drift report %s and summary %s", html_path, json_path)
