"""Fixtures of the services tests: real local Prefect and MLflow servers on free ports, and the
project's scripts loaded as modules."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

from nids.paths import PROJECT_ROOT
from nids.services import ServiceUrls, free_ports, running_services
from nids.services.processes import group_and_descendants, process_table
from nids.services.state import read_state


def _load_script(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def check_compose() -> ModuleType:
    """scripts/check_compose.py: the compose checks and Compose's own variable interpolation."""
    return _load_script(PROJECT_ROOT / "scripts" / "check_compose.py")


@pytest.fixture(scope="session")
def healthcheck() -> ModuleType:
    """docker/healthcheck.py, the containers' health probe."""
    return _load_script(PROJECT_ROOT / "docker" / "healthcheck.py")


def _recorded_pids(state_dir: Path) -> set[int]:
    state = read_state(state_dir / "services.json")
    assert state is not None
    table = process_table()
    return set().union(*(group_and_descendants(r.pid, table) for r in state.services))


@pytest.fixture(scope="session")
def recorded_pids() -> Callable[[Path], set[int]]:
    """Every process the services recorded in `state_dir` run now: the servers, the worker and
    their descendants (flow runs of the worker included)."""
    return _recorded_pids


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
