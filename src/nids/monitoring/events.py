"""Each verdict of a batch as a Prefect event, so operators can attach their own automations.

`emit_event` returns None instead of raising when it cannot send; that is logged here.
"""

from __future__ import annotations

import logging

from prefect.events import emit_event

from nids.monitoring.judgments import Judgments

logger = logging.getLogger(__name__)


def model_resource(model_name: str, version: str) -> dict[str, str]:
    """The Prefect resource of a model version."""
    return {"prefect.resource.id": f"mlflow.model-version.{model_name}.{version}",
            "prefect.resource.name": f"{model_name} v{version}"}


def verdict_payloads(batch: str, judgments: Judgments) -> dict[str, dict]:
    """Event name -> payload of each verdict."""
    health, incident = judgments.health, judgments.incident
    return {
        f"nids.health.{health.verdict}": {
            "batch": batch, "basis": health.basis, "crossed": health.crossed,
            "labels_asked": health.labels_asked, "macro_f1": health.macro_f1,
            **health.statistics.model_dump()},
        f"nids.incident.{incident.verdict}": {
            "batch": batch, "attack_share": incident.attack_share,
            "attack_counts": incident.attack_counts, "crossed": incident.crossed},
        f"nids.drift.{judgments.drift}": {"batch": batch, "retrain": judgments.retrain},
    }


def emit_verdicts(batch: str, judgments: Judgments, model_name: str, version: str) -> int:
    """Emit the three verdict events; returns how many were sent (failures are logged)."""
    sent = 0
    for event, payload in verdict_payloads(batch, judgments).items():
        if emit_event(event=event, resource=model_resource(model_name, version),
                      payload=payload) is None:
            logger.warning("Event %s for %s was not emitted (no Prefect events client)",
                           event, batch)
        else:
            sent += 1
    return sent
