"""Promotion: the candidate against the champion on the same test split, then registration.

A model below the quality floor is refused: its MLflow run stays (failed) with its metrics,
and no version is registered. Otherwise the new version becomes the champion when it scores
better than the champion, the challenger when it does not.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from nids.config import RegistryConfig, TrainingConfig
from nids.tracking import registry, runs
from nids.tracking.registry import CHALLENGER, CHAMPION
from nids.training.evaluate import Evaluation, evaluate_model
from nids.training.monitoring import monitoring_models
from nids.training.reference import reference_sample
from nids.training.train import TrainedModel


@dataclass
class Promotion:
    """The verdict on a candidate model."""

    alias: str | None   # "champion", "challenger", or None when the model is refused
    reason: str

    def raise_if_refused(self) -> None:
        if self.alias is None:
            raise ValueError(f"Model refused: {self.reason}. Raise the data quality or "
                             "lower registry.quality_floor in config/training.yaml.")


def decide_promotion(
    score: float, champion_score: float | None, metric: str, floor: float
) -> Promotion:
    """Champion if it beats the champion on the same test split, challenger otherwise."""
    if score < floor:
        return Promotion(None, f"{metric} {score:.4f} is below the quality floor {floor:.4f}")
    if champion_score is None:
        return Promotion(CHAMPION, f"first model: {metric} {score:.4f}")
    if score > champion_score:
        return Promotion(CHAMPION, f"{metric} {score:.4f} beats champion {champion_score:.4f}")
    return Promotion(
        CHALLENGER, f"{metric} {score:.4f} does not beat champion {champion_score:.4f}"
    )


def champion_score(model_name: str, test_split: pd.DataFrame, metric: str) -> float | None:
    """The current champion's `metric` on this test split; None when there is no champion."""
    champion = registry.load_bundle(model_name)
    if champion is None:
        return None
    return evaluate_model(champion, test_split).metrics()[metric]


def compare_with_champion(evaluation: Evaluation, test_split: pd.DataFrame,
                          config: RegistryConfig) -> Promotion:
    """The verdict on a candidate scored `evaluation` on `test_split`."""
    metric = config.promotion_metric
    return decide_promotion(evaluation.metrics()[metric],
                            champion_score(config.model_name, test_split, metric),
                            metric, config.quality_floor)


def register_candidate(trained: TrainedModel, evaluation: Evaluation, promotion: Promotion,
                       splits: dict[str, pd.DataFrame], config: TrainingConfig,
                       origin: runs.RunOrigin) -> int:
    """Log the training run; unless the model is refused, log its reference sample, register
    it and move the promotion's alias to it. Returns the registered version."""
    with runs.start_training_run(origin.flow_run_id) as run:
        runs.log_training_run(config, trained, evaluation, splits["train"], origin,
                              promotion.reason)
        promotion.raise_if_refused()   # inside the run: the refused run is kept, as failed
        reference = reference_sample(splits["train"], trained.bundle,
                                     config.features.reference_rows, config.features.seed)
        runs.log_reference(reference)
        runs.log_monitoring(*monitoring_models(trained, splits, reference, evaluation,
                                               config.features.seed))
        return runs.register_model(trained, splits["test"], config.registry.model_name,
                                   origin.version_tags(run.info.run_id, evaluation),
                                   promotion.alias)
