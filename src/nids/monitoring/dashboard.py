"""The monitoring dashboard, defined in code: per-batch values and the panels that plot them.

Evidently's dashboards plot metric results of the snapshots in a project. The values the
monitoring flow computes itself (verdict, macro-F1 from the outcome counts) become metric
results through a small Evidently report over a one-row frame, `values_run`: one `MeanValue`
per value, so each batch is one point on each line. The drifted share and prediction drift
are plotted from these values too: Evidently's own ValueDrift results carry the column's
method and threshold as labels, so a config change would split a line.

Monitoring's three judgments (model health, security incident, data drift) come in as a
`JudgmentValues`: their statistics become values, their verdicts tags and metadata, and their
panels join the dashboard from the first batch that carries them.
"""

from __future__ import annotations

import uuid
from typing import Literal, get_args

import pandas as pd
from evidently import DataDefinition, Dataset, Report, Run
from evidently.metrics import MeanValue
from evidently.sdk.models import DashboardModel, DashboardPanelPlot, DashboardTabModel, PanelMetric
from evidently.sdk.panels import bar_plot_panel, counter_panel, line_plot_panel
from pydantic import BaseModel, Field

from nids.monitoring.decision import Verdict
from nids.monitoring.drift import ColumnDrift, DriftSummary
from nids.monitoring.frames import report_column_name
from nids.monitoring.judgments import Judgments, judgment_fields
from nids.monitoring.settings import DriftSettings, is_p_value

VERDICTS: tuple[str, ...] = get_args(Verdict)
TAB_TITLE = "Monitoring"
JUDGMENTS_TITLE = "Judgments"
_IDS = uuid.UUID("8a4c0c4e-5f0b-4c55-9a53-6e1d2b7d9c11")  # namespace of stable panel ids


STATISTICS = {"estimated_accuracy", "uncertain_share", "novel_share", "rare_port_share",
              "surge_share", "attack_share"}


class JudgmentValues(BaseModel):
    """Monitoring's three judgments of a batch, as the dashboard shows them. Field names are
    those of BatchStatistics.values() and of the judgments' outcome fields, so
    `JudgmentValues(**statistics.values([]), **judgment_fields(judgments))` builds it."""

    health: Literal["healthy", "degraded"]
    incident: Literal["incident", "normal"]
    drift: Literal["drift", "ok"]
    estimated_accuracy: float = Field(description="Mean calibrated max-probability.")
    uncertain_share: float
    novel_share: float
    rare_port_share: float | None = Field(None, description="None: a version without ports.")
    surge_share: float | None = Field(None, description="None: a version without ports.")
    attack_share: float
    health_crossed: list[str] = Field(default_factory=list)
    labels_asked: list[str] = Field(default_factory=list)
    incident_crossed: list[str] = Field(default_factory=list)

    def columns(self) -> dict[str, float]:
        """The statistics, and one 0/1 column per abnormal verdict (their sums count)."""
        statistics = self.model_dump(include=STATISTICS, exclude_none=True)
        return {**statistics, "health_degraded": float(self.health == "degraded"),
                "incident": float(self.incident == "incident"),
                "data_drift": float(self.drift == "drift")}

    def tags(self) -> list[str]:
        return [f"health:{self.health}", f"incident:{self.incident}", f"drift:{self.drift}"]

    def metadata(self) -> dict[str, str]:
        """Strings only: the UI's API accepts no other."""
        return {"health": self.health, "incident": self.incident, "drift": self.drift,
                "health_crossed": "; ".join(self.health_crossed) or "none",
                "labels_asked": "; ".join(self.labels_asked) or "none",
                "incident_crossed": "; ".join(self.incident_crossed) or "none"}


def judgment_values(judgments: Judgments | None) -> JudgmentValues | None:
    """What the dashboard shows of a batch's judgments (None: not judged)."""
    if judgments is None:
        return None
    return JudgmentValues(**judgments.health.statistics.values([]),
                          **judgment_fields(judgments))


class BatchValues(BaseModel):
    """What the dashboard plots for one batch, beside Evidently's per-column drift scores."""

    drifted_share: float
    prediction_drift: float
    drifted_columns: int
    macro_f1: float | None = Field(None, description="Only for batches with labels.")
    accuracy: float | None = None
    champion_macro_f1: float | None = Field(None, description="On the champion's test split.")
    verdict: Verdict
    judgments: JudgmentValues | None = Field(None, description="None: batch not judged.")

    def columns(self) -> dict[str, float]:
        """The numeric values present, with one 0/1 column per verdict (their sums count)."""
        values = self.model_dump(exclude={"verdict", "judgments"}, exclude_none=True)
        flags = {f"verdict_{verdict}": float(self.verdict == verdict) for verdict in VERDICTS}
        judged = self.judgments.columns() if self.judgments else {}
        return {name: float(value) for name, value in values.items()} | flags | judged


def batch_values(summary: DriftSummary, verdict: Verdict, champion_macro_f1: float | None,
                 judgments: JudgmentValues | None = None) -> BatchValues:
    """The dashboard's values of a checked batch; `verdict`: what the flow did about it."""
    return BatchValues(
        drifted_share=summary.drifted_share, prediction_drift=summary.prediction_drift.score,
        drifted_columns=len(summary.drifted_columns), macro_f1=summary.macro_f1,
        accuracy=summary.accuracy, champion_macro_f1=champion_macro_f1, verdict=verdict,
        judgments=judgments)


def values_run(values: BatchValues) -> Run:
    """An Evidently run whose metric results are the batch's values (MeanValue of one row)."""
    columns = values.columns()
    frame = pd.DataFrame([columns])
    report = Report([MeanValue(column=name) for name in columns])
    return report.run(Dataset.from_pandas(
        frame, data_definition=DataDefinition(numerical_columns=list(columns))), None)


def drift_ratio(drift: ColumnDrift) -> float:
    """How far a column is into drift: score / threshold (threshold / p-value for p-values)."""
    if is_p_value(drift.method):
        return drift.threshold / max(drift.score, 1e-300)
    return drift.score / drift.threshold


def most_drifted(summary: DriftSummary, count: int) -> list[str]:
    """The `count` feature columns furthest into drift, most drifted first."""
    ranked = sorted(summary.columns, key=lambda drift: (-drift_ratio(drift), drift.column))
    return [drift.column for drift in ranked[:count]]


def _value(name: str, legend: str) -> PanelMetric:
    return PanelMetric(legend=legend, metric="MeanValue", metric_labels={"column": name})


def _verdicts() -> list[PanelMetric]:
    return [_value(f"verdict_{verdict}", verdict) for verdict in VERDICTS]


def _judgment_flags() -> list[PanelMetric]:
    return [_value("health_degraded", "health degraded"), _value("incident", "incident"),
            _value("data_drift", "data drift")]


def judgment_panels() -> list[DashboardPanelPlot]:
    """The panels of monitoring's three judgments (batches that carry JudgmentValues)."""
    return [
        counter_panel(JUDGMENTS_TITLE, _judgment_flags(), aggregation="sum",
                      description="Batches in the time range with degraded health, a security "
                      "incident, data drift"),
        line_plot_panel("Estimated accuracy",
                        [_value("estimated_accuracy", "estimated (no labels)"),
                         _value("accuracy", "measured (batches with labels)")],
                        description="Mean calibrated confidence of the predicted class",
                        size="half"),
        line_plot_panel("Attack share", [_value("attack_share", "predicted attacks")],
                        description="Share of flows predicted as any attack class", size="half"),
        line_plot_panel("Unsure and novel flows",
                        [_value("uncertain_share", "unsure"), _value("novel_share", "novel"),
                         _value("rare_port_share", "benign on rare ports"),
                         _value("surge_share", "benign on surging ports")],
                        description="Shares the model is unsure about, unlike its training "
                        "reference, called benign on ports benign training traffic hardly "
                        "used, and on ports far busier than in training", size="half"),
        bar_plot_panel("Judgments per batch", _judgment_flags(), stacked=True, size="half",
                       description="Degraded health, incident, data drift"),
    ]


def shows_judgments(model: DashboardModel) -> bool:
    """Whether a dashboard already has the judgments' panels (they stay once they came)."""
    return uuid.uuid5(_IDS, JUDGMENTS_TITLE) in {panel.id for panel in model.panels}


def panels(settings: DriftSettings, columns: list[str],
           judged: bool = False) -> list[DashboardPanelPlot]:
    """The dashboard's panels, top to bottom; `columns` get one line each (feature names);
    `judged` adds the judgments' panels."""
    column_lines = [
        PanelMetric(legend=column, metric="ValueDrift",
                    metric_labels={"column": report_column_name(column, settings.feature_scale)})
        for column in columns
    ]
    plots = [
        counter_panel("Batches by verdict", _verdicts(), aggregation="sum",
                      description="Batches in the time range, by the monitoring verdict"),
        line_plot_panel("Drifted-column share", [_value("drifted_share", "drifted share")],
                        description=f"Drift when >= {settings.drifted_share_threshold:g}",
                        size="half"),
        line_plot_panel("Prediction drift", [_value("prediction_drift", "predicted classes")],
                        description=f"{settings.prediction_method.value} distance of the "
                        f"predicted classes; drift when >= {settings.prediction_threshold:g}",
                        size="half"),
        line_plot_panel("Macro-F1 (batches with labels)",
                        [_value("macro_f1", "batch"),
                         _value("champion_macro_f1", "champion (test split)")],
                        description="Quality drop when the batch is more than "
                        f"{settings.max_macro_f1_drop:g} below the champion", size="half"),
        bar_plot_panel("Verdict per batch", _verdicts(), stacked=True, size="half",
                       description="What the flow did: retrain (degraded health, or drift where "
                       "config says), drift reported, ok"),
        *(judgment_panels() if judged else []),
        line_plot_panel("Most-drifted columns", column_lines,
                        description="Drift score per column (Wasserstein distance in reference "
                        "stds unless overridden), the latest batch's most drifted"),
    ]
    return [plot.copy(update={"id": uuid.uuid5(_IDS, plot.title)}) for plot in plots]


def dashboard_model(settings: DriftSettings, columns: list[str],
                    judged: bool = False) -> DashboardModel:
    """The whole dashboard: one tab holding every panel, with stable ids."""
    plots = panels(settings, columns, judged)
    tab = DashboardTabModel(id=uuid.uuid5(_IDS, TAB_TITLE), title=TAB_TITLE,
                            panels=[plot.id for plot in plots])
    return DashboardModel(tabs=[tab], panels=plots)
