"""Shared fixtures. Server fixtures: real local Prefect and MLflow servers on free ports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from nids.services import ServiceUrls, free_ports, running_services


@pytest.fixture
def service_ports() -> tuple[int, int]:
    """Two free loopback ports: (Prefect, MLflow)."""
    prefect_port, mlflow_port = free_ports(2)
    return prefect_port, mlflow_port


@pytest.fixture(scope="module")
def local_services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceUrls]:
    """Prefect server, MLflow server and a process worker, without deployments.

    State (Prefect's database, mlflow.db, artifacts, logs) lives in a temporary folder;
    everything is stopped when the module's tests are done.
    """
    state_dir: Path = tmp_path_factory.mktemp("services")
    prefect_port, mlflow_port = free_ports(2)
    with running_services(state_dir, prefect_port, mlflow_port, deploy=False) as urls:
        yield urls
