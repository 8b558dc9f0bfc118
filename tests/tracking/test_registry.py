"""Registry: an MLflow round trip on a throwaway SQLite store."""

import mlflow
import numpy as np
import pandas as pd
import pytest

from nids.io import temporary_parquet
from nids.paths import MLFLOW_DB
from nids.tracking import registry

MODEL_NAME = "test-nids"
CLASSES = ["BENIGN", "DDoS", "PortScan"]   # those of the `tiny_model` fixture
FEATURES = ["flow_duration", "flow_bytes_s"]


def test_tracking_uri_defaults_to_the_project_store(monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert registry.tracking_uri() == f"sqlite:///{MLFLOW_DB}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    assert registry.tracking_uri() == "http://127.0.0.1:5000"


def test_temporary_parquet_round_trip_and_clean_up():
    frame = pd.DataFrame({"a": [1.5, 2.5], "label": ["x", "y"]})
    with temporary_parquet(frame) as path:
        pd.testing.assert_frame_equal(pd.read_parquet(path), frame)
    assert not path.parent.exists()


def test_configure_tracking_puts_artifacts_in_the_artifacts_folder(mlflow_store):
    experiment = mlflow.get_experiment(mlflow_store.experiment_id)
    assert experiment.name == mlflow_store.experiment
    assert experiment.artifact_location == (mlflow_store.folder / "mlartifacts").as_uri()
    # found, not new
    assert registry.configure_tracking(mlflow_store.experiment) == mlflow_store.experiment_id


def test_log_register_alias_and_load_the_champion(mlflow_store, tiny_model, tmp_path):
    model, frame = tiny_model
    reference = frame.head(10).assign(label="BENIGN")
    with mlflow.start_run() as run:
        model_uri = registry.log_model(model, frame.head(20), CLASSES, FEATURES)
        with temporary_parquet(reference) as path:
            mlflow.log_artifact(str(path), artifact_path="reference")
    version = registry.register_version(model_uri, MODEL_NAME, {"reason": "test"})
    registry.set_alias(MODEL_NAME, registry.CHAMPION, version.version)

    bundle = registry.load_bundle(MODEL_NAME)
    assert bundle is not None
    assert bundle.classes == CLASSES
    assert bundle.features == FEATURES
    assert bundle.version == str(version.version) == "1"
    assert bundle.run_id == run.info.run_id
    names, probabilities = registry.predict_classes(bundle, frame.assign(extra=1.0))
    expected = model.predict_proba(frame)
    assert names.tolist() == [CLASSES[i] for i in expected.argmax(axis=1)]
    np.testing.assert_allclose(probabilities, expected.max(axis=1), rtol=1e-6)
    assert registry.version_by_alias(MODEL_NAME, registry.CHAMPION).tags["reason"] == "test"
    assert registry.load_bundle(MODEL_NAME, registry.CHALLENGER) is None
    pd.testing.assert_frame_equal(
        registry.download_reference(run.info.run_id, tmp_path / "download"), reference)


def test_load_bundle_is_none_without_a_model(mlflow_store):
    assert registry.load_bundle("no-such-model") is None
    assert registry.version_by_alias("no-such-model", registry.CHAMPION) is None


def test_model_without_metadata_is_refused_by_name(mlflow_store, tiny_model):
    model, _ = tiny_model
    with mlflow.start_run():
        info = mlflow.xgboost.log_model(model, name="model")
    version = registry.register_version(info.model_uri, "foreign-model", {})
    registry.set_alias("foreign-model", registry.CHAMPION, version.version)
    with pytest.raises(ValueError, match="models:/foreign-model@champion .*no class/feature"):
        registry.load_bundle("foreign-model")
