"""The Evidently workspace of the monitoring flow: one project per registered model, one
snapshot per batch at the batch's time, the dashboard kept in sync, old history pruned.

A batch's time is a date and time in its file name (e.g. `2026-11-22T183000Z_capture.csv`,
read as UTC), else the file's modification time, i.e. when it arrived: replaying a backlog
keeps each batch at its own place on the dashboard, not at the hour of the replay.

Files appear in the workspace complete, by one rename from beside it: `evidently ui` watches
the folder and loads a file when it is created, and a half-written snapshot would stop the UI
from starting.

A snapshot keeps every metric result (so any of them can be plotted) but not the per-feature
distribution plots, which stay in the batch's HTML report (named in the snapshot's metadata):
the local UI holds every snapshot of a project in memory, and with them a real 78-column
snapshot weighs 5.5 MB on disk, about 30 MB in the UI and a second to load (120 of them:
3.6 GB and two minutes before the dashboard's first answer). Without them: 0.2-0.3 MB.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import evidently
from evidently import Run
from evidently.core.serialization import SnapshotModel
from evidently.legacy.utils import NumpyEncoder
from evidently.sdk.models import DashboardModel, ProjectModel
from evidently.ui.storage.local.base import LocalState as WorkspaceFiles

from nids.config import MonitoringConfig, project_path
from nids.data.schema import PREDICTION_COLUMN
from nids.io import atomic_path
from nids.monitoring import dashboard
from nids.monitoring.check import BatchCheck, Champion
from nids.monitoring.dashboard import JudgmentValues
from nids.monitoring.history import expired
from nids.monitoring.reports import prune_reports

logger = logging.getLogger(__name__)

VERSION_FILE = "evidently-version.txt"  # the UI ignores files beside the project folders
_PROJECT_IDS = uuid.UUID("3f0e8a52-1c47-4d2b-8f3e-9b6a0c5d7e21")  # one project id per model
_TIME_IN_NAME = re.compile(
    r"(?<!\d)(\d{4})-?(\d{2})-?(\d{2})[T_ -]?(\d{2})[:-]?(\d{2})(?:[:-]?(\d{2}))?Z?(?!\d)")


@dataclass(frozen=True)
class RecordedBatch:
    """A batch's snapshot in the workspace, and what retention removed."""

    project_id: uuid.UUID
    snapshot_id: uuid.UUID
    snapshot_path: Path
    snapshot_bytes: int
    seconds: float
    pruned_snapshots: int
    pruned_reports: int


def batch_time(path: Path) -> datetime:
    """When a batch was captured: a time in its name (UTC), else its modification time."""
    for match in _TIME_IN_NAME.finditer(path.name):
        try:
            return datetime(*(int(part or 0) for part in match.groups()), tzinfo=UTC)
        except ValueError:
            continue  # digits that are no date, e.g. month 13
    return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)


def snapshot_id_at(moment: datetime) -> uuid.UUID:
    """A UUIDv7 carrying `moment` (ms), so retention dates a snapshot by its file name."""
    millis = int(moment.timestamp() * 1000) & (2**48 - 1)
    value = (millis << 80) | secrets.randbits(80)
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    return uuid.UUID(int=value)


def snapshot_time(snapshot_id: uuid.UUID) -> datetime | None:
    """The time a UUIDv7 carries; None for other ids (snapshots added by someone else)."""
    if snapshot_id.version != 7:
        return None
    return datetime.fromtimestamp((snapshot_id.int >> 80) / 1000, tz=UTC)


def check_version(workspace_dir: Path) -> None:
    """Refuse a workspace written by another Evidently minor version (its UI may not load the
    other's snapshots); mark a new workspace with this version."""
    marker = workspace_dir / VERSION_FILE
    if not marker.exists():
        workspace_dir.mkdir(parents=True, exist_ok=True)
        marker.write_text(evidently.__version__ + "\n", encoding="utf-8")
        return
    written = marker.read_text(encoding="utf-8").strip()
    if written.split(".")[:2] != evidently.__version__.split(".")[:2]:
        raise ValueError(
            f"{workspace_dir} holds snapshots of Evidently {written} ({marker}), this is "
            f"{evidently.__version__}: install evidently=={written} (requirements.txt pins the "
            "version that writes and serves the workspace) or move the workspace aside.")


def publish(workspace_dir: Path, relative: str,
            model: SnapshotModel | DashboardModel | ProjectModel) -> Path:
    """Write an Evidently model as JSON (as Evidently's LocalState does) to workspace_dir /
    relative, staged beside the workspace so that the watching UI sees one complete file."""
    target = workspace_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target, temp_dir=workspace_dir.parent) as tmp:
        tmp.write_text(json.dumps(model.dict(), cls=NumpyEncoder), encoding="utf-8")
    return target


def open_project(files: WorkspaceFiles, model_name: str) -> uuid.UUID:
    """The id of a registered model's project, created on first use (it derives from the
    name). Only the project's own file is read: Evidently's `Workspace` loads every snapshot of
    every project when it opens (9.8 s for 168, a week of hourly batches)."""
    project_id = uuid.uuid5(_PROJECT_IDS, model_name)
    try:
        files.read_project(project_id)
    except FileNotFoundError:
        model = ProjectModel(id=project_id, name=model_name, description=(
            f"Monitoring of the registered model {model_name}: one snapshot per batch"))
        (Path(files.path) / str(project_id) / "snapshots").mkdir(parents=True, exist_ok=True)
        publish(Path(files.path), f"{project_id}/metadata.json", model)
        logger.info("Created Evidently project %s (%s) in %s", model_name, project_id,
                    files.path)
    return project_id


def column_drift_metrics(model: SnapshotModel) -> set[str]:
    """Ids of the per-feature ValueDrift metrics of a drift snapshot (not the prediction's)."""
    return {metric_id for metric_id, result in model.metric_results.items()
            if result.metric_value_location.metric.params["type"].endswith(":ValueDrift")
            and result.metric_value_location.metric.params["column"] != PREDICTION_COLUMN}


def delete_model_project(workspace_dir: Path, model_name: str) -> bool:
    """Delete a model's project with its snapshots and dashboard; False when there is none."""
    if not workspace_dir.is_dir():
        return False
    files = WorkspaceFiles(str(workspace_dir))   # as `open_project`: no snapshot is loaded
    project_id = uuid.uuid5(_PROJECT_IDS, model_name)
    if str(project_id) not in {str(found) for found in files.list_projects()}:
        return False
    files.delete_project(project_id)
    logger.info("Deleted the Evidently project of %s from %s", model_name, workspace_dir)
    return True


def batch_snapshot(checked: BatchCheck, values: Run, at: datetime, metadata: dict[str, str],
                   tags: list[str]) -> SnapshotModel:
    """The batch's drift run with its dashboard values first, at the batch's time; every
    metric result is kept, the per-feature distribution widgets stay in the HTML report."""
    drift = checked.drift.snapshot.to_snapshot_model()
    extra = values.to_snapshot_model()
    per_column = column_drift_metrics(drift)
    results = {metric_id: result.copy(update={"widget": None}) for metric_id, result
               in {**extra.metric_results, **drift.metric_results}.items()}
    widgets = [widget for widget in drift.widgets
               if not widget.linked_metrics or not set(widget.linked_metrics) <= per_column]
    return drift.copy(update={
        "name": checked.batch, "timestamp": at, "metadata": metadata, "tags": tags,
        "metric_results": results,
        "top_level_metrics": [*extra.top_level_metrics, *drift.top_level_metrics],
        "widgets": [*extra.widgets, *widgets],
    })


def describe(checked: BatchCheck, champion: Champion, report: str,
             judgments: JudgmentValues | None = None) -> tuple[dict[str, str], list[str]]:
    """Snapshot metadata (strings: the UI's API accepts no other) and tags of a batch, with
    its judgments' verdicts when it was judged."""
    verdict = checked.verdict  # the action, whichever judgment asked for it
    metadata = {
        "batch": checked.batch, "model_name": champion.model_name,
        "model_version": str(champion.version), "verdict": verdict, "report": report,
        "crossed": "; ".join(c.message for c in checked.decision.crossed) or "none",
    }
    tags = [f"model_version:{champion.version}", f"verdict:{verdict}"]
    if judgments is None:
        return metadata, tags
    return metadata | judgments.metadata(), tags + judgments.tags()


def prune_snapshots(files: WorkspaceFiles, project_id: uuid.UUID, keep_days: float | None,
                    keep_runs: int | None) -> int:
    """Delete the project's snapshots that `history.expired` drops; returns how many."""
    times = {sid: moment for sid in files.list_snapshots(project_id)
             if (moment := snapshot_time(uuid.UUID(str(sid)))) is not None}
    dropped = expired(times, keep_days, keep_runs)
    for snapshot_id in dropped:
        files.delete_snapshot(project_id, snapshot_id)
    if dropped:
        logger.info("Deleted %d expired snapshots of project %s", len(dropped), project_id)
    return len(dropped)


def record_batch(checked: BatchCheck, champion: Champion, config: MonitoringConfig,
                 at: datetime, html_path: Path,
                 judgments: JudgmentValues | None = None) -> RecordedBatch:
    """Add the batch's snapshot to its model's project, sync the dashboard, apply retention.
    `judgments`: monitoring's three judgments of the batch (None: not judged)."""
    started = time.perf_counter()
    settings, reports_dir = config.history, project_path(config.reports_dir)
    workspace_dir = project_path(settings.workspace_dir)
    check_version(workspace_dir)
    files = WorkspaceFiles(str(workspace_dir))   # Evidently's file layout, nothing loaded
    project_id = open_project(files, champion.model_name)
    values = dashboard.batch_values(checked.drift.summary, checked.verdict,
                                    champion.bundle.test_metric("macro_f1"), judgments)
    metadata, tags = describe(checked, champion, html_path.relative_to(reports_dir).as_posix(),
                              judgments)
    snapshot = batch_snapshot(checked, dashboard.values_run(values), at, metadata, tags)
    snapshot_id = snapshot_id_at(at)
    path = publish(workspace_dir, f"{project_id}/snapshots/{snapshot_id}.json", snapshot)
    judged = judgments is not None or dashboard.shows_judgments(
        files.read_dashboard(project_id))
    sync_dashboard(workspace_dir, project_id, dashboard.dashboard_model(
        config.drift, dashboard.most_drifted(checked.drift.summary,
                                             settings.most_drifted_columns), judged))
    pruned = prune_snapshots(files, project_id, settings.keep_days, settings.keep_runs)
    reports = prune_reports(reports_dir, settings.keep_days, settings.keep_runs,
                            settings.dashboard_url)
    return RecordedBatch(project_id, snapshot_id, path, path.stat().st_size,
                         time.perf_counter() - started, pruned, len(reports))


def sync_dashboard(workspace_dir: Path, project_id: uuid.UUID, model: DashboardModel) -> Path:
    """Replace the project's dashboard with the one defined in code."""
    return publish(workspace_dir, f"{project_id}/dashboard.json", model)
