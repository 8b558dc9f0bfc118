"""The monitoring dashboard, defined in code: per-batch values and the panels that plot them.

Evidently's dashboards plot metric results of the snapshots in a project. The values the
monitoring flow computes itself (verdict, macro-F1 from the outcome counts) become metric
results through a small Evidently report over a one-row frame, `values_run`: one `MeanValue`
per value, so each batch is one point on each line. The drifted share and prediction drift
are plotted from these values too: Evidently's own DriftedColumnsCount and ValueDrift results
carry the tested columns and thresholds as labels, so a config change would split a line.
"""

from __future__ import annotations

import uuid
from typing import get_args

import pandas as pd
from evidently import DataDefinition, Dataset, Report, Run
from evidently.metrics import MeanValue
from evidently.sdk.models import DashboardModel, DashboardPanelPlot, DashboardTabModel, PanelMetric
from evidently.sdk.panels import bar_plot_panel, counter_panel, line_plot_panel
from pydantic import BaseModel, Field

from nids.monitoring.decision import DriftDecision, Verdict
from nids.monitoring.drift import ColumnDrift, DriftSummary
from nids.monitoring.frames import report_column_name
from nids.monitoring.settings import DriftSettings, is_p_value

VERDICTS: tuple[str, ...] = get_args(Verdict)
TAB_TITLE = "Monitoring"
_IDS = uuid.UUID("8a4c0c4e-5f0b-4c55-9a53-6e1d2b7d9c11")  # namespace of stable panel ids


class BatchValues(BaseModel):
    """What the dashboard plots for one batch, beside Evidently's per-column drift scores."""

    drifted_share: float
    prediction_drift: float
    drifted_columns: int
    macro_f1: float | None = Field(None, description="Only for batches with labels.")
    accuracy: float | None = None
    champion_macro_f1: float | None = Field(None, description="On the champion's test split.")
    verdict: Verdict
    # Estimated performance and attack share come with monitoring's model-health checks:
    # add them here as optional fields, and a panel for them in `panels` below.

    def columns(self) -> dict[str, float]:
        """The numeric values present, with one 0/1 column per verdict (their sums count)."""
        values = self.model_dump(exclude={"verdict"}, exclude_none=True)
        flags = {f"verdict_{verdict}": float(self.verdict == verdict) for verdict in VERDICTS}
        return {name: float(value) for name, value in values.items()} | flags


def batch_values(summary: DriftSummary, decision: DriftDecision,
                 champion_macro_f1: float | None) -> BatchValues:
    """The dashboard's values of a checked batch."""
    return BatchValues(
        drifted_share=summary.drifted_share, prediction_drift=summary.prediction_drift.score,
        drifted_columns=len(summary.drifted_columns), macro_f1=summary.macro_f1,
        accuracy=summary.accuracy, champion_macro_f1=champion_macro_f1, verdict=decision.verdict,
    )


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


def panels(settings: DriftSettings, columns: list[str]) -> list[DashboardPanelPlot]:
    """The dashboard's panels, top to bottom; `columns` get one line each (feature names)."""
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
                       description="ok, drift (quality holds) or retrain"),
        # Estimated performance and attack share: their panels go here once BatchValues has them.
        line_plot_panel("Most-drifted columns", column_lines,
                        description="Drift score per column (Wasserstein distance in reference "
                        "stds unless overridden), the latest batch's most drifted"),
    ]
    return [plot.copy(update={"id": uuid.uuid5(_IDS, plot.title)}) for plot in plots]


def dashboard_model(settings: DriftSettings, columns: list[str]) -> DashboardModel:
    """The whole dashboard: one tab holding every panel, with stable ids."""
    plots = panels(settings, columns)
    tab = DashboardTabModel(id=uuid.uuid5(_IDS, TAB_TITLE), title=TAB_TITLE,
                            panels=[plot.id for plot in plots])
    return DashboardModel(tabs=[tab], panels=plots)
