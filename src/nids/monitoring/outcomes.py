"""What the monitoring flow did with each batch: its typed result."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from nids.monitoring.decision import Verdict


class RetrainOutcome(BaseModel):
    """What the monitoring flow did about retraining after a batch asked for it."""

    started: bool
    why: str = Field(description="The gate's reason: why a training run could start, or not.")
    reason: str | None = Field(None, description="The reason given to the training run.")
    mode: Literal["deployment", "subflow"] | None = None
    flow_run: str | None = Field(None, description="Name of the training run.")
    state: str | None = Field(None, description="Its state when the monitoring flow moved on.")
    completed: bool = Field(False, description="The training run completed (it may have moved "
                            "the champion alias).")


class BatchOutcome(BaseModel):
    """What the monitoring flow did with one batch."""

    batch: str
    model_version: str = Field(description="The champion version that scored the batch.")
    verdict: Verdict
    crossed: list[str] = Field(description="Thresholds crossed, in words.")
    health: Literal["healthy", "degraded"] | None = Field(
        None, description="Model health verdict (None: a champion without health models).")
    incident: Literal["incident", "normal"] | None = Field(None, description="Incident verdict.")
    drift: Literal["drift", "ok"] | None = Field(None, description="Data drift verdict.")
    health_crossed: list[str] = Field(default_factory=list, description="Why health degraded.")
    incident_crossed: list[str] = Field(default_factory=list,
                                        description="Abnormal attack shares, with counts.")
    retrain: RetrainOutcome | None = Field(
        None, description="What happened about retraining; None when the verdict did not ask."
    )
