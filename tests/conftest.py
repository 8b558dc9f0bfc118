"""Fixtures shared by every area: a temporary Prefect server and small flow configurations."""

from __future__ import annotations

import os

# As in the Makefile and `make serve`: the project's loggers reach the Prefect run logs. Set
# before Prefect is imported, which configures its logging once, at import.
os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "nids")
os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")

from collections.abc import Callable, Iterator
from pathlib import Path

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
    written under `folder`, registered as `model_name`; `n_estimators` and `quality_floor` may
    be given."""
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
def small_training_config() -> Callable[..., TrainingConfig]:
    """Builds a training config for end-to-end runs: `(folder, model_name, **model)`."""
    return _small_training_config


@pytest.fixture(scope="session")
def small_monitoring_config() -> Callable[..., MonitoringConfig]:
    """Builds a monitoring config for end-to-end runs: `(folder, training, cooldown_hours)`."""
    return _small_monitoring_config
