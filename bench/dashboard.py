"""What monitoring over time costs: a snapshot per batch, the HTML reports, the Evidently UI.

On real CICIDS2017 rows (../shared/cicids2017, read in place): a small XGBoost champion on
half of the stratified sample (all 78 features), then batches checked and recorded exactly as
the monitoring flow does (check.check_frame, check.save_check, workspace.record_batch).
Prints, per batch: the record time and its parts, the snapshot's size (and that of
Evidently's whole snapshot, with every widget twice), the HTML report's size (and Evidently's
single-file size); then the start time of `evidently ui` (as `make serve` starts it) over the
workspace, its first dashboard query and its memory.

    .venv/bin/python -m bench.dashboard [--data ../shared/cicids2017] [--batches 6]
                                        [--copies 120,720]

`--copies` also records one more batch into, and starts the UI over, workspaces of that many
copies of the last real snapshot, an hour apart (what retention keeps of an hourly
deployment), and prints their disk.

Measured 2026-11-29 (2 CPUs shared with other jobs, load 4-7), 5,000-row batches, 78 columns:

    record a batch (snapshot + dashboard + retention)   0.6-1.3 s   (one-row values run 0.5-0.8 s,
                                                                     JSON 0.1 s)
    ... into a workspace of 168 snapshots               0.40 s      (2026-11-30, quiet; 9.78 s
                                                                     when it opened Evidently's
                                                                     Workspace: it loads them all)
    snapshot on disk                                     0.29 MB     (Evidently's whole: 5.50 MB)
    HTML report                                          2.68 MB     (single file: 6.34 MB)

    evidently ui over        healthy (/api/version)   first /api/projects answer   RSS
    an empty project         18.5 s                   18.5 s                       0.33 GB
    6 real snapshots         12.4 s                   12.8 s                       0.34 GB
    120 copies (35 MB)       18.6 s                   39.3 s                       0.56 GB
    168 copies (48 MB)       22.0 s                   42.6 s                       0.64 GB
    720 copies (209 MB)      20.4 s                   108.6 s                      1.70 GB

(earlier, at load 5-8: 120 whole snapshots, plots kept, in 117 s and 3.6 GB). The UI loads a
project's snapshots on its first request after a start, then follows new files.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import shutil
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import psutil
import xgboost as xgb
from evidently.legacy.utils import NumpyEncoder

from nids.config import MonitoringConfig
from nids.data.ingest import load_inputs
from nids.data.schema import FEATURE_COLUMNS, LABEL_COLUMN, PREDICTION_COLUMN
from nids.monitoring import check, dashboard, frames, workspace
from nids.paths import PROJECT_ROOT
from nids.services import free_ports, isolated_layout
from nids.services.commands import EVIDENTLY_UI, server_specs
from nids.services.probes import http_status, post_json
from nids.services.processes import start_process, stop_groups
from nids.tracking.registry import ModelBundle
from nids.training.features import clean_features

DATA = PROJECT_ROOT.parent / "shared" / "cicids2017"


def champion_on(frame, seed: int) -> check.Champion:
    """A small XGBoost model on every feature of `frame`, its reference = `frame` scored."""
    features = list(FEATURE_COLUMNS)
    classes = sorted(frame[LABEL_COLUMN].astype(str).unique())
    target = frame[LABEL_COLUMN].astype(str).map({c: i for i, c in enumerate(classes)})
    model = xgb.XGBClassifier(n_estimators=40, max_depth=6, n_jobs=2, random_state=seed)
    model.fit(clean_features(frame, features), target)
    bundle = ModelBundle(model, classes, features, version="1", run_id="bench",
                         tags={"test_macro_f1": "0.9"})
    scored = frame.assign(**{PREDICTION_COLUMN: np.asarray(classes)[
        model.predict(clean_features(frame, features))]})
    return check.Champion("bench-dashboard", bundle,
                          frames.reference_frame(scored, frames.drift_features(features)))


def timed(function, *args):
    started = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - started


def record_parts(checked: check.BatchCheck, champion: check.Champion) -> str:
    """Where the time of a record goes, and what Evidently's full snapshot would weigh."""
    values = dashboard.batch_values(checked.drift.summary, checked.verdict, 0.9)
    run, values_s = timed(dashboard.values_run, values)
    model, merge_s = timed(workspace.batch_snapshot, checked, run, datetime.now(UTC), {}, [])
    text, dump_s = timed(lambda: json.dumps(model.dict(), cls=NumpyEncoder))
    full = len(json.dumps(checked.drift.snapshot.to_snapshot_model().dict(), cls=NumpyEncoder))
    return (f"values run {values_s:.2f} s, merge {merge_s:.2f} s, JSON {dump_s:.2f} s "
            f"({len(text) / 1e6:.2f} MB); Evidently's whole snapshot would be {full / 1e6:.2f} MB")


def record_batches(folder: Path, champion, batches, config: MonitoringConfig) -> None:
    for number, (name, batch) in enumerate(batches):
        checked, check_s = timed(check.check_frame, batch, name, champion, config)
        html_path = check.save_check(checked, champion, Path(config.reports_dir))
        single = folder / "single-file.html"
        checked.drift.snapshot.save_html(str(single))
        at = datetime(2026, 11, 23, tzinfo=UTC) + timedelta(hours=number)
        recorded = workspace.record_batch(checked, champion, config, at, html_path)
        print(f"{name:<28} {len(batch):>6,} rows  check {check_s:5.1f} s  "
              f"record {recorded.seconds:4.2f} s  snapshot {recorded.snapshot_bytes / 1e6:.2f} MB"
              f"  report {html_path.stat().st_size / 1e6:.2f} MB "
              f"(single file {single.stat().st_size / 1e6:.2f} MB)  {checked.verdict}")
        print(f"    {record_parts(checked, champion)}")


def copied_workspace(workspace_dir: Path, folder: Path, count: int) -> Path:
    """A workspace of `count` copies of the newest snapshot of `workspace_dir`, an hour apart."""
    target = folder / f"copies-{count}"
    shutil.copytree(workspace_dir, target)  # version marker, project metadata, dashboard
    [snapshots] = [p / "snapshots" for p in target.iterdir() if p.is_dir()]
    originals = sorted(snapshots.glob("*.json"))
    model = json.loads(originals[-1].read_text(encoding="utf-8"))
    for original in originals:
        original.unlink()
    start = datetime(2026, 10, 1, tzinfo=UTC)
    for hour in range(count):
        at = start + timedelta(hours=hour)
        model["timestamp"] = at.isoformat()
        path = snapshots / f"{workspace.snapshot_id_at(at)}.json"
        path.write_text(json.dumps(model), encoding="utf-8")
    size = sum(p.stat().st_size for p in snapshots.glob("*.json"))
    print(f"{count} copies of a real snapshot: {size / 1e6:.0f} MB on disk")
    return target


def record_into(workspace_dir: Path, champion, batch, config: MonitoringConfig) -> None:
    """Record one more batch into a workspace of many snapshots, as the next hourly run does."""
    name, frame = batch
    config = config.model_copy(deep=True)
    config.history.workspace_dir = str(workspace_dir)
    config.history.keep_runs = None     # the copies are old: time the record, not pruning
    config.history.keep_days = None
    checked = check.check_frame(frame, name, champion, config)
    html_path = check.save_check(checked, champion, Path(config.reports_dir))
    at = datetime(2026, 12, 1, tzinfo=UTC)
    recorded = workspace.record_batch(checked, champion, config, at, html_path)
    print(f"record a batch into {workspace_dir.name}: {recorded.seconds:.2f} s")


def ui_start(workspace_dir: Path, folder: Path) -> None:
    """`evidently ui` as make serve starts it: time to healthy, first dashboard query, RSS."""
    prefect_port, mlflow_port, ui_port = free_ports(3)
    layout = dataclasses.replace(
        isolated_layout(folder / "state", prefect_port, mlflow_port, evidently_port=ui_port),
        workspace_dir=workspace_dir)
    [spec] = [s for s in server_specs(layout, os.environ) if s.name == EVIDENTLY_UI]
    started = time.perf_counter()
    process = start_process(spec)
    try:
        while http_status(spec.health_url) != 200:
            time.sleep(0.1)
        healthy = time.perf_counter() - started
        with urllib.request.urlopen(f"{spec.url}/api/projects") as answer:  # loads snapshots
            projects = json.loads(answer.read())
        loaded = time.perf_counter() - started
        series = post_json(
            f"{spec.url}/api/v2/snapshots/{projects[0]['id']}/data_series_batch",
            {"series_filter": [{"tags": [], "metadata": {}, "metric_labels": {
                "column": "drifted_share"}, "metric": "evidently:metric_v2:MeanValue"}]})
        ui = psutil.Process(process.pid)
        rss = sum(p.memory_info().rss for p in [ui, *ui.children(recursive=True)])
        points = len(series["series"][0]["values"]) if series["series"] else 0
        print(f"evidently ui: healthy after {healthy:.1f} s, workspace loaded after "
              f"{loaded:.1f} s, drifted-share points {points}, "
              f"RSS {rss / 1e6:.0f} MB")
    finally:
        stop_groups({process.pid: 10.0})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--batches", type=int, default=6)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--copies", default="",
                        help="comma-separated snapshot counts to start the UI over, e.g. 120,720")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = sorted(args.data.glob("*.csv"))
        frame = load_inputs(files, folder / "interim", verify=False).frame
        sample = frame[frame["source_file"].astype(str).str.contains("sample")]
        reference = sample.sample(frac=0.5, random_state=args.seed)
        champion = champion_on(reference, args.seed)
        rest = frame.drop(reference.index)
        rng = np.random.default_rng(args.seed)
        batches = [(f"real-{n:02d}", rest.iloc[rng.choice(len(rest), 5_000, replace=False)])
                   for n in range(args.batches)]
        config = MonitoringConfig(reports_dir=str(folder / "reports"),
                                  history={"workspace_dir": str(folder / "reports" / "ws")})
        print(f"champion on {len(reference):,} real rows of {len(FEATURE_COLUMNS)} features; "
              f"batches of 5,000 real rows from {', '.join(f.name for f in files)}")
        record_batches(folder, champion, batches, config)
        workspace_dir = Path(config.history.workspace_dir)
        ui_start(workspace_dir, folder)
        for count in filter(None, args.copies.split(",")):
            copies = copied_workspace(workspace_dir, folder, int(count))
            record_into(copies, champion, batches[-1], config)
            ui_start(copies, folder)


if __name__ == "__main__":
    main()
