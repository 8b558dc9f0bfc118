"""End-to-end runs of the real training flow: ephemeral Prefect, SQLite MLflow in tmp."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pytest
from mlflow import MlflowClient
from prefect.testing.utilities import prefect_test_harness

from flows.training import DEFAULT_CONFIG, training_flow
from nids.config import TrainingConfig
from nids.tracking import registry

pytestmark = pytest.mark.slow
MODEL = "e2e-training"


@pytest.fixture(scope="module")
def prefect_api():
    with prefect_test_harness(server_startup_timeout=60):
        yield


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    return tmp_path


def small_config(folder: Path, **model) -> TrainingConfig:
    """The project's config on 20,000 generated rows, everything written under `folder`."""
    config = DEFAULT_CONFIG.model_copy(deep=True)
    config.data.raw_dir = str(folder / "raw")
    config.data.generated_dir = str(folder / "generated")
    config.data.interim_dir = str(folder / "interim")
    config.data.processed_dir = str(folder / "processed")
    config.data.generated_rows = 20_000
    config.features.reference_rows = 2_000
    config.model.n_estimators = model.get("n_estimators", 60)
    config.registry.model_name = MODEL
    config.registry.quality_floor = model.get("quality_floor", 0.3)
    config.metrics_file = str(folder / "metrics.json")
    return config


def champion_version() -> str:
    return str(MlflowClient().get_model_version_by_alias(MODEL, "champion").version)


def test_training_registers_a_champion_with_lineage(prefect_api, store: Path) -> None:
    config = small_config(store)
    result = training_flow(config=config, reason="e2e")

    assert result["alias"] == "champion" and str(result["version"]) == "1"
    assert result["accuracy"] > 0.9 and result["macro_f1"] > 0.5
    version = MlflowClient().get_model_version(MODEL, "1")
    assert {"data_fingerprint", "git_commit", "prefect_flow_run_id", "training_run_id"} <= set(
        version.tags
    )
    assert version.tags["reason"] == "e2e"
    bundle = registry.load_bundle(MODEL)
    assert bundle.classes[0] == "BENIGN" and len(bundle.features) > 40
    artifacts = {a.path for a in MlflowClient().list_artifacts(version.run_id)}
    assert {"confusion_matrix.png", "reference", "per_class_metrics.json"} <= artifacts
    reference = registry.download_reference(version.run_id, store / "ref")
    assert len(reference) == 2_000 and {"prediction", "label"} <= set(reference.columns)
    assert json.loads((store / "metrics.json").read_text())["version"] == 1
    # the splits were saved for later stages to resume from
    assert len(list((store / "processed").glob("*/train.parquet"))) == 1


def test_weaker_model_becomes_challenger_and_floor_refuses(prefect_api, store: Path) -> None:
    training_flow(config=small_config(store), reason="first")
    weaker = training_flow(config=small_config(store, n_estimators=1, quality_floor=0.0),
                           reason="weaker")
    assert weaker["alias"] == "challenger"
    assert champion_version() == "1"
    assert str(MlflowClient().get_model_version_by_alias(MODEL, "challenger").version) == "2"

    with pytest.raises(ValueError, match="quality floor"):
        training_flow(config=small_config(store, quality_floor=0.999), reason="refused")
    assert champion_version() == "1"
    assert len(MlflowClient().search_model_versions(f"name='{MODEL}'")) == 2
    mlflow.set_tracking_uri(registry.tracking_uri())
