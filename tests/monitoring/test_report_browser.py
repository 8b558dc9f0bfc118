"""Open the saved index and a real Evidently report in headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nids.monitoring.decision import decide
from nids.monitoring.drift import run_drift_report, save_report, summarize_snapshot
from nids.monitoring.reports import ReportEntry, report_paths, write_index
from nids.monitoring.settings import DriftSettings

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FEATURES = ["flow_duration", "total_fwd_packets", "flow_bytes_s"]
BATCH = "friday-ddos-sample"


def chromium_dom(page: Path, profile: Path) -> str:
    """The DOM of a local page after its scripts ran (10 s of virtual time)."""
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"headless Chromium not found at {CHROMIUM}: apt-get install -y chromium")
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={profile}", "--virtual-time-budget=10000",
        "--dump-dom", page.as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, f"chromium failed on {page}: {done.stderr[-2000:]}"
    return done.stdout


def frame(seed: int, scale: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = 1500
    data = pd.DataFrame({name: rng.lognormal(8, 2, rows) * scale for name in FEATURES})
    data["prediction"] = rng.choice(["BENIGN", "DDoS"], rows, p=[0.7, 0.3])
    data["label"] = data["prediction"]
    return data


@pytest.fixture(scope="module")
def reports_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A reports folder with one real drift report, its entry and the index."""
    folder = tmp_path_factory.mktemp("reports")
    settings = DriftSettings()
    snapshot = run_drift_report(frame(0, 1.0), frame(1, 5.0), FEATURES, settings)
    summary = summarize_snapshot(snapshot)
    decision = decide(summary, settings, champion_macro_f1=0.95)
    created_at = datetime(2026, 11, 22, 18, 30, tzinfo=UTC)
    html_path, json_path = report_paths(folder, created_at, BATCH)
    entry = ReportEntry(
        created_at=created_at, batch=BATCH, model_name="cicids2017-xgboost", model_version="7",
        verdict=decision.verdict, crossed=[c.message for c in decision.crossed],
        report_html=html_path.name, summary=summary.model_dump(mode="json"),
    )
    save_report(snapshot, html_path, json_path, entry)
    write_index(folder)
    return folder


def test_index_lists_the_report(reports_dir: Path, tmp_path: Path):
    dom = chromium_dom(reports_dir / "index.html", tmp_path / "profile")
    assert f"<td>{BATCH}</td>" in dom
    assert "cicids2017-xgboost v7" in dom
    assert "drifted-column share" in dom  # the scale-5 batch drifts
    link = re.search(r'<a href="([^"]+)">report</a>', dom).group(1)
    assert link == "drift/2026-11-22T183000Z_friday-ddos-sample.html"
    assert (reports_dir / link).is_file()


def test_evidently_report_renders(reports_dir: Path, tmp_path: Path):
    report = next((reports_dir / "drift").glob("*.html"))
    dom = chromium_dom(report, tmp_path / "profile")
    # Before the scripts run the dashboard's root is an empty <div>; after, it holds widgets.
    root = re.search(r'<div id="root_[^"]*">(.*?)<script', dom, re.DOTALL)
    assert root, "no dashboard root in the rendered page"
    text = re.sub(r"<[^>]+>", " ", root.group(1))
    assert "Drift in column 'log1p(flow_duration)'" in text
    assert "Data drift detected" in text
    assert "<svg" in root.group(1)  # plotly drew the distributions
