"""What a training run hands back: the registered version, its alias and its test scores,
as the flow's result, its Prefect summary and the metrics file CI reads."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from nids.io import atomic_path
from nids.training.evaluate import Evaluation
from nids.training.promotion import Promotion


class TrainingResult(BaseModel):
    """The training flow's result (also written as the metrics file)."""

    model_name: str
    version: int
    alias: str
    promotion: str   # why the alias was given
    reason: str      # why the run started
    accuracy: float
    macro_f1: float
    weighted_f1: float

    @classmethod
    def of(cls, model_name: str, version: int, promotion: Promotion, reason: str,
           evaluation: Evaluation) -> TrainingResult:
        return cls(model_name=model_name, version=version, alias=promotion.alias,
                   promotion=promotion.reason, reason=reason, **evaluation.metrics())


def summary_markdown(result: TrainingResult, evaluation: Evaluation) -> str:
    """The run's headline scores, registered version and per-class table, as Markdown."""
    per_class = evaluation.per_class.round(4).reset_index()
    header = "| class | precision | recall | f1 | support |\n|---|---|---|---|---|\n"
    rows = "\n".join(f"| {r['class']} | {r.precision} | {r.recall} | {r.f1} | {r.support} |"
                     for _, r in per_class.iterrows())
    return (f"## Training result\n\naccuracy **{result.accuracy:.4f}**, macro-F1 "
            f"**{result.macro_f1:.4f}**, weighted-F1 **{result.weighted_f1:.4f}**\n\n"
            f"Model: version **{result.version}** of `{result.model_name}`; alias: "
            f"{result.alias} ({result.promotion}).\n\n" + header + rows)


def write_metrics_file(result: TrainingResult, path: Path) -> None:
    """The result as JSON, replaced atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(result.model_dump(), indent=2))
