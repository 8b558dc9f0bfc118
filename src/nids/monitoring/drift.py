"""Drift monitoring with Evidently 0.7: settings, the report, its one reader, and saving it."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from evidently import DataDefinition, Dataset, MulticlassClassification, Report, Run
from evidently.metrics import (
    F1ByLabel,
    RecallByLabel,
    UniqueValueCount,
    ValueDrift,
)
from pydantic import BaseModel, Field
from threadpoolctl import threadpool_limits

from nids.data.schema import LABEL_COLUMN, PREDICTION_COLUMN
from nids.io import atomic_path
from nids.monitoring.frames import (
    OUTCOME_COLUMN,
    OUTCOME_SEPARATOR,
    check_columns,
    feature_name,
    has_labels,
    prepare_frame,
    report_column_name,
    sample_for_drift,
    unseen_labels,
)
from nids.monitoring.report_html import write_compact_html
from nids.monitoring.settings import DriftSettings, FeatureScale

logger = logging.getLogger(__name__)


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


def build_metrics(
    columns: Sequence[str], settings: DriftSettings, with_labels: bool, per_class: bool = True
) -> list:
    """Evidently metrics, summary first: prediction drift, quality, then each column's drift.
    The drifted share is counted from the columns' drift tests (`summarize_snapshot`), not by
    Evidently's DriftedColumnsCount: it tests every column a second time, a third of the
    report's time on 60 columns."""
    scale = settings.feature_scale
    tests = {report_column_name(c, scale): settings.test_for(c) for c in columns}
    metrics: list = [
        ValueDrift(
            column=PREDICTION_COLUMN,
            method=settings.prediction_method.value,
            threshold=settings.prediction_threshold,
        ),
    ]
    if with_labels:
        # Quality is read from the outcome counts. Evidently's F1Score/Accuracy fail (KeyError 1)
        # on a batch of exactly two classes, its by-label metrics on a class the reference lacks.
        metrics.append(UniqueValueCount(column=OUTCOME_COLUMN))
        if per_class:
            metrics += [F1ByLabel(), RecallByLabel()]
    metrics += [
        ValueDrift(column=name, method=test.method.value, threshold=test.threshold)
        for name, test in tests.items()
    ]
    return metrics


def testable_columns(reference: pd.DataFrame, current: pd.DataFrame,
                     feature_columns: Sequence[str], scale: FeatureScale) -> list[str]:
    """The feature columns with values in both prepared frames (all-NaN ones are logged)."""
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
    return testable


def data_definition(testable: Sequence[str], scale: FeatureScale,
                    with_labels: bool) -> DataDefinition:
    """Evidently's view of the prepared frames: numerical features, categorical outcomes."""
    categorical = [PREDICTION_COLUMN, LABEL_COLUMN, OUTCOME_COLUMN] if with_labels else [
        PREDICTION_COLUMN]
    return DataDefinition(
        numerical_columns=[report_column_name(c, scale) for c in testable],
        categorical_columns=categorical,
        classification=[
            MulticlassClassification(target=LABEL_COLUMN, prediction_labels=PREDICTION_COLUMN)
        ] if with_labels else None,
    )


def run_drift_report(reference_frame: pd.DataFrame, current_frame: pd.DataFrame,
                     feature_columns: Sequence[str], settings: DriftSettings) -> Run:
    """Run the Evidently drift report of a scored batch against the champion's reference."""
    check_columns(reference_frame, feature_columns, "reference")
    check_columns(current_frame, feature_columns, "current")
    with_labels = has_labels(current_frame, "current") and has_labels(reference_frame, "reference")
    unused = sorted(set(settings.column_overrides) - set(feature_columns))
    if unused:
        logger.warning("column_overrides for columns the report does not test: %s", unused)
    scale = settings.feature_scale
    reference, current = (
        sample_for_drift(frame, settings.sample_rows, settings.sample_seed)
        for frame in (reference_frame, current_frame)
    )
    unseen = unseen_labels(reference, current) if with_labels else []
    if unseen:
        logger.warning("The batch holds classes %s that the reference never holds: quality "
                       "from the outcome counts only, no per-class widgets", unseen)
    reference, current = (
        prepare_frame(frame, feature_columns, scale, with_labels) for frame in (reference, current)
    )
    testable = testable_columns(reference, current, feature_columns, scale)
    report = Report(
        build_metrics(testable, settings, with_labels, per_class=not unseen),
        metadata={"untestable_columns": [c for c in feature_columns if c not in testable],
                  "feature_scale": scale.value, "classes_missing_from_reference": unseen},
        include_tests=True,
    )
    logger.info(
        "Drift report: %d reference rows, %d current rows, %d columns, labels=%s",
        len(reference), len(current), len(testable), with_labels,
    )
    definition = data_definition(testable, scale, with_labels)
    # One BLAS thread: the Wasserstein test's dot product per column gains nothing from more,
    # and OpenBLAS's idle threads spin between the calls, burning a second core (13.4 s of CPU
    # for a 7.2 s report of 60 columns, 7.2 s on one thread) that the batch's scoring beside
    # the report needs.
    with threadpool_limits(limits=1, user_api="blas"):
        return report.run(
            Dataset.from_pandas(current, data_definition=definition),
            Dataset.from_pandas(reference, data_definition=definition),
        )


def quality_from_outcomes(outcomes: dict[str, float]) -> dict[str, object]:
    """F1 per class present in the labels, their mean (as nids.training.evaluate) and accuracy, from
    counts of 'true → predicted' pairs."""
    pairs = [(*key.split(OUTCOME_SEPARATOR, 1), n) for key, n in outcomes.items() if n > 0]
    if not pairs:
        return {}
    f1_by_label = {}
    for label in sorted({true for true, _, _ in pairs}):
        hits = sum(n for true, predicted, n in pairs if true == predicted == label)
        misses = sum(n for true, predicted, n in pairs if true == label != predicted)
        false_alarms = sum(n for true, predicted, n in pairs if predicted == label != true)
        f1_by_label[label] = 2 * hits / (2 * hits + misses + false_alarms)
    correct = sum(n for true, predicted, n in pairs if true == predicted)
    return {
        "f1_by_label": f1_by_label,
        "macro_f1": float(np.mean(list(f1_by_label.values()))),
        "accuracy": correct / sum(n for _, _, n in pairs),
    }


def summarize_snapshot(snapshot: Run) -> DriftSummary:
    """Read the drift, prediction-drift and quality results out of an Evidently snapshot."""
    failed = {
        test.metric_config.metric_id
        for test in snapshot.tests_results
        if test.status.value == "FAIL"
    }
    columns: list[ColumnDrift] = []
    found: dict[str, object] = {}
    outcomes: dict[str, float] = {}
    for metric_id, result in snapshot.metric_results.items():
        params = result.get_metric_value_location().metric.params
        kind = params["type"].rsplit(":", 1)[-1]
        if kind == "ValueDrift":
            drift = ColumnDrift(
                column=feature_name(params["column"]), method=str(params["method"]),
                threshold=float(params["threshold"]), score=float(result.value),
                drifted=metric_id in failed,
            )
            if params["column"] == PREDICTION_COLUMN:
                found["prediction_drift"] = drift
            else:
                columns.append(drift)
        elif kind == "UniqueValueCount" and params["column"] == OUTCOME_COLUMN:
            outcomes = {str(k): float(v.value) for k, v in result.counts.items()}
    if "prediction_drift" not in found:
        raise ValueError(f"snapshot has no ValueDrift on column '{PREDICTION_COLUMN}'")
    if not columns:
        raise ValueError("snapshot has no ValueDrift on any feature column")
    found["drifted_share"] = sum(c.drifted for c in columns) / len(columns)
    found.update(quality_from_outcomes(outcomes))
    metadata = snapshot.to_snapshot_model().metadata
    return DriftSummary(
        columns=columns, untestable_columns=list(metadata.get("untestable_columns", [])), **found
    )


def save_report(snapshot: Run, html_path: Path, json_path: Path, summary: BaseModel) -> None:
    """Write the HTML report (loading Evidently's library from js/ beside it), then the JSON
    summary, each atomically (never half-written)."""
    with atomic_path(html_path) as tmp:
        write_compact_html(snapshot, tmp)
    with atomic_path(json_path) as tmp:
        tmp.write_text(summary.model_dump_json(indent=2), encoding="utf-8")
    logger.info("Saved drift report %s and summary %s", html_path, json_path)
