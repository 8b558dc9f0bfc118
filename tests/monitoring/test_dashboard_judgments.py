"""Monitoring's three judgments on the dashboard: their values, tags and panels, read back as the
Evidently UI reads them (its in-memory data storage over the workspace, one series filter per
panel line)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from evidently.sdk.models import DashboardPanelPlot, PanelMetric
from evidently.sdk.panels import line_plot_panel
from evidently.ui.service.base import SeriesFilter
from evidently.ui.service.storage.local.base import InMemoryDataStorage
from evidently.ui.workspace import Workspace
from pydantic import ValidationError

from nids.monitoring import check, workspace
from nids.monitoring.dashboard import JudgmentValues

NOON = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
JUDGMENT_PANELS = ["Judgments", "Estimated accuracy", "Attack share", "Unsure and novel flows",
                   "Judgments per batch"]
DEGRADED = JudgmentValues(
    health="degraded", incident="incident", drift="ok", estimated_accuracy=0.81,
    uncertain_share=0.12, novel_share=0.05, rare_port_share=0.3, surge_share=0.25,
    attack_share=0.4, health_crossed=["estimated accuracy 0.810 < normal 0.900"],
    incident_crossed=["attack share 0.400 > normal 0.100"])
HEALTHY = JudgmentValues(   # of a version logged without the port table
    health="healthy", incident="normal", drift="drift", estimated_accuracy=0.93,
    uncertain_share=0.02, novel_share=0.01, attack_share=0.1)


def panel_points(workspace_dir: Path, project_id: uuid.UUID,
                 panel: DashboardPanelPlot) -> dict[str, list[float]]:
    """Each line of a panel (by legend) with its points, as the UI serves them."""
    storage = InMemoryDataStorage(str(workspace_dir))
    filters = [SeriesFilter(tags=line.tags, metadata=line.metadata, metric=line.metric,
                            metric_labels=line.metric_labels) for line in panel.values]
    answer = asyncio.run(storage.get_data_series(project_id, filters, None, None))
    return {panel.values[series.filter_index].legend: [v for v in series.values if v is not None]
            for series in answer.series}


def test_judgment_values_are_values_tags_and_metadata():
    assert DEGRADED.columns() == {
        "estimated_accuracy": 0.81, "uncertain_share": 0.12, "novel_share": 0.05,
        "rare_port_share": 0.3, "surge_share": 0.25, "attack_share": 0.4,
        "health_degraded": 1.0, "incident": 1.0, "data_drift": 0.0}
    assert {"rare_port_share", "surge_share"}.isdisjoint(HEALTHY.columns())
    assert DEGRADED.tags() == ["health:degraded", "incident:incident", "drift:ok"]
    assert HEALTHY.metadata()["health_crossed"] == "none"
    assert HEALTHY.metadata()["labels_asked"] == "none"
    assert DEGRADED.metadata()["incident_crossed"] == "attack share 0.400 > normal 0.100"


def test_judgment_values_come_from_the_statistics_and_outcome_fields():
    statistics = {"estimated_accuracy": 0.9, "uncertain_share": 0.1, "novel_share": 0.0,
                  "attack_share": 0.2}  # BatchStatistics.values([]) of issue 11
    fields = {"health": "healthy", "incident": "normal", "drift": "ok",
              "health_crossed": [], "incident_crossed": []}  # judgment_fields(judgments)
    assert JudgmentValues(**statistics, **fields).columns()["attack_share"] == 0.2


@pytest.mark.parametrize(("field", "value"), [
    ("health", "sick"), ("incident", "yes"), ("drift", "drifted"), ("attack_share", "many")])
def test_judgment_values_refuse_unknown_verdicts(field: str, value: str):
    with pytest.raises(ValidationError, match=field):
        JudgmentValues(**(HEALTHY.model_dump() | {field: value}))


@pytest.fixture
def judged_history(tiny_champion, tiny_traffic, history_config):
    """Four batches an hour apart: not judged, degraded, healthy, not judged (as before issue
    11, or a batch too small to judge); the dashboard after the first and after the last."""
    dashboards = []
    for hour, judgments in enumerate([None, DEGRADED, HEALTHY, None]):
        checked = check.check_frame(tiny_traffic(hour + 2), f"batch-{hour}.csv", tiny_champion,
                                    history_config)
        html_path = check.save_check(checked, tiny_champion, Path(history_config.reports_dir))
        recorded = workspace.record_batch(checked, tiny_champion, history_config,
                                          NOON + timedelta(hours=hour), html_path, judgments)
        space = Workspace(history_config.history.workspace_dir)
        dashboards.append(space.get_dashboard(recorded.project_id))
    return Path(history_config.history.workspace_dir), recorded.project_id, dashboards


def test_the_judgments_panels_come_with_the_first_judged_batch_and_stay(judged_history):
    _, _, dashboards = judged_history
    titles = [[panel.title for panel in model.panels] for model in dashboards]
    assert not set(JUDGMENT_PANELS) & set(titles[0])
    for later in titles[1:]:
        assert later[-len(JUDGMENT_PANELS) - 1:-1] == JUDGMENT_PANELS  # above the columns
    assert [p.id for p in dashboards[1].panels] == [p.id for p in dashboards[3].panels]


def test_the_panels_plot_one_point_per_judged_batch(judged_history):
    folder, project_id, dashboards = judged_history
    panels = {panel.title: panel for panel in dashboards[-1].panels}
    accuracy = panel_points(folder, project_id, panels["Estimated accuracy"])
    assert accuracy["estimated (no labels)"] == [0.81, 0.93]
    assert len(accuracy["measured (batches with labels)"]) == 4  # every tiny batch has labels
    assert panel_points(folder, project_id, panels["Attack share"]) == {
        "predicted attacks": [0.4, 0.1]}
    assert panel_points(folder, project_id, panels["Unsure and novel flows"]) == {
        "unsure": [0.12, 0.02], "novel": [0.05, 0.01], "benign on rare ports": [0.3],
        "benign on surging ports": [0.25]}
    assert panel_points(folder, project_id, panels["Judgments"]) == {
        "health degraded": [1.0, 0.0], "incident": [1.0, 0.0], "data drift": [0.0, 1.0]}


def test_a_panel_line_can_select_batches_by_their_verdict_tags(judged_history):
    folder, project_id, _ = judged_history
    degraded_only = line_plot_panel("Attack share when degraded", [
        PanelMetric(legend="attacks", metric="MeanValue", tags=["health:degraded"],
                              metric_labels={"column": "attack_share"})])
    assert panel_points(folder, project_id, degraded_only) == {"attacks": [0.4]}
    space = Workspace(str(folder))
    metadata = [space.get_run(project_id, i).metadata for i in space.list_runs(project_id)]
    judged = sorted((m["batch"], m["health"], m["health_crossed"]) for m in metadata
                    if "health" in m)
    assert judged == [("batch-1.csv", "degraded", "estimated accuracy 0.810 < normal 0.900"),
                      ("batch-2.csv", "healthy", "none")]
