"""The per-batch monitoring check: validate, score with the champion, report drift, decide.

The monitoring flow, the drift tour (through the flow) and the benchmarks all check a batch
with `check_batch` (a file) or `check_frame` (traffic already in memory); `save_check` writes
what a check found under the reports folder.
"""

from __future__ import annotations

import contextvars
import logging
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from evidently import Run

from nids.config import MonitoringConfig, ValidationConfig
from nids.data import batches, claims
from nids.data.claims import Claim
from nids.data.schema import LABEL_COLUMN, PREDICTION_COLUMN
from nids.data.validate import raise_on_problems, validate_frame
from nids.monitoring import frames
from nids.monitoring.decision import DriftDecision, decide
from nids.monitoring.drift import DriftSummary, run_drift_report, save_report, summarize_snapshot
from nids.monitoring.health import BatchStatistics
from nids.monitoring.judgments import (
    Judgments,
    judge_batch,
    judgment_fields,
    sampled_statistics,
)
from nids.monitoring.reports import ReportEntry, remove_superseded, report_paths, write_index
from nids.monitoring.settings import DriftSettings
from nids.monitoring.thresholds import Thresholds
from nids.tracking import registry
from nids.training.calibration import HealthModels
from nids.training.features import clean_features
from nids.training.monitoring import MonitoringArtifacts, download_monitoring

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Champion:
    """The champion model, and its reference sample as the drift report sees it."""

    model_name: str
    bundle: registry.ModelBundle
    reference: pd.DataFrame
    health_models: HealthModels | None = None   # None: trained before they were logged
    thresholds: Thresholds | None = None

    @classmethod
    def prepared(cls, model_name: str, bundle: registry.ModelBundle,
                 monitoring: MonitoringArtifacts) -> Champion:
        """A model not read from the registry, with what the training flow prepares for it
        (`prepare_monitoring`): benchmarks and tests judge batches with it."""
        return cls(model_name, bundle, frames.reference_frame(
            monitoring.reference, frames.drift_features(bundle.features)), monitoring.models,
            monitoring.thresholds)

    @property
    def version(self) -> str:
        return self.bundle.version

    @property
    def features(self) -> list[str]:
        """The model's features that the drift report tests, in canonical order."""
        return frames.drift_features(self.bundle.features)


@dataclass(frozen=True)
class DriftCheck:
    """The Evidently report of a scored batch, what it says, and the decision on it."""

    snapshot: Run
    summary: DriftSummary
    decision: DriftDecision


@dataclass(frozen=True)
class BatchCheck:
    """A checked batch: its scores (saved next to it) and its drift check."""

    batch: str
    scores: pd.DataFrame
    drift: DriftCheck
    judgments: Judgments | None = None   # None for a champion without health models

    @property
    def decision(self) -> DriftDecision:
        return self.drift.decision

    @property
    def retrain(self) -> bool:
        """Retrain on degraded health (the drift decision for older champions)."""
        return self.judgments.retrain if self.judgments else self.decision.retrain

    @property
    def verdict(self) -> str:
        """'retrain', 'drift', 'ok' or 'too small': the action, whatever judgment asked for it."""
        if self.retrain:
            return "retrain"
        if self.decision.verdict == "too small":
            return "too small"
        return "drift" if self.decision.drift_detected else "ok"

    @property
    def predicted(self) -> dict[str, int]:
        """Rows per predicted class, most frequent first."""
        return self.scores[PREDICTION_COLUMN].value_counts().to_dict()


def load_champion(model_name: str) -> Champion:
    """The model with the 'champion' alias and the reference sample it was trained on."""
    registry.use_tracking_store()
    bundle = registry.load_bundle(model_name)
    if bundle is None:
        raise ValueError(f"No model {model_name!r} has the 'champion' alias in "
                         f"{registry.tracking_uri()}; run the training flow first (make run).")
    with tempfile.TemporaryDirectory() as folder:
        sample = registry.download_reference(bundle.run_id, Path(folder))
        monitoring = download_monitoring(bundle.run_id, Path(folder))
    features = frames.drift_features(bundle.features)
    return Champion(model_name, bundle, frames.reference_frame(sample, features),
                    *(monitoring or (None, None)))


def assess_drift(reference: pd.DataFrame, current: pd.DataFrame, features: list[str],
                 settings: DriftSettings, champion_macro_f1: float | None,
                 rows: int | None = None) -> DriftCheck:
    """Run the Evidently report of `current` against `reference`, read it, and decide (on a
    batch of `rows` rows: `current` may be its sample; default: len(current))."""
    snapshot = run_drift_report(reference, current, features, settings)
    summary = summarize_snapshot(snapshot)
    return DriftCheck(snapshot, summary, decide(summary, settings, champion_macro_f1,
                                                rows=len(current) if rows is None else rows))


def validate_batch(frame: pd.DataFrame, name: str, validation: ValidationConfig) -> None:
    """Refuse a batch as training data is refused: too many missing or infinite values."""
    result = validate_frame(frame.assign(source_file=name), validation.max_missing_share,
                            validation.max_infinite_share, duplicates=False)
    raise_on_problems(result)


@dataclass(frozen=True)
class Reading:
    """A claimed batch as read: its rows, or why it is refused, or that it is still changing."""

    claim: Claim
    frame: pd.DataFrame | None = None
    problem: str | None = None  # what is wrong with the batch: it is rejected
    changing: bool = False      # the file changed while it was read: a writer is still at it


def read_claimed(claim: Claim, validation: ValidationConfig) -> Reading:
    """Load and validate a claimed batch like training data, telling a bad batch (rejected)
    from one still being written (put back) by whether the file changed since its claim."""
    try:
        frame = batches.load_batch(claim.path)
        validate_batch(frame, claim.name, validation)
    except (ValueError, zipfile.BadZipFile) as error:
        if not claims.unchanged(claim):
            return Reading(claim, changing=True)
        return Reading(claim, problem=str(error))
    if not claims.unchanged(claim):
        return Reading(claim, changing=True)
    return Reading(claim, frame=frame)


def check_frame(frame: pd.DataFrame, name: str, champion: Champion,
                config: MonitoringConfig) -> BatchCheck:
    """Validate a loaded batch, score it with the champion, report its drift and decide."""
    validate_batch(frame, name, config.validation)
    return check_validated(frame, name, champion, config)


def check_validated(frame: pd.DataFrame, name: str, champion: Champion,
                    config: MonitoringConfig) -> BatchCheck:
    """`check_frame` of a batch already validated (`read_claimed`): score it once, report its
    drift and decide. The drift report (Python, mostly one core) runs in a thread while
    XGBoost scores the whole batch and the label-free statistics are computed (native code):
    its rows are drawn and scored first (`drift_sample`)."""
    features = clean_features(frame, champion.bundle.features)
    current = drift_sample(frame, features, champion, config.drift)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="drift-report") as pool:
        reported = pool.submit(contextvars.copy_context().run,   # its logs join the run's
                               assess_drift, champion.reference, current, champion.features,
                               config.drift, champion.bundle.test_metric("macro_f1"), len(frame))
        probabilities = registry.predict_probabilities(champion.bundle, features)
        names, probability = registry.best_classes(champion.bundle, probabilities)
        statistics = label_free_statistics(champion, features, probabilities, config)
        drift = reported.result()
    judged = judge(champion, statistics, frame, drift.decision, config, names)
    checked = BatchCheck(name, batches.score_frame(frame, names, probability), drift, judged)
    logger.info("%s: %d rows, verdict %s", name, len(frame), checked.verdict)
    return checked


def drift_sample(frame: pd.DataFrame, features: pd.DataFrame, champion: Champion,
                 settings: DriftSettings) -> pd.DataFrame:
    """The batch as the drift report sees it: at most `sample_rows` rows drawn uniformly
    (before the batch is scored, so the report need not wait for it), scored by the champion.
    (The reference's sample is stratified by prediction: `frames.sample_for_drift`.)"""
    rows = frames.sample_for_drift(frame, settings.sample_rows, settings.sample_seed)
    names, _ = registry.predict_classes(champion.bundle, features.loc[rows.index])
    return frames.current_frame(rows, names, champion.features)


def label_free_statistics(champion: Champion, features: pd.DataFrame,
                          probabilities: np.ndarray,
                          config: MonitoringConfig) -> BatchStatistics | None:
    """The batch's calibrated-confidence and novelty statistics (None: no health models);
    `probabilities`: the champion's, of each row of `features`."""
    if champion.health_models is None or champion.thresholds is None:
        return None
    return sampled_statistics(champion.health_models, features, probabilities,
                              champion.thresholds.uncertain_below, config.judgments.sample_rows)


def judge(champion: Champion, statistics: BatchStatistics | None, frame: pd.DataFrame,
          drift: DriftDecision, config: MonitoringConfig,
          predicted: np.ndarray) -> Judgments | None:
    """The health, incident and drift verdicts, when the champion has health models."""
    if statistics is None:
        return None
    labels = frame[LABEL_COLUMN].astype(str) if frames.has_labels(frame, "batch") else None
    return judge_batch(statistics, champion.health_models.classes, champion.thresholds, labels,
                       np.asarray(predicted, dtype=object), drift, config.judgments)


def check_batch(path: Path, champion: Champion, config: MonitoringConfig) -> BatchCheck:
    """Load a batch file like training data, then `check_frame` it."""
    return check_frame(batches.load_batch(path), path.name, champion, config)


def save_check(checked: BatchCheck, champion: Champion, reports_dir: Path,
               created_at: datetime | None = None, batch_sha256: str | None = None) -> Path:
    """Save the HTML report and its JSON entry under reports_dir/drift/, replacing an earlier
    report of the same batch (same SHA-256), and rebuild the index; returns the HTML path."""
    created_at = created_at or datetime.now(UTC)
    html_path, json_path = report_paths(reports_dir, created_at, Path(checked.batch).stem)
    entry = ReportEntry(
        created_at=created_at, batch=checked.batch, model_name=champion.model_name,
        model_version=champion.version, verdict=checked.verdict,
        crossed=[c.message for c in checked.decision.crossed],
        report_html=html_path.name, summary=checked.drift.summary.model_dump(mode="json"),
        batch_sha256=batch_sha256, **judgment_fields(checked.judgments),
    )
    save_report(checked.drift.snapshot, html_path, json_path, entry)
    remove_superseded(reports_dir, entry)
    write_index(reports_dir)
    return html_path
