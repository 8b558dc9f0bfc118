"""Security incident: the predicted attack mix far outside the champion's normal range.

An incident is the model doing its job on an attack: it is alerted on, naming the classes and
their counts, and starts no retraining.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from nids.monitoring.health import BatchStatistics
from nids.monitoring.judgment_settings import RangeOverride
from nids.monitoring.thresholds import Thresholds

IncidentVerdict = Literal["incident", "normal"]


class IncidentJudgment(BaseModel):
    """The incident verdict of a batch: which attack shares are abnormal, with counts."""

    verdict: IncidentVerdict
    attack_share: float
    attack_counts: dict[str, int] = Field(description="Rows predicted per attack class.")
    crossed: list[str] = Field(description="Abnormal attack shares, in words.")

    def markdown(self) -> str:
        counts = ", ".join(f"{name} {count}" for name, count in self.attack_counts.items())
        lines = [f"### Security incident: **{self.verdict}**", "",
                 f"- predicted attack share {self.attack_share:.3f} ({counts or 'no attacks'})"]
        lines += [f"- **crossed:** {text}" for text in self.crossed]
        return "\n".join(lines) + "\n"

    def alert_text(self, batch: str) -> str:
        """The incident alert: the abnormal classes and their counts."""
        return f"Security incident in {batch}: " + "; ".join(self.crossed)


def _crossed(statistic: str, value: float, limit: float | None, count: int | None) -> str | None:
    if limit is None or value <= limit:
        return None
    name = "all attacks" if statistic == "attack_share" else statistic.removeprefix("share:")
    rows = "" if count is None else f" ({count} rows)"
    return f"{name}: share {value:.3f}{rows} > normal {limit:.3f}"


def judge_incident(statistics: BatchStatistics, classes: list[str], thresholds: Thresholds,
                   overrides: dict[str, RangeOverride]) -> IncidentJudgment:
    """Incident when the total attack share or any attack class's share is above its range."""
    values = statistics.values(classes)
    crossed = []
    for name, value in values.items():
        if name != "attack_share" and not name.startswith("share:"):
            continue
        count = statistics.class_counts.get(name.removeprefix("share:"), 0) \
            if name.startswith("share:") else int(round(value * statistics.rows))
        text = _crossed(name, value, thresholds.limit(name, statistics.rows, overrides), count)
        if text:
            crossed.append(text)
    return IncidentJudgment(verdict="incident" if crossed else "normal",
                            attack_share=statistics.attack_share,
                            attack_counts=statistics.class_counts, crossed=crossed)
