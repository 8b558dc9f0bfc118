"""Fixtures of the tracking tests: a real MLflow server that can be stopped and started again,
and a tiny model (the throwaway MLflow store is in tests/conftest.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import mlflow
import mlflow.tracking._model_registry.utils as registry_uri_state
import mlflow.tracking._tracking_service.utils as tracking_uri_state
import mlflow.tracking.fluent as fluent_state
import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

from nids.config import XGBoostConfig
from nids.services.commands import ServiceSpec, isolated_layout, mlflow_env, mlflow_server_command
from nids.services.probes import free_ports, http_status, wait_until
from nids.services.processes import is_alive, start_process, stop_groups
from nids.training.train import train_model

CLASSES = ["BENIGN", "DDoS", "PortScan"]
FEATURES = ["flow_duration", "flow_bytes_s"]


class MlflowServer:
    """A real `mlflow server` on a free loopback port with a throwaway SQLite store; it can be
    stopped (the registry is down: nothing listens on the port) and started again on the same
    store."""

    def __init__(self, folder: Path) -> None:
        self.layout = isolated_layout(folder, prefect_port=0, mlflow_port=free_ports(1)[0])
        self.url = f"http://{self.layout.host}:{self.layout.mlflow_port}"
        self.pid: int | None = None

    def start(self) -> None:
        spec = ServiceSpec("mlflow-server", mlflow_server_command(self.layout),
                           mlflow_env(os.environ), self.layout.state_dir,
                           self.layout.log_path("mlflow-server"))
        process = start_process(spec)
        self.pid = process.pid
        wait_until(lambda: http_status(f"{self.url}/health") == 200, what="MLflow server",
                   timeout=120, log_path=spec.log_path, still_running=lambda: is_alive(process.pid))

    def stop(self) -> None:
        if self.pid is not None:
            survivors = stop_groups({self.pid: 10})
            assert not survivors, f"MLflow server processes {survivors} survived SIGKILL"
            self.pid = None


@pytest.fixture
def mlflow_server(tmp_path: Path) -> Iterator[MlflowServer]:
    """A running MLflow server the client points at (MLFLOW_TRACKING_URI), stopped afterwards;
    MLflow's global state is restored."""
    server = MlflowServer(tmp_path / "server")
    server.start()
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("MLFLOW_TRACKING_URI", server.url)
            patch.setattr(tracking_uri_state, "_tracking_uri", None)
            patch.setattr(registry_uri_state, "_registry_uri", None)
            patch.setattr(fluent_state, "_active_experiment_id", None)
            yield server
            while mlflow.active_run():
                mlflow.end_run()
    finally:
        server.stop()


@pytest.fixture(scope="session")
def tiny_model() -> tuple[xgb.XGBClassifier, pd.DataFrame]:
    """A five-tree model of three classes on two features, and the frame it learnt."""
    rng = np.random.default_rng(0)
    labels = np.repeat(CLASSES, 30)
    centre = np.repeat([0.0, 10.0, 20.0], 30)
    frame = pd.DataFrame({"flow_duration": centre + rng.normal(0, 1, 90),
                          "flow_bytes_s": rng.normal(0, 1, 90)}, dtype=np.float32)
    params = XGBoostConfig(n_estimators=5, max_depth=2, n_jobs=1)
    model = train_model(frame, pd.Series(labels), frame, pd.Series(labels), CLASSES, params)
    return model, frame
