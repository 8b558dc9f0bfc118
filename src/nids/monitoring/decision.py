"""The retraining decision: which drift and quality thresholds a batch crossed, and by how much."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, computed_field

from nids.monitoring.drift import ColumnDrift, DriftSummary
from nids.monitoring.settings import DriftSettings, RetrainOn, is_p_value

Check = Literal["drifted_share", "prediction_drift", "macro_f1_drop"]
Verdict = Literal["retrain", "drift", "ok", "too small"]
MAX_LISTED_COLUMNS = 10


class CrossedThreshold(BaseModel):
    """One threshold the batch crossed, with the numbers and a sentence for humans."""

    check: Check
    value: float
    threshold: float
    message: str


class DriftDecision(BaseModel):
    """What the monitoring flow does with a batch, and why."""

    drift_detected: bool = Field(description="Feature or prediction drift crossed its threshold.")
    retrain: bool = Field(description="Start the training flow (see DriftSettings.retrain_on).")
    judged: bool = Field(True, description="False for a batch below DriftSettings.min_rows: "
                         "reported, never alerted on or retrained on.")
    crossed: list[CrossedThreshold]
    notes: list[str] = Field(default_factory=list, description="Checks skipped, data warnings.")
    markdown: str

    @computed_field
    @property
    def verdict(self) -> Verdict:
        """'retrain', 'drift' (drift but quality holds), 'ok', or 'too small' to judge."""
        if not self.judged:
            return "too small"
        return "retrain" if self.retrain else "drift" if self.drift_detected else "ok"

    @property
    def alert(self) -> bool:
        """Whether the batch calls for an alert: drift found on a batch large enough to judge."""
        return self.judged and self.drift_detected


def _drifted_share_crossed(
    summary: DriftSummary, settings: DriftSettings
) -> CrossedThreshold | None:
    share, threshold = summary.drifted_share, settings.drifted_share_threshold
    if share < threshold:
        return None
    return CrossedThreshold(
        check="drifted_share", value=share, threshold=threshold,
        message=f"drifted-column share {share:.2f} >= {threshold:.2f} (+{share - threshold:.2f})",
    )


def _prediction_drift_crossed(drift: ColumnDrift) -> CrossedThreshold | None:
    if not drift.drifted:
        return None
    if is_p_value(drift.method):
        detail = f"p-value {drift.score:.3g} < {drift.threshold:.3g}"
    else:
        margin = drift.score - drift.threshold
        detail = f"{drift.score:.2f} >= {drift.threshold:.2f} (+{margin:.2f})"
    return CrossedThreshold(
        check="prediction_drift", value=drift.score, threshold=drift.threshold,
        message=f"prediction drift ({drift.method}) {detail}",
    )


def _macro_f1_crossed(
    macro_f1: float, champion_macro_f1: float, tolerated_drop: float
) -> CrossedThreshold | None:
    drop = champion_macro_f1 - macro_f1
    # Rounding guards "exactly at the tolerance" against float noise (0.93 - 0.88 > 0.05).
    if round(drop, 9) <= tolerated_drop:
        return None
    return CrossedThreshold(
        check="macro_f1_drop", value=drop, threshold=tolerated_drop,
        message=(
            f"macro-F1 {macro_f1:.2f} is {drop:.2f} below champion {champion_macro_f1:.2f} "
            f"(tolerated {tolerated_drop:.2f})"
        ),
    )


def _notes(summary: DriftSummary, champion_macro_f1: float | None) -> list[str]:
    notes = []
    if summary.macro_f1 is None:
        notes.append("macro-F1 not checked: the batch has no labels")
    elif champion_macro_f1 is None:
        notes.append("macro-F1 not checked: no champion macro-F1 to compare with")
    if summary.untestable_columns:
        notes.append(f"columns without values, not tested: {', '.join(summary.untestable_columns)}")
    return notes


def _markdown(summary: DriftSummary, champion_macro_f1: float | None, decision_head: str,
              crossed: list[CrossedThreshold], notes: list[str]) -> str:
    lines = [f"## Drift check: {decision_head}", ""]
    lines += [f"- **crossed:** {c.message}" for c in crossed] or ["- no threshold crossed"]
    drifted = summary.drifted_columns
    if drifted:
        shown = ", ".join(f"`{name}`" for name in drifted[:MAX_LISTED_COLUMNS])
        hidden = len(drifted) - MAX_LISTED_COLUMNS
        more = f" and {hidden} more" if hidden > 0 else ""
        lines.append(f"- drifted columns ({len(drifted)}/{len(summary.columns)}): {shown}{more}")
    if summary.macro_f1 is not None:
        champion = "" if champion_macro_f1 is None else f" (champion {champion_macro_f1:.3f})"
        lines.append(f"- batch macro-F1 {summary.macro_f1:.3f}{champion}")
    lines += [f"- note: {note}" for note in notes]
    return "\n".join(lines) + "\n"


def decide(
    summary: DriftSummary, settings: DriftSettings, champion_macro_f1: float | None,
    rows: int | None = None,
) -> DriftDecision:
    """Decide on a batch: drift when the drifted share or the prediction drift crosses its
    threshold (at the threshold counts, as in Evidently). Retrain when any threshold is
    crossed; with `retrain_on: quality_drop`, only when macro-F1 fell more than the tolerated
    drop below the champion's, or when drift is detected and no labels let us check quality
    (drift with quality holding up is then reported, not retrained on). A batch of fewer
    than `settings.min_rows` rows is reported but not judged: no alert, no retrain."""
    feature = _drifted_share_crossed(summary, settings)
    prediction = _prediction_drift_crossed(summary.prediction_drift)
    quality_checked = summary.macro_f1 is not None and champion_macro_f1 is not None
    quality = (
        _macro_f1_crossed(summary.macro_f1, champion_macro_f1, settings.max_macro_f1_drop)
        if quality_checked else None
    )
    crossed = [c for c in (feature, prediction, quality) if c is not None]
    drift_detected = feature is not None or prediction is not None
    if settings.retrain_on is RetrainOn.ANY_THRESHOLD:
        retrain = bool(crossed)
    else:
        retrain = quality is not None or (drift_detected and not quality_checked)
    head = "RETRAIN" if retrain else "drift, quality holds" if drift_detected else "no drift"
    notes = _notes(summary, champion_macro_f1)
    judged = rows is None or rows >= settings.min_rows
    if not judged:
        head = f"not judged, {rows:,} rows < {settings.min_rows:,}"
        notes.insert(0, f"a batch of {rows:,} rows is too small to judge alone (min_rows "
                     f"{settings.min_rows:,}): no alert, no retrain")
    return DriftDecision(
        drift_detected=drift_detected, retrain=retrain and judged, crossed=crossed, notes=notes,
        judged=judged, markdown=_markdown(summary, champion_macro_f1, head, crossed, notes),
    )
