"""What a registered version gets beside its test scores: bootstrap intervals, the day-based
evaluation, precision-recall curves and feature importance, and its model card.

`take_later_days` takes the day-based model's rows from the ingested frame (the frame can then
go) and `measure_later_days` fits and scores that model (it needs neither the main model nor
its splits, so the flow runs it beside the main fit); `measure_version` computes the rest before
registration (nothing is logged if either fails); `publish_version` logs them to the version's
training run once the version exists.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import mlflow
import pandas as pd
from matplotlib.figure import Figure
from mlflow import MlflowClient
from mlflow.entities import Metric

from nids.config import TrainingConfig
from nids.data.schema import LABEL_COLUMN
from nids.tracking.lineage import lineage_of
from nids.tracking.registry import best_classes
from nids.training.day_evaluation import (
    DayEvaluation,
    DayRows,
    day_rows,
    evaluate_day_rows,
    missing_days,
)
from nids.training.evaluate import Evaluation
from nids.training.figures import gain_importance, plot_importance, plot_precision_recall
from nids.training.intervals import f1_intervals, interval_metrics
from nids.training.model_card import CARD_ARTIFACT, CardFacts, read_thresholds, render_card
from nids.training.search import SEARCH_STAGE
from nids.training.train import TrainedModel

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LaterDayRows:
    """The day-based evaluation's rows, or why there is none."""

    rows: DayRows | None
    note: str   # why there is none; empty when there are rows


@dataclass(frozen=True)
class LaterDays:
    """The day-based evaluation, or why there is none."""

    evaluation: DayEvaluation | None
    note: str   # why there is none; empty when there is one


@dataclass
class VersionMeasures:
    """Figures of a trained model measured before it is registered."""

    intervals: pd.DataFrame | None
    day: DayEvaluation | None
    day_note: str
    figures: dict[str, Figure]        # artifact file name -> figure
    top_features: pd.Series
    split_rows: dict[str, int]
    class_rows: pd.DataFrame

    def metrics(self) -> dict[str, float]:
        intervals = {} if self.intervals is None else interval_metrics(self.intervals)
        return intervals | (self.day.metrics() if self.day is not None else {})


def class_rows(splits: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Training and test rows of each class."""
    counts = {"training rows": splits["train"][LABEL_COLUMN].value_counts(),
              "test rows": splits["test"][LABEL_COLUMN].value_counts()}
    return pd.DataFrame(counts).fillna(0).astype(int).rename_axis("class")


def day_note(frame: pd.DataFrame, config: TrainingConfig) -> str:
    split = config.evaluation.by_day
    if not split.train_days or not split.test_days:
        return "no train_days/test_days in evaluation.by_day of the training config"
    return f"no rows of {', '.join(missing_days(frame, split))} in the training data"


def take_later_days(frame: pd.DataFrame, config: TrainingConfig) -> LaterDayRows:
    """The day-based evaluation's rows of `frame`, the ingested rows with their `day`."""
    rows = day_rows(frame, config.evaluation.by_day, config.features)
    return LaterDayRows(rows, "" if rows is not None else day_note(frame, config))


def measure_later_days(taken: LaterDayRows, config: TrainingConfig) -> LaterDays:
    """The day-based evaluation of the model's settings on the rows `take_later_days` took."""
    if taken.rows is None:
        return LaterDays(None, taken.note)
    started = time.monotonic()
    day = evaluate_day_rows(taken.rows, config.evaluation.by_day, config.model)
    logger.info("Day-based evaluation in %.0f s", time.monotonic() - started)
    return LaterDays(day, "")


def measure_version(splits: dict[str, pd.DataFrame], trained: TrainedModel,
                    evaluation: Evaluation, later_days: LaterDays,
                    config: TrainingConfig) -> VersionMeasures:
    """Intervals and figures of a trained model, beside its day-based evaluation;
    `evaluation` is the model's scores on the test split."""
    test, settings, probabilities = splits["test"], config.evaluation, evaluation.probabilities
    names, _ = best_classes(trained.bundle, probabilities)
    intervals = (f1_intervals(test[LABEL_COLUMN], names, settings.bootstrap_resamples,
                              settings.confidence, config.features.seed)
                 if settings.bootstrap_resamples else None)
    figures = {"precision_recall.png": plot_precision_recall(test, probabilities,
                                                             trained.classes),
               "feature_importance.png": plot_importance(trained.model)}
    return VersionMeasures(intervals, later_days.evaluation, later_days.note, figures,
                           gain_importance(trained.model),
                           {name: len(split) for name, split in splits.items()},
                           class_rows(splits))


def search_note(config: TrainingConfig, flow_run_id: str | None) -> str | None:
    """How the parameters were searched (the search run of this flow run), None: not."""
    if not config.search.enabled:
        return None
    found = mlflow.search_runs(
        filter_string=f"tags.stage = '{SEARCH_STAGE}' and "
                      f"attributes.run_name = 'search-{flow_run_id or 'local'}'",
        output_format="list", max_results=1)
    run = f" (MLflow run `{found[0].info.run_id}`, one nested run per trial)" if found else ""
    return (f"Searched with Optuna: at most {config.search.n_trials} trials in "
            f"{config.search.timeout_seconds:.0f} s, pruned on the validation split{run}.")


def log_to_run(client: MlflowClient, run_id: str, measures: VersionMeasures, card: str) -> None:
    """The measures' metrics and figures, and the card, on the training run."""
    stamp = int(time.time() * 1000)
    client.log_batch(run_id, metrics=[Metric(key, float(value), stamp, 0)
                                      for key, value in measures.metrics().items()])
    for name, figure in measures.figures.items():
        client.log_figure(run_id, figure, name)
    if measures.day is not None:
        client.log_table(run_id, measures.day.per_class.reset_index(), "day_evaluation.json")
    client.log_text(run_id, card, CARD_ARTIFACT)


def publish_version(measures: VersionMeasures, evaluation: Evaluation, trained: TrainedModel,
                    config: TrainingConfig, version: int, alias: str, promotion: str,
                    flow_run_id: str | None) -> str:
    """Log the measures and the model card with the version's run; returns the card."""
    client = MlflowClient()
    model_version = client.get_model_version(config.registry.model_name, str(version))
    lineage = lineage_of(model_version)
    facts = CardFacts(
        lineage, alias, promotion, model_version.tags.get("data_source", "unrecorded"),
        measures.split_rows, measures.class_rows,
        config.model.model_dump() | {"best_iteration": trained.model.best_iteration},
        search_note(config, flow_run_id), evaluation, measures.intervals, measures.day,
        measures.day_note, measures.top_features, read_thresholds(lineage.run_id),
        config.evaluation.low_recall, config.evaluation.few_rows)
    card = render_card(facts)
    log_to_run(client, lineage.run_id, measures, card)
    client.set_model_version_tag(config.registry.model_name, str(version), "model_card",
                                 CARD_ARTIFACT)
    return card
