"""The real monitoring flow fills the Evidently workspace; `evidently ui` shows its dashboard in
headless Chromium, one point per batch, without console errors."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from flows.monitoring import monitoring_flow
from nids.monitoring import workspace
from nids.services import free_ports, isolated_layout
from nids.services.commands import EVIDENTLY_UI, server_specs
from nids.services.probes import http_status, wait_until
from nids.services.processes import is_alive, start_process, stop_groups
from tests.support import chromium

MODEL = "e2e-monitoring"  # the champion template's model (tests/monitoring/conftest.py)
ARRIVAL = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # the first batch; the others hourly
PANELS = ["Batches by verdict", "Drifted-column share", "Prediction drift",
          "Macro-F1 (batches with labels)", "Verdict per batch", "Judgments",
          "Estimated accuracy", "Attack share", "Unsure and novel flows", "Judgments per batch",
          "Most-drifted columns"]


@pytest.fixture(scope="module")
def monitored(prefect_api, champion_template, traffic_batches, small_monitoring_config,
              tmp_path_factory: pytest.TempPathFactory):
    """A champion trained on Monday-Wednesday (a copy of the champion template), then the
    monitoring flow on the tour's three batches, which arrived an hour apart yesterday
    (retraining off)."""
    folder = tmp_path_factory.mktemp("dashboard")
    with pytest.MonkeyPatch.context() as patch:
        training = champion_template.copy_to(folder, patch)
        (folder / "incoming").mkdir()
        paths = [Path(shutil.copy(batch, folder / "incoming"))
                 for batch in traffic_batches.values()]
        arrivals = {path.name: ARRIVAL + timedelta(hours=hour) for hour, path in enumerate(paths)}
        for path in paths:
            os.utime(path, (arrivals[path.name].timestamp(),) * 2)
        config = small_monitoring_config(folder, training)
        config.retrain.enabled = False
        config.history.workspace_dir = str(folder / "reports" / "workspace")
        outcomes = monitoring_flow(config=config)
    return config, outcomes, arrivals


def api(base: str, path: str, body: dict | None = None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{base}{path}", data=data,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


@pytest.fixture(scope="module")
def evidently_ui(monitored, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`evidently ui` as `make serve` starts it, over the flow's workspace, on a free port."""
    config, _, _ = monitored
    state = tmp_path_factory.mktemp("ui-state")
    prefect_port, mlflow_port, ui_port = free_ports(3)  # only the UI is started
    layout = dataclasses.replace(
        isolated_layout(state, prefect_port, mlflow_port, evidently_port=ui_port),
        workspace_dir=Path(config.history.workspace_dir))
    [spec] = [s for s in server_specs(layout, os.environ) if s.name == EVIDENTLY_UI]
    process = start_process(spec)
    try:
        wait_until(lambda: http_status(spec.health_url) == 200, what=spec.name, timeout=120,
                   log_path=spec.log_path, still_running=lambda: is_alive(process.pid))
        yield spec.url
    finally:
        assert not stop_groups({process.pid: 10.0})


@pytest.mark.slow
def test_the_flow_adds_one_snapshot_per_batch_at_its_arrival(monitored):
    config, outcomes, arrivals = monitored
    assert [o.batch for o in outcomes] == list(arrivals)
    folder = Path(config.history.workspace_dir)
    [project] = [p for p in folder.iterdir() if p.is_dir()]
    snapshots = [json.loads(p.read_text()) for p in (project / "snapshots").glob("*.json")]
    by_batch = {s["name"]: s for s in snapshots}
    assert set(by_batch) == set(arrivals)
    for outcome in outcomes:
        snapshot = by_batch[outcome.batch]
        stamp = datetime.fromisoformat(snapshot["timestamp"])
        assert stamp == arrivals[outcome.batch]
        assert outcome.health is not None  # the champion has its health models
        assert snapshot["tags"] == [f"model_version:{outcome.model_version}",
                                    f"verdict:{outcome.verdict}", f"health:{outcome.health}",
                                    f"incident:{outcome.incident}", f"drift:{outcome.drift}"]
        assert snapshot["metadata"]["health_crossed"] == (
            "; ".join(outcome.health_crossed) or "none")
    names = [p.stem for p in (project / "snapshots").glob("*.json")]
    assert sorted(workspace.snapshot_time(uuid.UUID(name)) for name in names) == sorted(
        arrivals.values())


@pytest.mark.slow
@pytest.mark.browser
def test_the_ui_shows_the_dashboard_one_point_per_batch(monitored, evidently_ui, tmp_path):
    config, outcomes, arrivals = monitored
    [project] = api(evidently_ui, "/api/projects")
    assert project["name"] == MODEL
    drifted_share = {"tags": [], "metadata": {}, "metric": "evidently:metric_v2:MeanValue",
                     "metric_labels": {"column": "drifted_share"}}
    series = api(evidently_ui, f"/api/v2/snapshots/{project['id']}/data_series_batch",
                 {"series_filter": [drifted_share]})
    [line] = series["series"]
    assert len(line["values"]) == len(outcomes) == 3 and None not in line["values"]
    estimated = {**drifted_share, "metric_labels": {"column": "estimated_accuracy"}}
    [line] = api(evidently_ui, f"/api/v2/snapshots/{project['id']}/data_series_batch",
                 {"series_filter": [estimated]})["series"]
    assert len(line["values"]) == 3 and all(0 < value <= 1 for value in line["values"])
    assert [datetime.fromisoformat(s["timestamp"]) for s in series["sources"]] == sorted(
        arrivals.values())

    page = chromium.visit(f"{evidently_ui}/projects/{project['id']}", tmp_path / "profile",
                          wait_for=[*PANELS, "Timestamps", "drifted share"])
    (tmp_path / "dashboard.png").write_bytes(page.png)
    for title in [MODEL, *PANELS]:
        assert title in page.text
    assert page.errors == []
    assert page.png.startswith(b"\x89PNG") and len(page.png) > 50_000


@pytest.mark.browser
def test_the_console_check_sees_an_error(tmp_path: Path):
    page = tmp_path / "page.html"
    page.write_text("<p>ready</p><script>console.error('broken panel')</script>")
    seen = chromium.visit(page.as_uri(), tmp_path / "profile", wait_for=["ready"])
    assert seen.text == "ready" and any("broken panel" in e for e in seen.errors)
