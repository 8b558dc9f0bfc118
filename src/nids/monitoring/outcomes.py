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
    presumed_crashed: list[str] = Field(
        default_factory=list, description="Training runs still 'Running' past "
        "retrain.max_training_hours: reported, and not counted as in progress.",
    )
    unchanged_data: bool = Field(
        False, description="Not started because the training data would be the champion's "
        "exact data (same fingerprint): a new model could only repeat it.",
    )


class AlertOutcome(BaseModel):
    """What became of an alert: sent (after retries), or not, and why."""

    subject: str
    channel: str = Field(description="Block name, masked webhook URL, or 'log'.")
    delivered: bool
    error: str | None = Field(None, description="The last error of a channel that failed.")


class BatchOutcome(BaseModel):
    """What the monitoring flow did with one batch."""

    batch: str
    status: Literal["checked", "rejected", "changing"] = Field(
        "checked", description="checked: scored and reported; rejected: moved to rejected/ "
        "with an error file; changing: still being written, put back for the next run.",
    )
    location: str | None = Field(None, description="Where the batch file is now.")
    model_version: str | None = Field(None, description="The champion version that scored it.")
    verdict: Verdict | None = Field(None, description="None when the batch was not checked.")
    crossed: list[str] = Field(default_factory=list, description="Thresholds crossed, in words.")
    problem: str | None = Field(None, description="Why a rejected batch was refused.")
    alerts: list[AlertOutcome] = Field(
        default_factory=list, description="The alerts the batch raised (rejection, incident, "
        "degraded health, drift where config says), each sent or not.")
    health: Literal["healthy", "degraded"] | None = Field(
        None, description="Model health verdict (None: a champion without health models).")
    incident: Literal["incident", "normal"] | None = Field(None, description="Incident verdict.")
    drift: Literal["drift", "ok"] | None = Field(None, description="Data drift verdict.")
    health_crossed: list[str] = Field(default_factory=list, description="Why health degraded.")
    labels_asked: list[str] = Field(default_factory=list, description="What asks for labels "
                                    "without degrading health (a port surge, unlabelled).")
    incident_crossed: list[str] = Field(default_factory=list,
                                        description="Abnormal attack shares, with counts.")
    retrain: RetrainOutcome | None = Field(
        None, description="What happened about retraining; None when the verdict did not ask."
    )
    corpus_partition: str | None = Field(
        None, description="The corpus partition a labelled batch became (nids.data.corpus).",
    )
    label_request: str | None = Field(
        None, description="Labels needed: the label request written for an unlabelled batch "
        "(nids.monitoring.label_requests) instead of a retrain that could learn nothing new.",
    )
