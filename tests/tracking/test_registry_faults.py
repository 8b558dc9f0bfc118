"""Registry faults against a real MLflow server: only "not found" means no champion; a
registry that is down fails with a message naming it; the client's retries are bounded; a
server killed while a version is registered leaves no candidate behind."""

import mlflow
import pytest
from mlflow import MlflowClient
from mlflow.environment_variables import (
    MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR,
    MLFLOW_HTTP_REQUEST_MAX_RETRIES,
    MLFLOW_HTTP_REQUEST_TIMEOUT,
)
from mlflow.exceptions import MlflowException

from nids.services.probes import free_ports
from nids.tracking import registry, runs
from nids.training.train import TrainedModel

pytestmark = pytest.mark.services
MODEL_NAME = "faults"
FEATURES = ["flow_duration", "flow_bytes_s"]
CLASSES = ["BENIGN", "DDoS", "PortScan"]


def register_champion(tiny_model) -> str:
    model, frame = tiny_model
    registry.configure_tracking("faults")
    with mlflow.start_run():
        uri = registry.log_model(model, frame.head(5), CLASSES, FEATURES)
    version = registry.register_version(uri, MODEL_NAME, {"reason": "test"})
    registry.set_alias(MODEL_NAME, registry.CHAMPION, version.version)
    return str(version.version)


def test_only_not_found_means_no_champion(mlflow_server, tiny_model, monkeypatch):
    version = register_champion(tiny_model)
    assert registry.version_by_alias("no-such-model", registry.CHAMPION) is None
    assert registry.version_by_alias(MODEL_NAME, registry.CHALLENGER) is None
    assert str(registry.version_by_alias(MODEL_NAME, registry.CHAMPION).version) == version

    mlflow_server.stop()   # nothing listens on the port any more
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")   # fail at once
    expected = rf"MLflow registry at {mlflow_server.url} is unreachable or failing"
    with pytest.raises(ConnectionError, match=expected) as error:
        registry.version_by_alias(MODEL_NAME, registry.CHAMPION)
    assert "run the training flow" not in str(error.value)
    with pytest.raises(ConnectionError, match=expected):
        registry.load_bundle(MODEL_NAME)
    with pytest.raises(ConnectionError, match=expected):
        registry.configure_tracking("faults")


def test_a_registry_that_never_answered_is_unreachable_not_empty(monkeypatch, mlflow_store):
    [port] = free_ports(1)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://user:secret@127.0.0.1:{port}")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    registry.use_tracking_store()
    masked = rf"http://\*\*\*@127.0.0.1:{port} is unreachable"
    with pytest.raises(ConnectionError, match=masked) as error:
        registry.version_by_alias(MODEL_NAME, registry.CHAMPION)
    assert "secret" not in str(error.value)
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    registry.use_tracking_store()


def test_client_retries_are_bounded_unless_the_environment_sets_them(monkeypatch):
    for variable in registry.HTTP_DEFAULTS:
        monkeypatch.delenv(variable, raising=False)
    assert MLFLOW_HTTP_REQUEST_MAX_RETRIES.get() == 7   # MLflow's own: about 4 minutes
    registry.use_tracking_store()
    assert (MLFLOW_HTTP_REQUEST_MAX_RETRIES.get(), MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR.get(),
            MLFLOW_HTTP_REQUEST_TIMEOUT.get()) == (5, 2, 20)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "9")
    registry.use_tracking_store()
    assert MLFLOW_HTTP_REQUEST_MAX_RETRIES.get() == 9


def test_a_server_killed_while_registering_leaves_no_candidate(mlflow_server, tiny_model,
                                                               monkeypatch):
    register_champion(tiny_model)
    model, frame = tiny_model
    set_alias = registry.set_alias

    def server_killed_first(*args: str) -> None:
        mlflow_server.stop()
        set_alias(*args)

    monkeypatch.setattr(registry, "set_alias", server_killed_first)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    trained = TrainedModel(model, CLASSES, FEATURES, {})
    with pytest.raises(MlflowException, match="Connection refused"):
        with runs.start_training_run(None):
            runs.register_model(trained, frame, MODEL_NAME, {"reason": "killed"},
                                registry.CHAMPION)

    monkeypatch.delenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES")
    mlflow_server.start()   # the same store: what the killed registration left
    client = MlflowClient()
    left = client.get_model_version(MODEL_NAME, "2")
    assert left.tags["status"] == "pending" and left.aliases == []   # not a candidate
    assert str(registry.version_by_alias(MODEL_NAME, registry.CHAMPION).version) == "1"
    assert client.get_run(left.run_id).info.status == "RUNNING"   # nobody could end it
    assert runs.fail_abandoned_versions(MODEL_NAME) == []   # too recent: may still register
    assert runs.fail_abandoned_versions(MODEL_NAME, older_than_minutes=0) == ["2"]
    left = client.get_model_version(MODEL_NAME, "2")
    assert left.tags["status"] == "failed"
    assert "stopped while registering" in left.tags["failure_reason"]
    assert client.get_run(left.run_id).info.status == "FAILED"
