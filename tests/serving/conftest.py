"""Fixtures of the scoring service tests: real CICIDS2017 rows, a throwaway MLflow store with
two versions trained on them, and the app under FastAPI's TestClient."""

from __future__ import annotations

from collections.abc import Iterator

import mlflow.tracking._model_registry.utils as registry_uri_state
import mlflow.tracking._tracking_service.utils as tracking_uri_state
import mlflow.tracking.fluent as fluent_state
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from nids.config import XGBoostConfig
from nids.data.ingest import read_input
from nids.serving.app import create_app
from nids.tracking import registry
from tests.support.serving import MODEL, SAMPLE, ServingStore, register_version, serving_settings


@pytest.fixture(scope="session")
def real_flows() -> pd.DataFrame:
    """The 12,001 real rows of ../shared/cicids2017/cicids2017_sample.csv, with labels."""
    if not SAMPLE.is_file():
        pytest.skip(f"the real CICIDS2017 rows are absent ({SAMPLE} not found)")
    frame, _ = read_input(SAMPLE, verify=False)
    return frame.drop(columns=["source_file", "day"])


@pytest.fixture(scope="session")
def serving_store(tmp_path_factory: pytest.TempPathFactory,
                  real_flows: pd.DataFrame) -> Iterator[ServingStore]:
    """A SQLite MLflow store with two versions of MODEL; the champion alias on the first.

    MLflow's global state points at it for the session and is restored afterwards.
    """
    folder = tmp_path_factory.mktemp("serving-store")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", uri)
        patch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
        patch.setattr(tracking_uri_state, "_tracking_uri", None)
        patch.setattr(registry_uri_state, "_registry_uri", None)
        patch.setattr(fluent_state, "_active_experiment_id", None)
        registry.configure_tracking("test-serving")
        first = register_version(real_flows, MODEL, XGBoostConfig(
            n_estimators=8, max_depth=4, n_jobs=1, early_stopping_rounds=5))
        second = register_version(real_flows, MODEL, XGBoostConfig(
            n_estimators=20, max_depth=6, n_jobs=1, early_stopping_rounds=5))
        registry.set_alias(MODEL, registry.CHAMPION, first)
        yield ServingStore(folder, uri, first, second)


@pytest.fixture(scope="module")
def client(serving_store: ServingStore,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The app serving the champion, started (lifespan) under TestClient."""
    folder = tmp_path_factory.mktemp("api")
    with TestClient(create_app(serving_settings(folder)), raise_server_exceptions=False) as test:
        yield test


@pytest.fixture(scope="session")
def sample_csv() -> bytes:
    """The real sample file's bytes (official header as pandas re-saved it)."""
    if not SAMPLE.is_file():
        pytest.skip(f"the real CICIDS2017 rows are absent ({SAMPLE} not found)")
    return SAMPLE.read_bytes()
