"""Model health: does the champion still perform on this batch?

With labels, per-class recall and F1 where a class has at least `min_support` rows (smaller
classes are shown, never decisive) and macro-F1 over those classes. Without labels (live
traffic), confidence-based performance estimation as NannyML's CBPE: the expected accuracy
is the mean calibrated probability of the predicted class; plus the share of flows the model
is unsure about, the share its novelty model finds outside the training reference, and the share
it calls benign on ports benign training traffic hardly used. The share it calls benign on a
port that surges (`nids.training.calibration.port_surges`) asks for labels without degrading
health (`nids.monitoring.judgments`).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from nids.data.schema import BENIGN
from nids.training.calibration import PORT_COLUMN, HealthModels, port_surges, rare_ports
from nids.training.evaluate import evaluate

HealthVerdict = Literal["healthy", "degraded"]


class BatchStatistics(BaseModel):
    """The label-free statistics of a batch (or of a training chunk)."""

    rows: int
    estimated_accuracy: float = Field(description="Mean calibrated max-probability (CBPE).")
    uncertain_share: float = Field(description="Share with calibrated max-probability below "
                                   "the threshold.")
    novel_share: float = Field(description="Share the novelty model finds unlike the reference.")
    rare_port_share: float | None = Field(
        None, description="Share called benign on a port rare among the benign training flows "
        "(None: the model has no port table).")
    surge_share: float | None = Field(
        None, description="Share called benign on a port that surges: over SURGE_FACTOR times "
        "its share of the benign training flows (None: the model has no port table).")
    surging_ports: dict[int, int] = Field(
        default_factory=dict, description="Flows called benign per surging port.")
    attack_share: float = Field(description="Share predicted as any attack class.")
    class_counts: dict[str, int] = Field(description="Rows predicted per attack class.")

    def values(self, classes: list[str]) -> dict[str, float]:
        """Every statistic by name; `share:<class>` for each attack class of the model."""
        shares = {f"share:{name}": self.class_counts.get(name, 0) / max(self.rows, 1)
                  for name in classes if name != BENIGN}
        ports = {name: value for name, value in (("rare_port_share", self.rare_port_share),
                                                 ("surge_share", self.surge_share))
                 if value is not None}
        return {"estimated_accuracy": self.estimated_accuracy,
                "uncertain_share": self.uncertain_share, "novel_share": self.novel_share,
                **ports, "attack_share": self.attack_share, **shares}


def row_statistics(models: HealthModels, features: pd.DataFrame, probabilities: np.ndarray,
                   uncertain_below: float) -> pd.DataFrame:
    """Per row of `features` (cleaned, with the model's feature columns), whose class
    probabilities by the model are `probabilities`: the calibrated max-probability
    (`confidence`), whether it is `uncertain`, `novel`, called benign on a `rare_port`, its
    `port` and that port's `benign_port_share` of the training flows (when the models have a
    port table), and the `predicted` class."""
    probabilities = models.calibrated_probabilities(features, probabilities)
    confidence = probabilities.max(axis=1)
    predicted = np.asarray(models.classes, dtype=object)[probabilities.argmax(axis=1)]
    rows = pd.DataFrame({"confidence": confidence, "uncertain": confidence < uncertain_below,
                         "novel": models.is_novel(features, predicted),
                         "predicted": predicted})
    shares = models.benign_port_shares(features)
    if shares is not None:
        rows["rare_port"] = rare_ports(shares, predicted)
        rows["port"] = features[PORT_COLUMN].to_numpy()
        rows["benign_port_share"] = shares
    return rows


def surges(rows: pd.DataFrame) -> tuple[float | None, dict[int, int]]:
    """The surge share of a batch's `row_statistics` and its flows per surging port."""
    if "port" not in rows:
        return None, {}
    surging = port_surges(rows["port"].to_numpy(), rows["benign_port_share"].to_numpy(),
                          rows["predicted"].to_numpy())
    ports = pd.Series(rows["port"].to_numpy()[surging]).value_counts()
    return float(surging.mean()), {int(port): int(flows) for port, flows in ports.items()}


def summarize_rows(rows: pd.DataFrame) -> BatchStatistics:
    """The statistics of a batch from its `row_statistics`."""
    predicted = rows["predicted"].to_numpy()
    attacks = pd.Series(predicted[predicted != BENIGN]).value_counts()
    surge_share, surging_ports = surges(rows)
    return BatchStatistics(
        rows=len(rows), estimated_accuracy=float(rows["confidence"].mean()),
        uncertain_share=float(rows["uncertain"].mean()),
        novel_share=float(rows["novel"].mean()),
        rare_port_share=float(rows["rare_port"].mean()) if "rare_port" in rows else None,
        surge_share=surge_share, surging_ports=surging_ports,
        attack_share=float((predicted != BENIGN).mean()),
        class_counts={str(k): int(v) for k, v in attacks.items()},
    )


def batch_statistics(models: HealthModels, features: pd.DataFrame, probabilities: np.ndarray,
                     uncertain_below: float) -> BatchStatistics:
    """Statistics of the rows of `features` (cleaned, with the model's feature columns), whose
    class probabilities by the model are `probabilities`."""
    return summarize_rows(row_statistics(models, features, probabilities, uncertain_below))


class ClassQuality(BaseModel):
    """Recall and F1 of one class in a labelled batch."""

    recall: float
    f1: float
    support: int
    decisive: bool = Field(description="Enough rows (min_support) to count in the verdict.")


def class_quality(labels: pd.Series, predicted: np.ndarray,
                  min_support: int) -> dict[str, ClassQuality]:
    """Per-class recall and F1 of the classes present in the labels (the test split's
    `evaluate`, on integer codes: seconds less on 500,000 rows than on the names)."""
    true = labels.astype(str).to_numpy(dtype=object)
    # the names as they are (str objects): through a NumPy str array and back, 0.3 s more on
    # 500,000 rows
    per_class = evaluate(true, np.asarray(predicted, dtype=object)).per_class
    per_class = per_class.loc[sorted(pd.unique(true))]
    return {name: ClassQuality(recall=float(row.recall), f1=float(row.f1),
                               support=int(row.support), decisive=int(row.support) >= min_support)
            for name, row in per_class.iterrows()}


class HealthJudgment(BaseModel):
    """The model-health verdict of a batch, with its figures and reasons."""

    verdict: HealthVerdict
    statistics: BatchStatistics
    crossed: list[str] = Field(description="What says the model no longer performs, in words.")
    labels_asked: list[str] = Field(
        default_factory=list, description="What calls for labels on an unlabelled batch "
        "without saying the model no longer performs (a surge of flows called benign), in words.")
    per_class: dict[str, ClassQuality] = Field(default_factory=dict)
    macro_f1: float | None = Field(None, description="Over the decisive classes (labels only).")
    basis: Literal["labels", "estimate"]
    notes: list[str] = Field(default_factory=list)

    def markdown(self) -> str:
        s = self.statistics
        lines = [f"### Model health: **{self.verdict}** (judged on {self.basis})", "",
                 f"- estimated accuracy (CBPE) {s.estimated_accuracy:.3f}, unsure share "
                 f"{s.uncertain_share:.3f}, novel share {s.novel_share:.3f}"
                 + ("" if s.rare_port_share is None
                    else f", called benign on a rare port {s.rare_port_share:.3f}")
                 + ("" if s.surge_share is None
                    else f", on a surging port {s.surge_share:.3f}")]
        if self.macro_f1 is not None:
            lines.append(f"- macro-F1 over classes with enough rows {self.macro_f1:.3f}")
        lines += [f"- {name}: recall {q.recall:.3f}, F1 {q.f1:.3f}, {q.support} rows"
                  f"{'' if q.decisive else ' (too few rows, not decisive)'}"
                  for name, q in self.per_class.items()]
        lines += [f"- **crossed:** {text}" for text in self.crossed]
        lines += [f"- **labels asked:** {text}" for text in self.labels_asked]
        lines += [f"- note: {note}" for note in self.notes]
        return "\n".join(lines) + "\n"
