"""Fixtures of the tracking tests: a throwaway MLflow store per module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import mlflow
import mlflow.tracking._model_registry.utils as registry_uri_state
import mlflow.tracking._tracking_service.utils as tracking_uri_state
import mlflow.tracking.fluent as fluent_state
import pytest

from nids.tracking import registry


class MlflowStore(NamedTuple):
    experiment: str  # the experiment's name
    experiment_id: str
    folder: Path  # holds mlflow.db and the artifacts folder


@pytest.fixture(scope="module")
def mlflow_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowStore]:
    """A throwaway SQLite store and artifact folder for the module (creating one takes
    seconds), its experiment configured as the flows configure theirs; MLflow's global state
    is restored afterwards."""
    folder = tmp_path_factory.mktemp("mlflow")
    experiment = "test-tracking"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{folder / 'mlflow.db'}")
        patch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
        patch.setattr(registry, "MLFLOW_ARTIFACTS_DIR", folder / "mlartifacts")
        patch.setattr(tracking_uri_state, "_tracking_uri", None)
        patch.setattr(registry_uri_state, "_registry_uri", None)
        patch.setattr(fluent_state, "_active_experiment_id", None)
        yield MlflowStore(experiment, registry.configure_tracking(experiment), folder)
        while mlflow.active_run():
            mlflow.end_run()
