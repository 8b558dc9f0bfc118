"""The champion on the candidate's test split, on a throwaway SQLite store: a retrain on more
data splits anew, so many of its test rows were the champion's training rows, which flatter the
champion. Both are scored on the rows the champion never learnt from (the row hashes logged with
it); a champion registered before those were logged is scored on the whole split, and the reason
says so."""

from pathlib import Path

import pandas as pd
import pytest
from mlflow import MlflowClient

from nids.config import TrainingConfig, XGBoostConfig
from nids.data.schema import LABEL_COLUMN
from nids.tracking import registry
from nids.training.evaluate import evaluate_model
from nids.training.holdout import ComparedMetric, learnt_rows, score_test_split, unseen_rows
from nids.training.promotion import Candidate
from tests.support.candidates import champion_of, make_candidate, register, separable_frame

# The champion memorises the rows it trained on, noisy labels included; the candidate is a
# small model that cannot, but learnt a second kind of rows the champion never saw.
MEMORISING = XGBoostConfig(n_estimators=100, max_depth=10, n_jobs=1, early_stopping_rounds=100,
                           subsample=1, colsample_bytree=1, min_child_weight=0)
SHALLOW = XGBoostConfig(n_estimators=20, max_depth=2, n_jobs=1, early_stopping_rounds=20)


@pytest.fixture(scope="module")
def old_rows() -> pd.DataFrame:
    """810 rows told apart by flow_duration, a fifth of them labelled at random."""
    return separable_frame("flow_duration", times=3, noise=0.2)


@pytest.fixture(scope="module")
def champion(old_rows) -> Candidate:
    return make_candidate(old_rows, MEMORISING)


@pytest.fixture(scope="module")
def retrain(old_rows) -> Candidate:
    """The old rows and 150 new ones, whose classes show in flow_bytes_s, split anew."""
    new_rows = separable_frame("flow_bytes_s", seed=9).sample(150, random_state=0)
    return make_candidate(pd.concat([old_rows, new_rows], ignore_index=True), SHALLOW)


def champion_score_on(frame: pd.DataFrame, model_name: str) -> float:
    """The champion's macro-F1 on `frame`."""
    return evaluate_model(registry.load_bundle(model_name), frame).macro_f1


def test_the_champion_is_scored_on_the_test_rows_it_never_learnt_from(
        mlflow_store, champion, retrain, tmp_path):
    register(champion, tmp_path, "rows-unseen", "champion")
    test = retrain.splits["test"]
    # on the whole split, mostly its own training rows, the champion would win
    assert champion_score_on(test, "rows-unseen") > retrain.evaluation.macro_f1
    unseen = unseen_rows(test, [champion.splits["train"], champion.splits["validation"]])
    assert 0 < len(unseen) < len(test) / 2
    scores = (evaluate_model(retrain.trained.bundle, unseen).macro_f1,
              champion_score_on(unseen, "rows-unseen"))
    reason = register(retrain, tmp_path, "rows-unseen", "retrain")
    assert champion_of("rows-unseen") == "2"
    # every class has 5+ rows among the rows compared: the restriction changes no score here
    compared = ComparedMetric("macro_f1", TrainingConfig().registry.min_class_rows)
    assert reason.startswith(
        "{} {:.4f} beats champion {:.4f} on its test split ".format(compared, *scores)
        + f"({len(unseen)} rows, {len(test) - len(unseen)} champion v1 learnt from left out), "
        "and is not worse on champion v1's holdout")


def test_a_champion_without_its_training_rows_is_scored_on_the_whole_split(
        mlflow_store, champion, retrain, tmp_path):
    register(champion, tmp_path, "rows-old", "champion")
    # as a version registered before the training rows were logged
    run = MlflowClient().get_run(registry.version_by_alias("rows-old", "champion").run_id)
    logged = Path(run.info.artifact_uri.removeprefix("file://")) / registry.TRAINED_ROWS_ARTIFACT
    logged.unlink()
    whole = champion_score_on(retrain.splits["test"], "rows-old")
    reason = register(retrain, tmp_path, "rows-old", "retrain")
    assert champion_of("rows-old") == "1"
    compared = ComparedMetric("macro_f1", TrainingConfig().registry.min_class_rows)
    assert reason.startswith(
        f"{compared} {retrain.evaluation.macro_f1:.4f} does not beat champion {whole:.4f} on its "
        f"test split ({len(retrain.splits['test'])} rows; champion v1 logged no training rows, "
        "so the comparison could not leave them out)")


def test_a_class_of_one_flow_among_the_rows_compared_does_not_count(champion):
    """bench/corpus_learning: a retrain that learnt PortScan lost its promotion on a holdout
    where one flow of a one-flow class, read differently, moved macro-F1 by 0.048."""
    rows = champion.splits["test"].copy()
    rows[LABEL_COLUMN] = rows[LABEL_COLUMN].astype(str)
    rows.loc[0, LABEL_COLUMN] = "Heartbleed"          # one flow of a class the model never saw
    bundle = champion.trained.bundle
    per_class = evaluate_model(bundle, rows).per_class
    others = per_class.drop(index="Heartbleed")
    assert per_class.loc["Heartbleed", "support"] == 1 and (others["support"] >= 5).all()
    every_class = ComparedMetric("macro_f1", 1).score(bundle, rows)
    restricted = ComparedMetric("macro_f1", 5)
    assert every_class == evaluate_model(bundle, rows).macro_f1
    assert restricted.score(bundle, rows) == pytest.approx(others["f1"].mean())
    assert restricted.score(bundle, rows) > every_class
    assert str(restricted) == "macro_f1 (classes with 5+ rows)"
    assert ComparedMetric("accuracy", 5).score(bundle, rows) == evaluate_model(
        bundle, rows).accuracy


def test_the_candidate_is_scored_from_its_test_probabilities_on_the_rows_kept(champion, retrain):
    """The candidate's score on the unseen rows comes from the probabilities of its evaluation,
    without a second prediction: the same figure as scoring those rows again."""
    test, compared = retrain.splits["test"], ComparedMetric("macro_f1", 5)
    trained_rows = learnt_rows(champion.splits)
    scores = score_test_split(test, trained_rows, retrain.trained.bundle,
                              retrain.evaluation.probabilities, champion.trained.bundle, compared)
    unseen = unseen_rows(test, [champion.splits["train"], champion.splits["validation"]])
    assert (scores.rows, scores.left_out) == (len(unseen), len(test) - len(unseen))
    assert scores.candidate == compared.score(retrain.trained.bundle, unseen)
    assert scores.champion == compared.score(champion.trained.bundle, unseen)
