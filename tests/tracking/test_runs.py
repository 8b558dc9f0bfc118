"""A training run in MLflow, on a throwaway SQLite store: what a registered candidate leaves
(run, tags, artifacts, holdout, version, alias), what a refused one leaves (a failed run only),
how a later candidate is weighed against the champion, and what a registration that fails half
way leaves (no candidate: a version tagged failed, the alias where it was)."""


import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from nids.config import DataSource, XGBoostConfig
from nids.data.schema import LABEL_COLUMN, PREDICTION_COLUMN
from nids.tracking import registry, runs
from nids.tracking.runs import RunOrigin
from nids.training.holdout import learnt_rows
from nids.training.promotion import (
    Candidate,
    Evidence,
    compare_with_champion,
    decide_promotion,
    register_candidate,
)
from tests.support.candidates import (
    champion_of,
    make_candidate,
    monitoring_of,
    register,
    separable_frame,
    training_config,
)


@pytest.fixture(scope="module")
def candidate() -> Candidate:
    return make_candidate(separable_frame("flow_duration"))


@pytest.fixture(scope="module")
def first(mlflow_store, candidate, tmp_path_factory):
    """The candidate registered as the first version of its model: (promotion, version,
    origin, the registered version)."""
    folder = tmp_path_factory.mktemp("first")
    config = training_config(folder, "runs-first")
    origin = RunOrigin.of("test", None, folder / "raw", "fingerprint-1")
    promotion = compare_with_champion(candidate, config.registry)
    version = register_candidate(candidate, promotion, config, origin,
                                 monitoring_of(candidate, config))
    return promotion, version, origin, registry.version_by_alias("runs-first", "champion")


def test_a_first_candidate_becomes_champion_as_version_one(first, candidate):
    promotion, version, _, registered = first
    assert promotion.alias == registry.CHAMPION and "first model" in promotion.reason
    assert version == 1 and str(registered.version) == "1"
    assert registered.tags["training_run_id"] == registered.run_id
    assert (registered.tags["reason"], registered.tags["data_fingerprint"]) == (
        "test", "fingerprint-1")
    assert registered.tags["test_macro_f1"] == f"{candidate.evaluation.macro_f1:.6f}"
    assert registered.tags["data_version_source"] == "fingerprint"
    assert (registered.tags["data_source"], registered.tags["label_grouping"],
            registered.tags["status"]) == ("real", "labels", "ready")


def test_the_run_records_parameters_metrics_tags_data_and_artifacts(first, candidate):
    promotion, _, origin, registered = first
    trained, evaluation = candidate.trained, candidate.evaluation
    run = mlflow.get_run(registered.run_id)
    assert run.info.run_name == "training-local" and run.info.status == "FINISHED"
    assert run.data.params["features"] == str(len(trained.features))
    assert run.data.params["label_grouping"] == "labels"
    assert run.data.metrics["macro_f1"] == pytest.approx(evaluation.macro_f1)
    assert {"best_iteration", "test_f1_BENIGN", "test_f1_PortScan"} <= set(run.data.metrics)
    assert run.data.tags["promotion"] == promotion.reason
    assert run.data.tags["data_source"] == "real"
    assert run.data.tags["prefect_flow_run_id"] == "None"   # outside Prefect
    [dataset] = run.inputs.dataset_inputs
    assert dataset.dataset.digest == origin.data_version.dataset_digest
    artifacts = {a.path for a in MlflowClient().list_artifacts(run.info.run_id)}
    assert {"confusion_matrix.png", "per_class_metrics.json", "reference", "holdout"} <= artifacts


def test_the_test_split_is_kept_as_the_versions_holdout(first, candidate, tmp_path):
    *_, registered = first
    holdout = registry.download_holdout(registered.run_id, tmp_path)
    pd.testing.assert_frame_equal(holdout, candidate.splits["test"])


def test_the_rows_the_version_learnt_from_are_kept_as_hashes(first, candidate, tmp_path):
    *_, registered = first
    trained_rows = registry.download_trained_rows(registered.run_id, tmp_path)
    assert trained_rows.dtype == np.uint64
    np.testing.assert_array_equal(trained_rows, np.unique(learnt_rows(candidate.splits)))
    splits = candidate.splits
    assert len(trained_rows) <= len(splits["train"]) + len(splits["validation"])


def test_the_reference_sample_carries_the_models_predictions(first, tmp_path):
    *_, registered = first
    reference = registry.download_reference(registered.run_id, tmp_path)
    assert len(reference) == 100 and {PREDICTION_COLUMN, "probability", LABEL_COLUMN} <= set(
        reference.columns)
    expected, _ = registry.predict_classes(registry.load_bundle("runs-first"), reference)
    assert reference[PREDICTION_COLUMN].tolist() == expected.tolist()


def test_the_same_scores_do_not_beat_the_champion(first, candidate, tmp_path):
    config = training_config(tmp_path, "runs-first")
    again = compare_with_champion(candidate, config.registry)
    assert again.alias == registry.CHALLENGER and "does not beat champion" in again.reason


def test_a_refused_candidate_leaves_a_failed_run_and_no_version(
        mlflow_store, candidate, tmp_path):
    evaluation = candidate.evaluation
    config = training_config(tmp_path, "runs-refused")
    refused = decide_promotion(Evidence("macro_f1", evaluation.macro_f1),
                               floor=evaluation.macro_f1 + 0.01)
    origin = RunOrigin.of("refused", None, tmp_path / "raw", "fingerprint-2")
    with pytest.raises(ValueError, match="Model refused: .*quality floor"):
        register_candidate(candidate, refused, config, origin, None)

    [run] = mlflow.search_runs([mlflow_store.experiment_id], "tags.reason = 'refused'",
                               output_format="list")
    assert run.info.status == "FAILED"
    assert run.data.metrics["macro_f1"] == pytest.approx(evaluation.macro_f1)
    assert "quality floor" in run.data.tags["promotion"]
    assert "reference" not in {a.path for a in MlflowClient().list_artifacts(run.info.run_id)}
    assert MlflowClient().search_model_versions("name='runs-refused'") == []


# --- a later candidate against the champion's holdout --------------------------------------

def test_a_better_candidate_on_the_same_data_wins_on_the_champions_holdout_too(
        mlflow_store, tmp_path):
    frame = separable_frame("flow_duration")
    weak = make_candidate(frame, XGBoostConfig(n_estimators=1, max_depth=1, n_jobs=1))
    register(weak, tmp_path, "runs-better", "weak")
    strong = make_candidate(frame)
    assert strong.evaluation.macro_f1 > weak.evaluation.macro_f1
    reason = register(strong, tmp_path, "runs-better", "strong")
    assert champion_of("runs-better") == "2"
    # same data and split settings: the holdout is the candidate's test split, nothing left out
    assert f"is not worse on champion v1's holdout ({len(strong.splits['test'])} rows)" in reason


def test_a_candidate_worse_on_the_champions_holdout_stays_challenger(mlflow_store, tmp_path):
    champion = make_candidate(separable_frame("flow_duration"))
    register(champion, tmp_path, "runs-holdout", "first")
    # Other data: the classes show in another column. The candidate wins on its own test split,
    # where the champion is lost, and loses on the champion's holdout.
    other = make_candidate(separable_frame("flow_bytes_s", seed=9))
    reason = register(other, tmp_path, "runs-holdout", "other-data")
    assert champion_of("runs-holdout") == "1"
    assert str(registry.version_by_alias("runs-holdout", registry.CHALLENGER).version) == "2"
    assert "on its test split (" in reason and "), but is worse on champion v1's holdout" in reason


def test_a_candidate_of_generated_data_never_replaces_a_real_champion(mlflow_store, tmp_path):
    frame = separable_frame("flow_duration")
    weak = make_candidate(frame, XGBoostConfig(n_estimators=1, max_depth=1, n_jobs=1))
    register(weak, tmp_path, "runs-source", "real")
    generated = make_candidate(frame, source=DataSource.GENERATED)   # better, but generated
    reason = register(generated, tmp_path, "runs-source", "generated")
    assert champion_of("runs-source") == "1"
    assert reason.startswith("it learnt generated data and champion v1 real data")
    version = MlflowClient().get_model_version("runs-source", "2")
    assert version.tags["data_source"] == "generated"


# --- a registration that fails half way --------------------------------------------------

def test_undoing_a_registration_gives_the_alias_back_and_tags_the_version_failed(
        mlflow_store, tiny_model):
    model, frame = tiny_model
    versions = []
    for _ in range(2):
        with mlflow.start_run():
            uri = registry.log_model(model, frame.head(5), ["BENIGN", "DDoS", "PortScan"],
                                     ["flow_duration", "flow_bytes_s"])
        versions.append(registry.register_version(uri, "runs-undo", {}).version)
        registry.set_alias("runs-undo", registry.CHAMPION, versions[-1])
    runs.undo_registration("runs-undo", "2", registry.CHAMPION, "1", RuntimeError("boom"))
    assert champion_of("runs-undo") == "1"
    tags = MlflowClient().get_model_version("runs-undo", "2").tags
    assert (tags["status"], tags["failure_reason"]) == ("failed", "RuntimeError: boom")
    # no earlier holder: the alias is taken off the failed version
    registry.set_alias("runs-undo", registry.CHALLENGER, "2")
    runs.undo_registration("runs-undo", "2", registry.CHALLENGER, None, RuntimeError("boom"))
    assert registry.version_by_alias("runs-undo", registry.CHALLENGER) is None
