"""Typed settings of the three judgments of a batch (part of MonitoringConfig)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class RangeOverride(BaseModel):
    """A hand-set range for one statistic (config), replacing the calibrated one."""

    model_config = ConfigDict(extra="forbid")
    low: float | None = None
    high: float | None = None


class JudgmentSettings(BaseModel):
    """How the three judgments (health, incident, drift) act; part of MonitoringConfig."""

    model_config = ConfigDict(extra="forbid")
    min_support: int = Field(50, ge=1, description="Rows a class needs to count (labels).")
    max_recall_drop: float = Field(0.2, ge=0, le=1, description="Tolerated drop of a class's "
                                   "recall below the champion's test recall (labels).")
    max_macro_f1_drop: float = Field(0.1, ge=0, le=1, description="Tolerated macro-F1 drop "
                                     "below the champion's over the same classes (labels).")
    drift_action: Literal["report", "alert", "retrain"] = Field(
        "report", description="What data drift alone does: report it, alert, or retrain.")
    sample_rows: int = Field(50_000, ge=1_000, description="Rows of a larger batch the "
                             "label-free statistics (calibration, novelty) are computed on.")
    overrides: dict[str, RangeOverride] = Field(
        default_factory=dict, description='Hand-set ranges, e.g. {"novel_share": {"high": 0.2}}.')
