"""Fixtures shared by every area: a temporary Prefect server, a throwaway MLflow store and small
flow configurations."""

from __future__ import annotations

import os
import shutil

# As in the Makefile and `make serve`: the project's loggers reach the Prefect run logs. Set
# before Prefect is imported, which configures its logging once, at import.
os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "nids")
os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import mlflow
import mlflow.tracking._model_registry.utils as registry_uri_state
import mlflow.tracking._tracking_service.utils as tracking_uri_state
import mlflow.tracking.fluent as fluent_state
import pytest
from prefect.settings import (
    PREFECT_API_URL,
    PREFECT_HOME,
    PREFECT_SERVER_ANALYTICS_ENABLED,
    temporary_settings,
)
from prefect.testing.utilities import prefect_test_harness

from nids.config import (
    DataSource,
    MonitoringConfig,
    TrainingConfig,
    load_monitoring_config,
    load_training_config,
)
from nids.data.generate import generate_dataset
from nids.tracking import registry


@pytest.fixture(scope="module")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A temporary Prefect server with its own database (Prefect's test harness), and Prefect's
    home in a temporary folder, so no run reaches ~/.prefect or the project's .state/prefect.
    The home has to be set through Prefect's settings: they were read from the environment
    when prefect was imported, so a changed PREFECT_HOME variable would not be seen.
    Yields the server's API URL."""
    home = tmp_path_factory.mktemp("prefect-home")
    with temporary_settings(updates={PREFECT_HOME: home, PREFECT_SERVER_ANALYTICS_ENABLED: False}):
        with prefect_test_harness(server_startup_timeout=90):  # slow on a busy machine
            yield PREFECT_API_URL.value()


def _small_training_config(folder: Path, model_name: str, **model) -> TrainingConfig:
    """The project's config on 20,000 generated rows (asked for explicitly), everything
    written under `folder`, registered as `model_name`, without the day-based evaluation and
    the bootstrap intervals; `n_estimators` and `quality_floor` may be given."""
    config = load_training_config()
    config.data.source = DataSource.GENERATED
    config.data.raw_dir = str(folder / "raw")
    config.data.generated_dir = str(folder / "generated")
    config.data.interim_dir = str(folder / "interim")
    config.data.processed_dir = str(folder / "processed")
    config.data.corpus.dir = str(folder / "corpus")
    config.data.generated_rows = 20_000
    config.features.reference_rows = 2_000
    config.model.n_estimators = model.get("n_estimators", 60)
    config.registry.model_name = model_name
    config.registry.quality_floor = model.get("quality_floor", 0.3)
    config.metrics_file = str(folder / "metrics.json")
    # The model card's extra measures (a second model for the day-based evaluation, bootstrap
    # intervals) are left to the test of the card (tests/training/test_model_card_flow.py).
    config.evaluation.by_day.train_days = []
    config.evaluation.bootstrap_resamples = 0
    return config


def _small_monitoring_config(folder: Path, training: TrainingConfig,
                             cooldown_hours: float = 0) -> MonitoringConfig:
    """The project's monitoring config watching `folder`/incoming, reporting to
    `folder`/reports, for `training`'s model, retraining with `training`; label requests and
    labels files under `folder`."""
    config = load_monitoring_config()
    config.model_name = training.registry.model_name
    config.incoming_dir = str(folder / "incoming")
    config.reports_dir = str(folder / "reports")
    config.retrain.cooldown_hours = cooldown_hours
    config.retrain.training_config = training
    config.labels.requests_dir = str(folder / "label_requests")
    config.labels.labels_dir = str(folder / "labels")
    return config


@pytest.fixture(scope="session")
def small_training_config(tmp_path_factory: pytest.TempPathFactory
                          ) -> Callable[..., TrainingConfig]:
    """Builds a training config for end-to-end runs: `(folder, model_name, **model)`. The
    generated rows, the same for every such config, are generated once per session (that takes
    seconds) and copied into folder/generated, where the generator reuses them as its own."""
    cache = tmp_path_factory.mktemp("generated-rows")

    def build(folder: Path, model_name: str, **model) -> TrainingConfig:
        config = _small_training_config(folder, model_name, **model)
        data = config.data
        generate_dataset(cache, data.generated_rows, data.seed, data.generated_days)
        if not Path(data.generated_dir).exists():
            shutil.copytree(cache, data.generated_dir)
        return config

    return build


@pytest.fixture(scope="session")
def small_monitoring_config() -> Callable[..., MonitoringConfig]:
    """Builds a monitoring config for end-to-end runs: `(folder, training, cooldown_hours)`."""
    return _small_monitoring_config


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
