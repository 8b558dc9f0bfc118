"""Hyperparameter search with Optuna before the final fit.

Each trial fits XGBoost on the training split with parameters TPE suggests, stopping early on
the validation split's class-weighted log-loss; XGBoost's Optuna callback reports that log-loss
each round, so the median pruner stops a trial that trails the others. The trial's value is the
log-loss at its best round (lower is better), the quantity early stopping already minimises.
Each trial is an MLflow run nested in a `search-...` run, which records the best parameters.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import mlflow
import optuna
import pandas as pd
from optuna_integration import XGBoostPruningCallback

from nids.config import SearchConfig, XGBoostConfig
from nids.data.schema import FEATURE_COLUMNS, LABEL_COLUMN
from nids.training.evaluate import evaluate
from nids.training.features import select_features
from nids.training.splits import class_order
from nids.training.train import eval_metric_key, train_model

logger = logging.getLogger(__name__)

SEARCH_STAGE = "search"   # the `stage` tag of the parent run


@dataclass(frozen=True)
class TrialRecord:
    """One trial as the trials table shows it."""

    number: int
    state: str                        # COMPLETE, PRUNED or FAIL
    validation_logloss: float | None  # at the best round; None when pruned
    validation_macro_f1: float | None
    rounds: int | None
    seconds: float
    params: dict[str, float]


@dataclass(frozen=True)
class SearchResult:
    best: XGBoostConfig               # the base settings with the best trial's values
    best_logloss: float
    trials: list[TrialRecord]
    run_id: str                       # the parent MLflow run

    def table(self) -> list[dict[str, object]]:
        """Rows of the trials table (a Prefect table artifact)."""
        return [{"trial": t.number, "state": t.state, "validation_logloss": t.validation_logloss,
                 "validation_macro_f1": t.validation_macro_f1, "rounds": t.rounds,
                 "seconds": round(t.seconds, 1), **t.params} for t in self.trials]


def suggest_params(trial: optuna.Trial, base: XGBoostConfig) -> XGBoostConfig:
    """The base settings with the searched ones drawn for this trial. `class_weight_power`
    stays as configured: it weights the validation log-loss too, so trials differing in it
    would not be scored alike."""
    return base.model_copy(update={
        "learning_rate": trial.suggest_float("learning_rate", 0.03, 0.3, log=True),
        "max_depth": trial.suggest_int("max_depth", 4, 12),
        "min_child_weight": trial.suggest_float("min_child_weight", 0.5, 10.0, log=True),
        "subsample": trial.suggest_float("subsample", 0.6, 1.0),
        "colsample_bytree": trial.suggest_float("colsample_bytree", 0.5, 1.0),
    })


class Objective:
    """Fits one trial's model on the splits, as a nested MLflow run."""

    def __init__(self, splits: dict[str, pd.DataFrame], base: XGBoostConfig) -> None:
        self.train, self.validation = splits["train"], splits["validation"]
        self.features, _ = select_features(self.train[list(FEATURE_COLUMNS)])
        self.classes = class_order(self.train[LABEL_COLUMN])
        self.base = base

    def __call__(self, trial: optuna.Trial) -> float:
        params = suggest_params(trial, self.base)
        pruning = XGBoostPruningCallback(trial, eval_metric_key(len(self.classes)))
        with mlflow.start_run(run_name=f"trial-{trial.number}", nested=True):
            mlflow.log_params(trial.params)
            try:
                model = train_model(self.train[self.features], self.train[LABEL_COLUMN],
                                    self.validation, self.validation[LABEL_COLUMN],
                                    self.classes, params, callbacks=[pruning])
            except optuna.TrialPruned:
                mlflow.set_tag("state", "PRUNED")
                pruned = True
            else:
                pruned = False
                self.record(trial, model)
        if pruned:
            raise optuna.TrialPruned()
        return trial.user_attrs["validation_logloss"]

    def record(self, trial: optuna.Trial, model) -> None:
        """The trial's validation scores, on its MLflow run and on the Optuna trial."""
        predicted = model.predict(self.validation[self.features].to_numpy())
        names = pd.Series(self.classes).to_numpy(dtype=object)[predicted]
        scores = {"validation_logloss": float(model.best_score),
                  "validation_macro_f1": evaluate(self.validation[LABEL_COLUMN], names).macro_f1,
                  "rounds": model.best_iteration + 1}
        mlflow.log_metrics(scores)
        mlflow.set_tag("state", "COMPLETE")
        for name, value in scores.items():
            trial.set_user_attr(name, value)


def trial_record(trial: optuna.trial.FrozenTrial) -> TrialRecord:
    """A finished (or pruned) Optuna trial as a table row."""
    seconds = (trial.duration.total_seconds() if trial.duration else 0.0)
    attrs = trial.user_attrs
    return TrialRecord(trial.number, trial.state.name, attrs.get("validation_logloss"),
                       attrs.get("validation_macro_f1"), attrs.get("rounds"), seconds,
                       dict(trial.params))


def make_study(settings: SearchConfig) -> optuna.Study:
    """A TPE study (seeded) with a median pruner over the rounds' validation log-loss."""
    return optuna.create_study(
        direction="minimize",
        sampler=optuna.samplers.TPESampler(seed=settings.seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=settings.startup_trials,
                                           n_warmup_steps=10),
    )


def search_params(splits: dict[str, pd.DataFrame], base: XGBoostConfig,
                  settings: SearchConfig, run_name: str = "search-local") -> SearchResult:
    """Search XGBoost's parameters within the trial budget and time limit; every trial is
    an MLflow run nested in the run `run_name`, which logs the best parameters."""
    study, started = make_study(settings), time.monotonic()
    with mlflow.start_run(run_name=run_name) as parent:
        mlflow.set_tag("stage", SEARCH_STAGE)
        mlflow.log_params({"n_trials": settings.n_trials,
                           "timeout_seconds": settings.timeout_seconds})
        study.optimize(Objective(splits, base), n_trials=settings.n_trials,
                       timeout=settings.timeout_seconds, gc_after_trial=True)
        completed = study.get_trials(states=[optuna.trial.TrialState.COMPLETE])
        if not completed:
            raise ValueError(f"No search trial completed within {settings.timeout_seconds} s "
                             "and the trial budget; raise search.timeout_seconds or "
                             "search.n_trials in the training config")
        best = base.model_copy(update=study.best_params)
        mlflow.log_params({f"best_{name}": value for name, value in study.best_params.items()})
        mlflow.log_metrics({"best_validation_logloss": study.best_value,
                            "trials_completed": len(completed),
                            "trials_pruned": len(study.trials) - len(completed)})
    logger.info("Search: %d trials (%d pruned) in %.0f s, best validation log-loss %.4f with "
                "%s", len(study.trials), len(study.trials) - len(completed),
                time.monotonic() - started, study.best_value, study.best_params)
    return SearchResult(best, study.best_value, [trial_record(t) for t in study.trials],
                        parent.info.run_id)
