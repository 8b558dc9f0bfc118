"""End-to-end runs of the real training flow: ephemeral Prefect, SQLite MLflow in tmp."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pytest
from mlflow import MlflowClient

from flows.training import training_flow
from nids.tracking import registry

pytestmark = pytest.mark.slow
MODEL = "e2e-training"


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    return tmp_path


def champion_version() -> str:
    return str(MlflowClient().get_model_version_by_alias(MODEL, "champion").version)


def test_training_registers_a_champion_with_lineage(prefect_api, store: Path,
                                                    small_training_config) -> None:
    config = small_training_config(store, MODEL)
    result = training_flow(config=config, reason="e2e")

    assert result.alias == "champion" and str(result.version) == "1"
    assert result.accuracy > 0.9 and result.macro_f1 > 0.5
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


def test_weaker_model_becomes_challenger_and_floor_refuses(prefect_api, store: Path,
                                                           small_training_config) -> None:
    training_flow(config=small_training_config(store, MODEL), reason="first")
    weaker = training_flow(
        config=small_training_config(store, MODEL, n_estimators=1, quality_floor=0.0),
        reason="weaker")
    assert weaker.alias == "challenger"
    assert champion_version() == "1"
    assert str(MlflowClient().get_model_version_by_alias(MODEL, "challenger").version) == "2"

    with pytest.raises(ValueError, match="quality floor"):
        training_flow(config=small_training_config(store, MODEL, quality_floor=0.999),
                      reason="refused")
    assert champion_version() == "1"
    assert len(MlflowClient().search_model_versions(f"name='{MODEL}'")) == 2
    mlflow.set_tracking_uri(registry.tracking_uri())
