"""The three judgments of a batch, each with its own verdict: model health (the only default
reason to retrain), security incident (alert, no retraining) and data drift (reported; alerts
or retrains only where config says)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel

from nids.monitoring.decision import DriftDecision
from nids.monitoring.health import (
    BatchStatistics,
    HealthJudgment,
    batch_statistics,
    class_quality,
)
from nids.monitoring.incidents import IncidentJudgment, judge_incident
from nids.monitoring.judgment_settings import JudgmentSettings
from nids.monitoring.thresholds import Thresholds
from nids.training.calibration import HealthModels

ESTIMATES = ("estimated_accuracy", "uncertain_share", "novel_share", "rare_port_share")
SURGE = "surge_share"   # asks for labels; real benign traffic surges too (Kerberos logons)


def estimate_crossed(statistics: BatchStatistics, thresholds: Thresholds,
                     settings: JudgmentSettings, names: tuple[str, ...] = ESTIMATES) -> list[str]:
    """The label-free health statistics (`names`) outside their normal range, in words."""
    values, crossed = statistics.values([]), []
    for name in names:
        limit = thresholds.limit(name, statistics.rows, settings.overrides)
        if limit is None or name not in values:   # a range or a statistic older versions lack
            continue
        low = thresholds.ranges[name].side == "low"
        if values[name] < limit if low else values[name] > limit:
            crossed.append(f"{name.replace('_', ' ')} {values[name]:.3f} "
                           f"{'<' if low else '>'} normal {limit:.3f}")
    return crossed


def surge_asks(statistics: BatchStatistics, thresholds: Thresholds,
               settings: JudgmentSettings) -> list[str]:
    """The surge share beyond its normal range, in words, with the surging ports."""
    crossed = estimate_crossed(statistics, thresholds, settings, (SURGE,))
    if not crossed:
        return []
    ports = ", ".join(f"port {port} {flows} flows" for port, flows in
                      sorted(statistics.surging_ports.items(), key=lambda item: -item[1]))
    return [f"called benign on a surging port: {crossed[0]} ({ports}); an attack the model "
            "never saw, or a service busier than in training"]


def labelled_crossed(labels: pd.Series, predicted: np.ndarray, thresholds: Thresholds,
                     settings: JudgmentSettings) -> tuple[list[str], dict, float | None]:
    """Classes whose recall fell, and macro-F1 below the champion's over the same classes."""
    quality = class_quality(labels, predicted, settings.min_support)
    decisive = {name: q for name, q in quality.items() if q.decisive}
    crossed = []
    for name, q in decisive.items():
        expected = thresholds.champion_recall.get(name)
        unseen = " (a class the model never saw)" if expected is None else ""
        floor = (1.0 if expected is None else expected) - settings.max_recall_drop
        if q.recall < floor:
            crossed.append(f"recall of {name} {q.recall:.3f} < {floor:.3f}{unseen}")
    if not decisive:
        return crossed, quality, None
    macro = float(np.mean([q.f1 for q in decisive.values()]))
    expected = float(np.mean([thresholds.champion_f1.get(n, 1.0) for n in decisive]))
    if macro < expected - settings.max_macro_f1_drop:
        crossed.append(f"macro-F1 {macro:.3f} < champion's {expected:.3f} on the same classes "
                       f"- {settings.max_macro_f1_drop:.2f}")
    return crossed, quality, macro


def judge_health(statistics: BatchStatistics, labels: pd.Series | None,
                 predicted: np.ndarray | None,
                 thresholds: Thresholds, settings: JudgmentSettings) -> HealthJudgment:
    """Degraded when labels show lost recall/F1 on classes with enough rows; without such
    labels, when the estimated accuracy, unsure, novel or rare-port share leaves its range.
    Without labels, a surge share beyond its range asks for them."""
    notes, crossed, quality, macro, asks = [], [], {}, None, []
    if labels is not None:
        crossed, quality, macro = labelled_crossed(labels, predicted, thresholds, settings)
    basis = "labels" if macro is not None else "estimate"
    if basis == "estimate":
        if labels is not None:
            notes.append(f"no class has {settings.min_support} labelled rows: judged on estimates")
        crossed = estimate_crossed(statistics, thresholds, settings)
    if labels is None:
        asks = surge_asks(statistics, thresholds, settings)
    if statistics.rows < thresholds.chunk_rows:
        notes.append(f"{statistics.rows} rows, fewer than the {thresholds.chunk_rows}-row "
                     "chunks the ranges come from: ranges widened by sqrt(chunk/rows)")
    return HealthJudgment(verdict="degraded" if crossed else "healthy", statistics=statistics,
                          crossed=crossed, labels_asked=asks, per_class=quality, macro_f1=macro,
                          basis=basis, notes=notes)


class Judgments(BaseModel):
    """The three verdicts of a batch and what the flow does about them."""

    health: HealthJudgment
    incident: IncidentJudgment
    drift: str
    retrain: bool
    alert_drift: bool

    def markdown(self, thresholds: Thresholds, drift_markdown: str) -> str:
        return "\n".join([f"## Batch verdicts: health {self.health.verdict}, incident "
                          f"{self.incident.verdict}, drift {self.drift}"
                          f"{' → RETRAIN' if self.retrain else ''}", "",
                          self.health.markdown(), self.incident.markdown(),
                          "### Data drift\n", drift_markdown, "### Thresholds\n",
                          thresholds.markdown()])


def sampled_statistics(models: HealthModels, features: pd.DataFrame, probabilities: np.ndarray,
                       uncertain_below: float, sample_rows: int) -> BatchStatistics:
    """The label-free statistics of a batch (`probabilities`: the model's, of each row), from
    a random sample of at most `sample_rows` rows (shares and means: 50,000 rows estimate
    them within about 0.005); the class counts are scaled to the whole batch."""
    if len(features) <= sample_rows:
        return batch_statistics(models, features, probabilities, uncertain_below)
    sample = np.sort(np.random.default_rng(0).choice(len(features), sample_rows, replace=False))
    found = batch_statistics(models, features.iloc[sample], probabilities[sample],
                             uncertain_below)
    scale = len(features) / sample_rows
    return found.model_copy(update={
        "rows": len(features),
        "class_counts": {k: int(round(v * scale)) for k, v in found.class_counts.items()},
        "surging_ports": {k: int(round(v * scale)) for k, v in found.surging_ports.items()}})


def judge_batch(statistics: BatchStatistics, classes: list[str], thresholds: Thresholds,
                labels: pd.Series | None, predicted: np.ndarray, drift: DriftDecision,
                settings: JudgmentSettings) -> Judgments:
    """Health, incident and drift verdicts of a batch from its label-free `statistics`
    (`sampled_statistics`), its labels if any and the champion's `predicted` classes of every
    row; retrain on degraded health (or on drift, when `drift_action` is retrain)."""
    health = judge_health(statistics, labels, predicted, thresholds, settings)
    incident = judge_incident(statistics, classes, thresholds, settings.overrides)
    drifted = drift.drift_detected
    return Judgments(
        health=health, incident=incident, drift="drift" if drifted else "ok",
        retrain=health.verdict == "degraded" or (drifted and settings.drift_action == "retrain"),
        alert_drift=drifted and settings.drift_action in ("alert", "retrain"))


def judgment_fields(judgments: Judgments | None) -> dict[str, object]:
    """The verdict fields of the flow's result and the report entry (None: not judged)."""
    if judgments is None:
        return {}
    return {"health": judgments.health.verdict, "incident": judgments.incident.verdict,
            "drift": judgments.drift,
            "health_crossed": judgments.health.crossed,
            "labels_asked": judgments.health.labels_asked,
            "incident_crossed": judgments.incident.crossed}
