"""Monitoring over time: where the Evidently workspace lives, and how long history is kept.

Both the HTML reports (reports/drift/) and the workspace's snapshots follow one retention rule,
counted back from the newest item rather than from the wall clock, so that replaying an old
backlog keeps the batches it just checked: an item is kept while it is among the `keep_runs`
newest and no more than `keep_days` older than the newest one.

Measured on real CICIDS2017 rows (78 feature columns, bench/dashboard.py): an HTML report takes
2.7 MB and a workspace snapshot 0.3 MB. The local Evidently UI holds every snapshot of a
project in memory and loads them on its first request after a start: 720 snapshots (30 days of
hourly batches) took 1.7 GB and 90 s, 168 (a week) 0.64 GB and 20 s. Hence the defaults: at
most 168 batches and 30 days, about 0.5 GB of reports and 50 MB of snapshots per model.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from datetime import datetime, timedelta
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field

Key = TypeVar("Key", bound=Hashable)


class HistorySettings(BaseModel):
    """The Evidently workspace and dashboard of the monitoring flow, and their retention."""

    model_config = ConfigDict(extra="forbid")

    workspace_dir: str = Field(
        "reports/workspace",
        description="Evidently workspace: one project per registered model, one snapshot per "
        "batch (served by `evidently ui`, which `make serve` starts).",
    )
    dashboard_url: str | None = Field(
        "http://127.0.0.1:8001",
        description="Where the Evidently UI serves the workspace (make serve: "
        "NIDS_EVIDENTLY_PORT; compose: EVIDENTLY_PORT); linked from reports/index.html.",
    )
    most_drifted_columns: int = Field(
        5, ge=1, le=30, description="Columns the dashboard draws one line each for: the most "
        "drifted of the latest batch (score relative to its threshold).",
    )
    keep_days: float | None = Field(
        30, gt=0, description="Drop reports and snapshots older than the newest by more than "
        "this many days (none: no age limit).",
    )
    keep_runs: int | None = Field(
        168, ge=1, description="Keep at most this many reports and snapshots per model "
        "(none: no count limit). The Evidently UI holds them all in memory: about 0.6 GB "
        "for 168, 1.7 GB for 720.",
    )


def expired(times: Mapping[Key, datetime], keep_days: float | None,
            keep_runs: int | None) -> list[Key]:
    """The keys to drop, oldest first: beyond the `keep_runs` newest or more than `keep_days`
    older than the newest time."""
    ordered = sorted(times, key=lambda key: times[key], reverse=True)
    if not ordered:
        return []
    newest = times[ordered[0]]
    dropped = []
    for rank, key in enumerate(ordered):
        too_many = keep_runs is not None and rank >= keep_runs
        too_old = keep_days is not None and newest - times[key] > timedelta(days=keep_days)
        if too_many or too_old:
            dropped.append(key)
    return dropped[::-1]
