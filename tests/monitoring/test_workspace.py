"""Monitoring over time: the Evidently workspace, its dashboard, retention, and the UI."""

from __future__ import annotations

import json
import os
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import evidently
import pytest
from evidently.core.report import Snapshot
from evidently.sdk.models import DashboardModel
from evidently.ui.storage.local.base import LocalState as WorkspaceFiles
from evidently.ui.workspace import Workspace

from nids.config import MonitoringConfig
from nids.monitoring import check, dashboard, workspace
from nids.monitoring.drift import ColumnDrift, DriftSummary
from nids.monitoring.history import expired
from nids.monitoring.report_html import LIB_NAME
from nids.monitoring.reports import read_entries, render_index
from nids.paths import PROJECT_ROOT

NOON = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
PANELS = ["Batches by verdict", "Drifted-column share", "Prediction drift",
          "Macro-F1 (batches with labels)", "Verdict per batch", "Most-drifted columns"]


def record(champion, config, traffic, seed: int, scale: float, at: datetime,
           name: str | None = None) -> tuple[check.BatchCheck, workspace.RecordedBatch]:
    """Check a batch, save its report and add it to the workspace, as the monitoring flow does."""
    checked = check.check_frame(traffic(seed, scale), name or f"batch-{seed}.csv", champion,
                                config)
    html_path = check.save_check(checked, champion, Path(config.reports_dir))
    return checked, workspace.record_batch(checked, champion, config, at, html_path)


# --- the batch's time ------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "expected"), [
    ("2026-11-22T183000Z_capture.csv", datetime(2026, 11, 22, 18, 30, tzinfo=UTC)),
    ("flows-20261122-1830.parquet", datetime(2026, 11, 22, 18, 30, tzinfo=UTC)),
    ("edge_2026-11-22_18-30-15.csv", datetime(2026, 11, 22, 18, 30, 15, tzinfo=UTC)),
    ("2026-13-45T9999_then_2026-11-22T0600.csv", datetime(2026, 11, 22, 6, 0, tzinfo=UTC)),
])
def test_a_time_in_the_batch_name_is_its_time(tmp_path: Path, name: str, expected: datetime):
    path = tmp_path / name
    path.write_text("x")
    assert workspace.batch_time(path) == expected


@pytest.mark.parametrize("name", ["03-friday.csv", "traffic.07-03.csv", "20261399-2500.csv"])
def test_otherwise_the_batch_is_at_its_arrival(tmp_path: Path, name: str):
    path = tmp_path / name
    path.write_text("x")
    arrival = NOON - timedelta(days=40)
    os.utime(path, (arrival.timestamp(), arrival.timestamp()))
    assert workspace.batch_time(path) == arrival


def test_a_snapshot_id_carries_the_batch_time_to_the_millisecond():
    moments = [NOON, NOON + timedelta(milliseconds=1), datetime(2017, 7, 7, 15, tzinfo=UTC)]
    ids = [workspace.snapshot_id_at(moment) for moment in moments]
    assert [i.version for i in ids] == [7, 7, 7] and len(set(ids)) == 3
    assert [workspace.snapshot_time(i) for i in ids] == moments
    assert workspace.snapshot_time(uuid.uuid4()) is None  # someone else's snapshot: no date


# --- retention -------------------------------------------------------------------------------


def days(*offsets: float) -> dict[str, datetime]:
    return {f"d{offset:g}": NOON + timedelta(days=offset) for offset in offsets}


@pytest.mark.parametrize(("times", "keep_days", "keep_runs", "dropped"), [
    (days(0, 1, 2, 3), None, None, []),
    (days(0, 1, 2, 3), None, 2, ["d0", "d1"]),
    (days(3, 0, 2, 1), None, 2, ["d0", "d1"]),  # by time, not by order of arrival
    (days(0, 1, 2, 40), 30, None, ["d0", "d1", "d2"]),  # counted back from the newest
    (days(-400, -399), 30, 10, []),  # an old backlog keeps what it just replayed
    (days(0, 10, 20, 30), 15, 3, ["d0", "d10"]),
    (days(0, 10, 20, 30), 25, 2, ["d0", "d10"]),
    ({}, 1, 1, []),
])
def test_expired_drops_the_oldest_beyond_either_limit(times, keep_days, keep_runs, dropped):
    assert expired(times, keep_days, keep_runs) == dropped


# --- the dashboard's values ------------------------------------------------------------------


def column(name: str, method: str, threshold: float, score: float) -> ColumnDrift:
    return ColumnDrift(column=name, method=method, threshold=threshold, score=score,
                       drifted=False)


def test_most_drifted_ranks_columns_by_how_far_past_their_threshold():
    summary = DriftSummary(columns=[
        column("flow_duration", "wasserstein", 0.1, 0.05),
        column("destination_port", "psi", 0.2, 0.9),  # 4.5 times its threshold
        column("flow_bytes_s", "wasserstein", 0.1, 0.3),  # 3 times
        column("flow_iat_min", "ks", 0.05, 0.001),  # p-value 50 times below
    ], drifted_share=0.5, prediction_drift=column("prediction", "jensenshannon", 0.1, 0.0))
    assert dashboard.most_drifted(summary, 3) == ["flow_iat_min", "destination_port",
                                                  "flow_bytes_s"]


def test_batch_values_flag_the_verdict_and_leave_out_what_is_unknown():
    values = dashboard.BatchValues(drifted_share=0.4, prediction_drift=0.02, drifted_columns=3,
                                   verdict="drift")
    assert values.columns() == {
        "drifted_share": 0.4, "prediction_drift": 0.02, "drifted_columns": 3.0,
        "verdict_retrain": 0.0, "verdict_drift": 1.0, "verdict_ok": 0.0,
        "verdict_too small": 0.0}


# --- record_batch ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def recorded_config(config_in, tmp_path_factory: pytest.TempPathFactory) -> MonitoringConfig:
    return config_in(tmp_path_factory.mktemp("history"))


@pytest.fixture(scope="module")
def recorded(tiny_champion, tiny_traffic, recorded_config):
    """Three batches an hour apart, the last one shifted, recorded as the flow records them
    (read-only for the tests that use it)."""
    return [record(tiny_champion, recorded_config, tiny_traffic, seed, scale,
                   NOON + timedelta(hours=hour))
            for hour, (seed, scale) in enumerate([(2, 1.0), (3, 1.0), (4, 20.0)])]


def test_each_batch_is_a_snapshot_of_its_models_project_at_its_time(recorded, recorded_config):
    history_config = recorded_config
    space = Workspace(history_config.history.workspace_dir)
    [project] = space.list_projects()
    assert project.name == "tiny"
    runs = {workspace.snapshot_time(uuid.UUID(str(i))): space.get_run(project.id, i)
            for i in space.list_runs(project.id)}
    assert sorted(runs) == [NOON + timedelta(hours=h) for h in range(3)]
    snapshot = runs[NOON + timedelta(hours=2)]
    assert snapshot.timestamp == NOON + timedelta(hours=2) and snapshot.name == "batch-4.csv"
    assert snapshot.tags == ["model_version:7", "verdict:retrain"]
    assert snapshot.metadata["verdict"] == "retrain" and snapshot.metadata["model_version"] == "7"
    assert "drifted-column share" in snapshot.metadata["crossed"]
    assert re.fullmatch(r"drift/\d{4}-\d\d-\d\dT\d{6}Z_batch-4\.html",
                        snapshot.metadata["report"])
    assert (Path(history_config.reports_dir) / snapshot.metadata["report"]).is_file()
    assert all(isinstance(value, str) for value in snapshot.metadata.values())
    _, last = recorded[-1]
    assert last.snapshot_path.stat().st_size == last.snapshot_bytes


def test_a_snapshot_holds_every_value_but_leaves_column_plots_to_the_report(recorded,
                                                                          recorded_config):
    checked, result = recorded[-1]
    model = Workspace(recorded_config.history.workspace_dir).get_run(result.project_id,
                                                                    result.snapshot_id)
    params = {metric_id: r.metric_value_location.metric.params
              for metric_id, r in model.metric_results.items()}
    means = {params[i]["column"]: r.value for i, r in model.metric_results.items()
             if params[i]["type"].endswith(":MeanValue")}
    assert means["drifted_share"] == pytest.approx(checked.drift.summary.drifted_share)
    assert means["macro_f1"] == pytest.approx(checked.drift.summary.macro_f1)
    assert means["champion_macro_f1"] == 0.95 and means["verdict_retrain"] == 1.0
    drifts = {p["column"] for p in params.values() if p["type"].endswith(":ValueDrift")}
    assert len(drifts) == len(checked.drift.summary.columns) + 1  # every column, prediction
    assert all(r.widget is None for r in model.metric_results.values())  # no copies
    html = Snapshot.load_model(model).get_html_str(as_iframe=False)
    assert "Drift in column 'prediction'" in html and "Mean value of 'drifted_share'" in html
    assert "Drift in column 'log1p(flow_duration)'" not in html  # in the HTML report
    report = Path(recorded_config.reports_dir) / model.metadata["report"]
    assert "Drift in column 'log1p(flow_duration)'" in report.read_text(encoding="utf-8")


def test_the_dashboard_is_defined_in_code_and_follows_the_latest_batch(recorded,
                                                                       recorded_config):
    checked, result = recorded[-1]
    folder = Path(recorded_config.history.workspace_dir)
    path = folder / str(result.project_id) / "dashboard.json"
    model = DashboardModel.parse_raw(path.read_text())
    assert [panel.title for panel in model.panels] == PANELS
    assert model.tabs[0].panels == [panel.id for panel in model.panels]
    lines = {p.title: [v.legend for v in p.values] for p in model.panels}
    assert lines["Most-drifted columns"] == dashboard.most_drifted(
        checked.drift.summary, recorded_config.history.most_drifted_columns)
    assert len(lines["Most-drifted columns"]) == 5
    assert lines["Drifted-column share"] == ["drifted share"]
    assert lines["Batches by verdict"] == ["retrain", "drift", "ok", "too small"]


def test_the_next_sync_keeps_the_panels_ids(tmp_path: Path, recorded_config):
    first = dashboard.dashboard_model(recorded_config.drift, ["flow_duration", "flow_iat_min"])
    path = workspace.sync_dashboard(tmp_path, uuid.uuid4(), first)
    workspace.sync_dashboard(tmp_path, path.parent.name, dashboard.dashboard_model(
        recorded_config.drift, ["destination_port"]))
    synced = DashboardModel.parse_raw(path.read_text())
    assert [p.id for p in synced.panels] == [p.id for p in first.panels]  # the UI keeps place
    [columns] = [p for p in synced.panels if p.title == "Most-drifted columns"]
    assert [(v.legend, v.metric_labels) for v in columns.values] == [
        ("destination_port", {"column": "log1p(destination_port)"})]


def test_retention_keeps_the_newest_snapshots_reports_and_a_consistent_index(
        tiny_champion, tiny_traffic, history_config):
    history_config.history.keep_runs = 2
    # The second batch is late: retention goes by the batch's time, not by arrival.
    results = [record(tiny_champion, history_config, tiny_traffic, seed, 1.0,
                      NOON + timedelta(hours=hour))[1] for seed, hour in ((2, 2), (3, 0), (4, 1))]
    space = Workspace(history_config.history.workspace_dir)
    kept = sorted(workspace.snapshot_time(uuid.UUID(str(i)))
                  for i in space.list_runs(results[0].project_id))
    assert kept == [NOON + timedelta(hours=1), NOON + timedelta(hours=2)]
    assert [r.pruned_snapshots for r in results] == [0, 0, 1]
    reports_dir = Path(history_config.reports_dir)
    entries = read_entries(reports_dir)
    assert len(entries) == 2 and [r.pruned_reports for r in results] == [0, 0, 1]
    on_disk = sorted(p.name for p in (reports_dir / "drift").glob("*.html"))
    assert on_disk == sorted(entry.report_html for entry in entries)
    index = (reports_dir / "index.html").read_text(encoding="utf-8")
    assert sorted(re.findall(r'href="drift/([^"]+)"', index)) == on_disk
    assert f'href="{history_config.history.dashboard_url}"' in index
    assert (reports_dir / "drift" / "js" / LIB_NAME).is_file()  # shared, never pruned


@pytest.mark.parametrize(("url", "link"), [
    ("http://127.0.0.1:8001", '<a href="http://127.0.0.1:8001">Evidently dashboard</a>'),
    ('http://h/?a=1&b="2"', '<a href="http://h/?a=1&amp;b=&quot;2&quot;">'),
    (None, None),
])
def test_the_index_links_to_the_dashboard(url, link):
    page = render_index([], url)
    assert (link in page) if link else "dashboard" not in page


def test_a_models_project_can_start_afresh(tmp_path: Path):
    files = WorkspaceFiles(str(tmp_path))
    project_id = workspace.open_project(files, "tour-model")
    assert workspace.open_project(files, "tour-model") == project_id  # one per model
    other = workspace.open_project(files, "other-model")
    assert sorted(p.name for p in Workspace(str(tmp_path)).list_projects()) == [
        "other-model", "tour-model"]   # as Evidently's own workspace sees them
    assert workspace.delete_model_project(tmp_path, "tour-model")
    assert [p.name for p in Workspace(str(tmp_path)).list_projects()] == ["other-model"]
    assert not workspace.delete_model_project(tmp_path, "tour-model")
    assert not workspace.delete_model_project(tmp_path / "missing", "tour-model")
    assert other != project_id


def test_a_batch_is_recorded_without_loading_the_other_snapshots(recorded, tiny_champion,
                                                                 config_in, tmp_path: Path):
    """Only the model's own project files are read: a broken snapshot of another model
    (Evidently's Workspace refuses to open then) neither stops nor slows the record."""
    config = config_in(tmp_path)
    other = WorkspaceFiles(config.history.workspace_dir)
    broken = workspace.open_project(other, "other-model")
    (tmp_path / config.history.workspace_dir / str(broken) / "snapshots" /
     f"{workspace.snapshot_id_at(NOON)}.json").write_text('{"not": "a snapshot"}')
    with pytest.raises(ValueError, match="malformed"):
        Workspace(config.history.workspace_dir)
    checked, _ = recorded[-1]
    result = workspace.record_batch(checked, tiny_champion, config, NOON,
                                    Path(config.reports_dir) / "drift" / "r.html")
    files = WorkspaceFiles(config.history.workspace_dir)
    assert files.list_snapshots(result.project_id) == [result.snapshot_id]
    assert files.read_snapshot(result.project_id, result.snapshot_id).name == checked.batch


def test_files_appear_in_the_workspace_complete_staged_outside_it(tmp_path: Path):
    space = tmp_path / "workspace"
    target = workspace.publish(space, "p/dashboard.json", DashboardModel(tabs=[], panels=[]))
    assert json.loads(target.read_text()) == {"tabs": [], "panels": []}
    assert [p.name for p in tmp_path.rglob("*.tmp")] == []


def test_a_workspace_of_another_evidently_version_is_refused(recorded, tiny_champion,
                                                             config_in, tmp_path: Path):
    config = config_in(tmp_path)
    marker = Path(config.history.workspace_dir) / workspace.VERSION_FILE
    marker.parent.mkdir(parents=True)
    marker.write_text("0.6.7\n")
    checked, _ = recorded[-1]
    with pytest.raises(ValueError, match=r"Evidently 0\.6\.7 .*install evidently==0\.6\.7"):
        workspace.record_batch(checked, tiny_champion, config, NOON, tmp_path / "r.html")
    assert [p.name for p in marker.parent.iterdir()] == [marker.name]  # nothing written


def test_a_new_workspace_is_marked_with_this_version(recorded, recorded_config):
    marker = Path(recorded_config.history.workspace_dir) / workspace.VERSION_FILE
    assert marker.read_text().strip() == evidently.__version__


def test_the_evidently_version_is_pinned_for_the_writer_and_the_ui():
    pin = f"evidently=={evidently.__version__}"
    for name in ("requirements.in", "requirements.txt"):
        lines = (PROJECT_ROOT / name).read_text().splitlines()
        assert any(line.split("#")[0].strip() == pin for line in lines), name


def test_a_report_loads_the_shared_library_and_keeps_its_widgets(recorded, recorded_config):
    reports = sorted((Path(recorded_config.reports_dir) / "drift").glob("*.html"))
    page = reports[-1].read_text(encoding="utf-8")
    assert f'<script src="js/{LIB_NAME}"></script>' in page
    assert "Drift in column" in page and len(page) < 1_000_000  # no 3.5 MB library inside
