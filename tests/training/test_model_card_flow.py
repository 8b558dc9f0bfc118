"""End-to-end: the training flow with the search on logs nested trial runs, trains on the
best settings and logs a model card, intervals, day-based metrics and figures with the version;
the CLI prints the card."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pytest
from mlflow import MlflowClient

from flows.training import training_flow
from nids.training import model_card
from nids.training.model_card import CARD_ARTIFACT

pytestmark = pytest.mark.slow
MODEL = "e2e-card"


def test_searched_model_gets_a_card_with_intervals_and_day_evaluation(
        prefect_api, store: Path, small_training_config, capsys) -> None:
    config = small_training_config(store, MODEL, n_estimators=30)
    config.search.n_trials, config.search.startup_trials = 3, 1
    config.evaluation.bootstrap_resamples = 50
    config.evaluation.by_day.train_days = ["Monday", "Tuesday", "Wednesday"]
    config.evaluation.by_day.test_days = ["Thursday", "Friday"]
    result = training_flow(config=config, reason="e2e", search=True)

    client = MlflowClient()
    [search_run] = mlflow.search_runs(filter_string="tags.stage = 'search'",
                                      output_format="list")
    trials = mlflow.search_runs(
        filter_string=f"tags.mlflow.parentRunId = '{search_run.info.run_id}'",
        output_format="list")
    assert len(trials) == 3
    best = {k.removeprefix("best_"): v for k, v in search_run.data.params.items()
            if k.startswith("best_")}
    version = client.get_model_version(MODEL, str(result.version))
    run = client.get_run(version.run_id)
    assert best and all(run.data.params[name] == value for name, value in best.items())

    metrics = run.data.metrics
    assert metrics["test_macro_f1_low"] <= metrics["macro_f1"] <= metrics["test_macro_f1_high"]
    assert {"day_macro_f1", "day_unseen_classes", "day_recall_BENIGN"} <= set(metrics)
    artifacts = {a.path for a in client.list_artifacts(version.run_id)}
    assert {"precision_recall.png", "feature_importance.png", "confusion_matrix.png",
            "day_evaluation.json", "model_card"} <= artifacts
    assert version.tags["model_card"] == CARD_ARTIFACT

    assert model_card.main([f"{MODEL}@champion"]) == 0
    card = capsys.readouterr().out
    for heading in ("## Intended use", "## Data", "## Scores on the random test split",
                    "## Day-based evaluation", "## Top features by gain",
                    "## Known weaknesses", "Searched with Optuna"):
        assert heading in card
    assert f"version {result.version} (champion)" in card
    # the monitoring thresholds calibrated for this version when it was trained
    thresholds = card.split("## Monitoring thresholds", 1)[1]
    assert thresholds.lstrip().startswith("Normal ranges from")
    assert "| estimated_accuracy |" in thresholds and "| attack_share |" in thresholds
    assert client.list_artifacts(version.run_id, "monitoring")  # where monitoring reads them


def test_the_card_cli_names_a_missing_version(store: Path, capsys) -> None:
    assert model_card.main([f"{MODEL}@champion"]) == 1
    assert f"{MODEL}@champion" in capsys.readouterr().err
