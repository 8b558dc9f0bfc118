"""The Optuna search: trials as nested MLflow runs, the best settings logged and returned."""

import mlflow
import pytest

from nids.config import LabelGrouping, SearchConfig, XGBoostConfig
from nids.training.search import search_params
from nids.training.splits import build_splits

BASE = XGBoostConfig(n_estimators=15, early_stopping_rounds=5, n_jobs=1, max_bin=64)
SEARCHED = {"learning_rate", "max_depth", "min_child_weight", "subsample", "colsample_bytree"}


@pytest.fixture(scope="module")
def splits(learnable_days_frame):
    frame = learnable_days_frame({"Tuesday": ["BENIGN"] * 150 + ["FTP-Patator"] * 60,
                                  "Wednesday": ["DoS Hulk"] * 60})
    return build_splits(frame, LabelGrouping.LABELS, 0.2, 0.2, None, seed=0)


def test_each_trial_is_a_nested_run_and_the_best_settings_are_logged(mlflow_store, splits):
    settings = SearchConfig(enabled=True, n_trials=4, startup_trials=2, timeout_seconds=300)
    result = search_params(splits, BASE, settings, run_name="search-test")

    parent = mlflow.get_run(result.run_id)
    assert parent.info.run_name == "search-test" and parent.data.tags["stage"] == "search"
    trials = mlflow.search_runs(filter_string=f"tags.mlflow.parentRunId = '{result.run_id}'",
                                output_format="list")
    assert len(trials) == len(result.trials) == 4
    assert {t.data.tags["state"] for t in trials} <= {"COMPLETE", "PRUNED"}
    best_params = {k.removeprefix("best_") for k in parent.data.params if k.startswith("best_")}
    assert best_params == SEARCHED
    completed = [t for t in result.trials if t.state == "COMPLETE"]
    assert result.best_logloss == min(t.validation_logloss for t in completed)
    assert parent.data.metrics["best_validation_logloss"] == pytest.approx(result.best_logloss)
    # the settings not searched are the base's
    assert result.best.model_dump(exclude=SEARCHED) == BASE.model_dump(exclude=SEARCHED)
    assert result.best.learning_rate == float(parent.data.params["best_learning_rate"])
    rows = result.table()
    assert [row["trial"] for row in rows] == [0, 1, 2, 3] and SEARCHED <= set(rows[0])


def test_the_search_is_repeatable_by_seed(mlflow_store, splits):
    settings = SearchConfig(enabled=True, n_trials=2, startup_trials=2, seed=7)
    first = search_params(splits, BASE, settings, run_name="search-a")
    second = search_params(splits, BASE, settings, run_name="search-b")
    assert first.best == second.best
