"""A training run in MLflow, on a throwaway SQLite store: what a registered candidate leaves
(run, tags, artifacts, version, alias) and what a refused one leaves (a failed run only)."""

from pathlib import Path

import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient

from nids.config import LabelGrouping, TrainingConfig, XGBoostConfig
from nids.data.schema import LABEL_COLUMN, PREDICTION_COLUMN
from nids.tracking import registry
from nids.tracking.runs import RunOrigin
from nids.training.evaluate import evaluate_model
from nids.training.promotion import compare_with_champion, decide_promotion, register_candidate
from nids.training.splits import build_splits
from nids.training.train import train_on_splits
from tests.support.builders import flow_frame

SMALL_MODEL = XGBoostConfig(n_estimators=20, max_depth=3, n_jobs=1, early_stopping_rounds=5)
CLASSES = ("BENIGN", "DDoS", "PortScan")


@pytest.fixture(scope="module")
def candidate():
    """Splits of a separable three-class frame, the model trained on them, its test scores."""
    labels = ["BENIGN"] * 150 + ["DDoS"] * 60 + ["PortScan"] * 60
    frame = flow_frame(labels, seed=5)
    codes = np.array([CLASSES.index(label) for label in labels], dtype=np.float32)
    frame["flow_duration"] += 1000 * codes
    splits = build_splits(frame, LabelGrouping.LABELS, 0.2, 0.2, None, seed=0)
    trained = train_on_splits(splits, SMALL_MODEL)
    return splits, trained, evaluate_model(trained.bundle, splits["test"])


def training_config(folder: Path, model_name: str) -> TrainingConfig:
    config = TrainingConfig(model=SMALL_MODEL)
    config.data.raw_dir = str(folder / "raw")
    config.features.reference_rows = 100
    config.registry.model_name = model_name
    return config


@pytest.fixture(scope="module")
def first(mlflow_store, candidate, tmp_path_factory):
    """The candidate registered as the first version of its model: (promotion, version,
    origin, the registered version)."""
    splits, trained, evaluation = candidate
    folder = tmp_path_factory.mktemp("first")
    config = training_config(folder, "runs-first")
    origin = RunOrigin.of("test", None, folder / "raw", "fingerprint-1")
    promotion = compare_with_champion(evaluation, splits["test"], config.registry)
    version = register_candidate(trained, evaluation, promotion, splits, config, origin)
    return promotion, version, origin, registry.version_by_alias("runs-first", "champion")


def test_a_first_candidate_becomes_champion_as_version_one(first, candidate):
    promotion, version, _, registered = first
    _, _, evaluation = candidate
    assert promotion.alias == registry.CHAMPION and "first model" in promotion.reason
    assert version == 1 and str(registered.version) == "1"
    assert registered.tags["training_run_id"] == registered.run_id
    assert (registered.tags["reason"], registered.tags["data_fingerprint"]) == (
        "test", "fingerprint-1")
    assert registered.tags["test_macro_f1"] == f"{evaluation.macro_f1:.6f}"
    assert registered.tags["data_version_source"] == "fingerprint"


def test_the_run_records_parameters_metrics_tags_data_and_artifacts(first, candidate):
    promotion, _, origin, registered = first
    _, trained, evaluation = candidate
    run = mlflow.get_run(registered.run_id)
    assert run.info.run_name == "training-local" and run.info.status == "FINISHED"
    assert run.data.params["features"] == str(len(trained.features))
    assert run.data.params["label_grouping"] == "labels"
    assert run.data.metrics["macro_f1"] == pytest.approx(evaluation.macro_f1)
    assert {"best_iteration", "test_f1_BENIGN", "test_f1_PortScan"} <= set(run.data.metrics)
    assert run.data.tags["promotion"] == promotion.reason
    assert run.data.tags["prefect_flow_run_id"] == "None"   # outside Prefect
    [dataset] = run.inputs.dataset_inputs
    assert dataset.dataset.digest == origin.data_version.dataset_digest
    artifacts = {a.path for a in MlflowClient().list_artifacts(run.info.run_id)}
    assert {"confusion_matrix.png", "per_class_metrics.json", "reference"} <= artifacts


def test_the_reference_sample_carries_the_models_predictions(first, tmp_path):
    *_, registered = first
    reference = registry.download_reference(registered.run_id, tmp_path)
    assert len(reference) == 100 and {PREDICTION_COLUMN, "probability", LABEL_COLUMN} <= set(
        reference.columns)
    expected, _ = registry.predict_classes(registry.load_bundle("runs-first"), reference)
    assert reference[PREDICTION_COLUMN].tolist() == expected.tolist()


def test_the_same_scores_do_not_beat_the_champion(first, candidate, tmp_path):
    splits, _, evaluation = candidate
    config = training_config(tmp_path, "runs-first")
    again = compare_with_champion(evaluation, splits["test"], config.registry)
    assert again.alias == registry.CHALLENGER and "does not beat champion" in again.reason


def test_a_refused_candidate_leaves_a_failed_run_and_no_version(
        mlflow_store, candidate, tmp_path):
    splits, trained, evaluation = candidate
    config = training_config(tmp_path, "runs-refused")
    refused = decide_promotion(evaluation.macro_f1, None, "macro_f1",
                               floor=evaluation.macro_f1 + 0.01)
    origin = RunOrigin.of("refused", None, tmp_path / "raw", "fingerprint-2")
    with pytest.raises(ValueError, match="Model refused: .*quality floor"):
        register_candidate(trained, evaluation, refused, splits, config, origin)

    [run] = mlflow.search_runs([mlflow_store.experiment_id], "tags.reason = 'refused'",
                               output_format="list")
    assert run.info.status == "FAILED"
    assert run.data.metrics["macro_f1"] == pytest.approx(evaluation.macro_f1)
    assert "quality floor" in run.data.tags["promotion"]
    assert "reference" not in {a.path for a in MlflowClient().list_artifacts(run.info.run_id)}
    assert MlflowClient().search_model_versions("name='runs-refused'") == []
