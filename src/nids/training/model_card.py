"""The model card of a registered version: what it learnt, how good it is, where it fails,
what it is for, on one Markdown page.

The training flow logs it with the version's run (`model_card/model_card.md`) and shows it as a
Prefect artifact; this command prints it for a version number or alias:

    python -m nids.training.model_card cicids2017-xgboost@champion
    python -m nids.training.model_card cicids2017-xgboost@3
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import mlflow
import pandas as pd
from mlflow.exceptions import MlflowException

from nids.monitoring.thresholds import Thresholds
from nids.tracking.lineage import DVC, ModelLineage, find_version
from nids.tracking.registry import tracking_uri
from nids.training.day_evaluation import DayEvaluation
from nids.training.evaluate import Evaluation
from nids.training.intervals import MACRO_F1

CARD_ARTIFACT = "model_card/model_card.md"
THRESHOLDS_ARTIFACT = "monitoring/thresholds.json"
INTENDED_USE = (
    "Sorts network flows (CICFlowMeter features, as in CICIDS2017) into benign traffic and the "
    "attack classes it learnt, to rank alerts for an analyst on a network like the one it was "
    "trained on. Not for: blocking traffic on its own verdict, networks or tools whose flows "
    "differ from the training data without evaluating it there first, or attacks of classes it "
    "never learnt (the day-based evaluation shows what those meet: they are called benign or "
    "another class). Its scores on the random test split are an upper bound; the day-based "
    "figures are closer to what a later day brings.")


@dataclass(frozen=True)
class CardFacts:
    """Everything the card shows about one version."""

    lineage: ModelLineage
    alias: str
    promotion: str
    data_source: str
    split_rows: dict[str, int]       # rows of each split
    class_rows: pd.DataFrame         # training and test rows per class
    params: dict[str, object]        # XGBoost's settings of the final fit
    searched: str | None             # how the settings were searched, None: configured
    evaluation: Evaluation           # on the random test split
    intervals: pd.DataFrame | None   # f1, low, high per class and macro_f1
    day: DayEvaluation | None
    day_note: str                    # why there is no day-based evaluation
    top_features: pd.Series          # average gain by feature
    thresholds: dict | None          # calibrated by monitoring, when it stored them
    low_recall: float
    few_rows: int


def table(frame: pd.DataFrame) -> str:
    """A frame as a Markdown table (numbers rounded to 4 places)."""
    frame = frame.reset_index().round(4)
    lines = ["| " + " | ".join(map(str, frame.columns)) + " |",
             "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def with_interval(score: float, intervals: pd.DataFrame | None, name: str) -> str:
    if intervals is None or name not in intervals.index:
        return f"{score:.4f}"
    row = intervals.loc[name]
    return f"{score:.4f} [{row.low:.4f}, {row.high:.4f}]"


def data_section(facts: CardFacts) -> str:
    data, git = facts.lineage.data, facts.lineage.data.git
    version = (f"{data.dvc_file}, DVC md5 `{data.digest}`" if data.source == DVC
               else f"not versioned by DVC; ingest fingerprint `{data.digest}`")
    rows = ", ".join(f"{name} {count:,}" for name, count in facts.split_rows.items())
    return "\n".join([
        "## Data", f"- source: {facts.data_source} rows; data version: {version}",
        f"- code: git commit `{git.commit}`" + (" plus uncommitted changes" if git.dirty else ""),
        f"- training run: `{facts.lineage.run_id}`",
        f"- rows: {rows}; classes: {len(facts.class_rows)}", "", table(facts.class_rows)])


def scores_section(facts: CardFacts) -> str:
    evaluation, intervals = facts.evaluation, facts.intervals
    per_class = evaluation.per_class[["precision", "recall", "f1", "support"]].copy()
    if intervals is not None:
        per_class["f1 interval"] = [
            f"[{intervals.at[n, 'low']:.4f}, {intervals.at[n, 'high']:.4f}]"
            if n in intervals.index else "" for n in per_class.index]
    level = "" if intervals is None else " (bootstrap intervals of the test rows)"
    return "\n".join([
        "## Scores on the random test split" + level,
        f"accuracy {evaluation.accuracy:.4f}, macro-F1 "
        f"{with_interval(evaluation.macro_f1, intervals, MACRO_F1)}, weighted-F1 "
        f"{evaluation.weighted_f1:.4f}", "", table(per_class)])


def scored_note(day: DayEvaluation) -> str:
    """How many of the later days' rows were scored, when a cap left some out."""
    if day.scored_rows == day.test_rows:
        return ""
    return (f"; {day.scored_rows:,} of them scored, at most {day.test_rows_per_class:,} of a "
            "class, weighted up to the rows of their class")


def day_section(facts: CardFacts) -> str:
    day = facts.day
    if day is None:
        return f"## Day-based evaluation\nNot run: {facts.day_note}"
    return "\n".join([
        "## Day-based evaluation",
        f"A model of the same settings trained on {', '.join(day.train_days)} "
        f"({day.train_rows:,} rows) and scored on {', '.join(day.test_days)} "
        f"({day.test_rows:,} rows{scored_note(day)}): macro-F1 {day.macro_f1:.4f}. Classes "
        "not in training cannot be named (recall 0); `detected` is the share of a class's "
        "rows called an attack of any class (for BENIGN, the false alarms).", "",
        table(day.per_class[["recall", "detected", "precision", "support", "in_training"]])])


def thresholds_section(thresholds: dict | None) -> str:
    if not thresholds:
        return "## Monitoring thresholds\nNone calibrated for this version yet."
    return "## Monitoring thresholds\n" + Thresholds.model_validate(thresholds).markdown()


def weaknesses(facts: CardFacts) -> list[str]:
    """Per class, why it is weak: low test recall, few training rows, or absent from the
    training days."""
    found: dict[str, list[str]] = {}
    recall = facts.evaluation.per_class["recall"]
    for name, value in recall[recall < facts.low_recall].items():
        found.setdefault(name, []).append(f"recall {value:.4f} on the test split")
    train_rows = facts.class_rows["training rows"]
    for name, count in train_rows[train_rows < facts.few_rows].items():
        found.setdefault(name, []).append(f"only {count} training rows")
    if facts.day is not None:
        unseen = facts.day.per_class[~facts.day.per_class["in_training"]]
        for name, row in unseen.iterrows():
            found.setdefault(name, []).append(
                f"absent from {', '.join(facts.day.train_days)}: {row.detected:.4f} of its "
                "rows on the later days called an attack")
    return [f"{name}: {'; '.join(reasons)}" for name, reasons in found.items()]


def render_card(facts: CardFacts) -> str:
    """The model card as Markdown."""
    lineage = facts.lineage
    params = pd.DataFrame({"value": {k: str(v) for k, v in facts.params.items()}})
    params = params.rename_axis("setting")
    found = weaknesses(facts) or ["none below the card's limits"]
    return "\n\n".join([
        f"# Model card: {lineage.model_name} version {lineage.version} ({facts.alias})",
        f"Promotion: {facts.promotion}", "## Intended use\n" + INTENDED_USE,
        data_section(facts),
        "## Parameters\n" + (facts.searched or "As configured (no search).") + "\n\n"
        + table(params),
        scores_section(facts), day_section(facts),
        "## Top features by gain\n" + table(facts.top_features.rename("average gain")
                                            .rename_axis("feature").to_frame()),
        thresholds_section(facts.thresholds),
        f"## Known weaknesses\nClasses below recall {facts.low_recall} or "
        f"{facts.few_rows} training rows:\n" + "\n".join(f"- {line}" for line in found),
    ]) + "\n"


def read_thresholds(run_id: str) -> dict | None:
    """The monitoring thresholds stored with a training run, or None when there are none."""
    with tempfile.TemporaryDirectory() as folder:
        try:
            path = mlflow.artifacts.download_artifacts(
                run_id=run_id, artifact_path=THRESHOLDS_ARTIFACT, dst_path=folder)
        except (MlflowException, OSError):
            return None
        return json.loads(Path(path).read_text(encoding="utf-8"))


def stored_card(model_name: str, version_or_alias: str) -> str:
    """The card logged with a version; monitoring thresholds calibrated after it was written
    are added at the end."""
    version = find_version(model_name, version_or_alias)
    card = mlflow.artifacts.load_text(f"runs:/{version.run_id}/{CARD_ARTIFACT}")
    thresholds = read_thresholds(version.run_id)
    if thresholds and "None calibrated" in card:
        card += "\n" + thresholds_section(thresholds).replace(
            "## Monitoring thresholds", "## Monitoring thresholds (calibrated later)") + "\n"
    return card


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nids.training.model_card",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="name@alias or name@version, e.g. "
                        "cicids2017-xgboost@champion")
    args = parser.parse_args(argv)
    name, _, version = args.model.rpartition("@")
    if not name or not version:
        parser.error(f"{args.model!r}: give the model as name@alias or name@version")
    mlflow.set_tracking_uri(tracking_uri())
    try:
        card = stored_card(name, version)
    except (MlflowException, OSError) as error:
        sys.stderr.write(f"{args.model}: no model card ({error})\n")
        return 1
    sys.stdout.write(card)
    return 0


if __name__ == "__main__":
    sys.exit(main())
