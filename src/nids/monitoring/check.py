"""The per-batch monitoring check: validate, score with the champion, report drift, decide.

The monitoring flow, the drift tour (through the flow) and the benchmarks all check a batch
with `check_batch` (a file) or `check_frame` (traffic already in memory); `save_check` writes
what a check found under the reports folder.
"""

from __future__ import annotations

import logging
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from evidently import Run

from nids.config import MonitoringConfig, ValidationConfig
from nids.data import batches, claims
from nids.data.claims import Claim
from nids.data.schema import PREDICTION_COLUMN
from nids.data.validate import raise_on_problems, validate_frame
from nids.monitoring import frames
from nids.monitoring.decision import DriftDecision, decide
from nids.monitoring.drift import DriftSummary, run_drift_report, save_report, summarize_snapshot
from nids.monitoring.outcomes import AlertOutcome, BatchOutcome, RetrainOutcome
from nids.monitoring.reports import ReportEntry, remove_superseded, report_paths, write_index
from nids.monitoring.settings import DriftSettings
from nids.tracking import registry
from nids.training.features import clean_features

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Champion:
    """The champion model, and its reference sample as the drift report sees it."""

    model_name: str
    bundle: registry.ModelBundle
    reference: pd.DataFrame

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

    @property
    def decision(self) -> DriftDecision:
        return self.drift.decision

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
    features = frames.drift_features(bundle.features)
    return Champion(model_name, bundle, frames.reference_frame(sample, features))


def assess_drift(reference: pd.DataFrame, current: pd.DataFrame, features: list[str],
                 settings: DriftSettings, champion_macro_f1: float | None) -> DriftCheck:
    """Run the Evidently report of `current` against `reference`, read it, and decide."""
    snapshot = run_drift_report(reference, current, features, settings)
    summary = summarize_snapshot(snapshot)
    return DriftCheck(snapshot, summary,
                      decide(summary, settings, champion_macro_f1, rows=len(current)))


def validate_batch(frame: pd.DataFrame, name: str, validation: ValidationConfig) -> None:
    """Refuse a batch as training data is refused: too many missing or infinite values."""
    result = validate_frame(frame.assign(source_file=name), validation.max_missing_share,
                            validation.max_infinite_share)
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
    names, probability = registry.predict_classes(
        champion.bundle, clean_features(frame, champion.bundle.features)
    )
    current = frames.current_frame(frame, names, champion.features)
    drift = assess_drift(champion.reference, current, champion.features, config.drift,
                         champion.bundle.test_metric("macro_f1"))
    logger.info("%s: %d rows, verdict %s", name, len(frame), drift.decision.verdict)
    return BatchCheck(name, batches.score_frame(frame, names, probability), drift)


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
        model_version=champion.version, verdict=checked.decision.verdict,
        crossed=[c.message for c in checked.decision.crossed],
        report_html=html_path.name, summary=checked.drift.summary.model_dump(mode="json"),
        batch_sha256=batch_sha256,
    )
    save_report(checked.drift.snapshot, html_path, json_path, entry)
    remove_superseded(reports_dir, entry)
    write_index(reports_dir)
    return html_path


def outcome_of(checked: BatchCheck, champion: Champion, retrain: RetrainOutcome | None,
               alert: AlertOutcome | None = None, location: Path | None = None) -> BatchOutcome:
    """The flow's result for one checked batch."""
    return BatchOutcome(
        batch=checked.batch, model_version=champion.version, verdict=checked.decision.verdict,
        crossed=[c.message for c in checked.decision.crossed], retrain=retrain, alert=alert,
        location=str(location) if location else None,
    )
