"""What a checked batch calls for: its alerts, a label request or a retrain, and the flow's
result and Prefect artifact for it (`nids.monitoring.check` checks the batch)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from nids.data.schema import PREDICTION_COLUMN
from nids.monitoring.check import BatchCheck, Champion
from nids.monitoring.judgments import judgment_fields
from nids.monitoring.outcomes import AlertOutcome, BatchOutcome, RetrainOutcome
from nids.monitoring.retrain import drift_reason
from nids.training.calibration import PORT_COLUMN, port_surges, rare_ports
from nids.training.features import clean_features


def outcome_of(checked: BatchCheck, champion: Champion, retrain: RetrainOutcome | None,
               alerts: list[AlertOutcome] | None = None,
               location: Path | None = None) -> BatchOutcome:
    """The flow's result for one checked batch."""
    return BatchOutcome(
        batch=checked.batch, model_version=champion.version, verdict=checked.verdict,
        crossed=[c.message for c in checked.decision.crossed], retrain=retrain, alerts=alerts or [],
        location=str(location) if location else None, **judgment_fields(checked.judgments),
    )


def markdown_of(checked: BatchCheck, champion: Champion) -> str:
    """The Prefect artifact: the three verdicts and the thresholds, or the drift decision."""
    if checked.judgments is None or champion.thresholds is None:
        return checked.decision.markdown
    return checked.judgments.markdown(champion.thresholds, checked.decision.markdown)


def alerts_of(checked: BatchCheck) -> list[tuple[str, str]]:
    """(subject, body) of each alert the batch raises: an incident, degraded health, and drift
    where config says (for a champion without health models: the drift decision's)."""
    judgments, batch = checked.judgments, checked.batch
    if judgments is None:
        return ([(f"Drift in {batch}: {checked.decision.verdict}", checked.decision.markdown)]
                if checked.decision.alert else [])
    raised = []
    if judgments.incident.verdict == "incident":
        raised.append((f"Security incident in {batch}", judgments.incident.alert_text(batch)))
    if judgments.health.verdict == "degraded":
        raised.append((f"Model health degraded on {batch}", judgments.health.markdown()))
    if judgments.alert_drift:
        raised.append((f"Drift in {batch}: {checked.verdict}", checked.decision.markdown))
    return raised


def needs_labels(checked: BatchCheck, labelled: bool) -> bool:
    """Health degraded, or a surge of flows called benign, on a batch without labels: a
    retrain could learn nothing new from it, so analysts are asked for labels instead
    (nids.monitoring.label_requests)."""
    judgments = checked.judgments
    return (judgments is not None and not labelled
            and (judgments.health.verdict == "degraded" or bool(judgments.health.labels_asked)))


def labels_reason(checked: BatchCheck) -> str:
    """Why labels are asked for a batch that `needs_labels`, in words."""
    health = checked.judgments.health
    if health.verdict == "degraded":
        return "model health degraded: " + "; ".join(health.crossed)
    return "; ".join(health.labels_asked)


def novelty_of(frame: pd.DataFrame, checked: BatchCheck, champion: Champion) -> np.ndarray | None:
    """1.0 for each flow the champion's novelty models find unlike its predicted class, or
    that it calls benign on a port benign training traffic hardly used or on a surging port."""
    models = champion.health_models
    if models is None:
        return None
    features = clean_features(frame, champion.bundle.features)
    predicted = checked.scores[PREDICTION_COLUMN].to_numpy()
    novel = models.is_novel(features, predicted)
    shares = models.benign_port_shares(features)
    if shares is not None:
        novel |= (rare_ports(shares, predicted)
                  | port_surges(features[PORT_COLUMN].to_numpy(), shares, predicted))
    return novel.astype(float)


def retrain_reason(checked: BatchCheck) -> str:
    """Why a retrain starts: degraded health (or drift, as config or an older champion says)."""
    judgments = checked.judgments
    if judgments is not None and judgments.health.verdict == "degraded":
        return f"model health degraded on {checked.batch}: " + "; ".join(judgments.health.crossed)
    return drift_reason(checked.batch, checked.decision)
