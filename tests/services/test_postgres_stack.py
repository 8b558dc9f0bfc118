"""The compose stack without Docker: PostgreSQL, Prefect server and MLflow server on loopback.

A throwaway PostgreSQL cluster gets its roles and databases from docker/postgres/init-databases.sh;
both servers start with the command and environment docker/docker-compose.yml gives them, with
the container's host names, ports and volumes mapped to loopback and temporary folders. The real
training flow runs through them on a small generated dataset that DVC tracks, then the test reads
PostgreSQL directly: the flow run in Prefect's tables, the run and the model version in MLflow's,
and the model version's lineage back to the data's md5 and commit.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import psycopg
import pytest

from nids.data.generate import generate_dataset
from nids.paths import PROJECT_ROOT
from nids.services import free_ports
from nids.services.commands import ServiceSpec
from nids.services.probes import http_status, wait_until
from nids.services.processes import is_alive, start_process, stop_groups
from tests.support.data_repos import git, init_data_repo, md5_in
from tests.support.postgres import Cluster, skip_reason, throwaway_cluster

pytestmark = [pytest.mark.services, pytest.mark.slow]
if (reason := skip_reason()) is not None:
    pytest.skip(reason, allow_module_level=True)

COMPOSE = PROJECT_ROOT / "docker" / "docker-compose.yml"
INIT_SCRIPT = PROJECT_ROOT / "docker" / "postgres" / "init-databases.sh"
DB_HOST_IN_COMPOSE = "@postgres:5432/"
READY_TIMEOUT = 90
FLOW_TIMEOUT = 150
MODEL_NAME = "cicids2017-xgboost"
# Not in the compose file, which keeps MLflow's defaults (4 workers, 7 job consumers): one worker
# and no job runner start in a third of the time on a 2-CPU runner and stop on SIGTERM.
MLFLOW_TEST_ARGS = ["--workers", "1"]
MLFLOW_TEST_ENV = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
RUN_FLOW = """
import sys
from flows.training import training_flow
from nids.config import TrainingConfig
result = training_flow(TrainingConfig.model_validate_json(sys.argv[1]), reason="postgres-stack")
open(sys.argv[2], "w").write(result.model_dump_json())
"""


@dataclass(frozen=True)
class ComposeService:
    command: list[str]
    environment: dict[str, str]


def compose_service(check_compose: ModuleType, name: str,
                    variables: dict[str, str]) -> ComposeService:
    """A service's command and environment from the compose file, variables filled in with
    Compose's own interpolation, as scripts/check_compose.py implements it."""
    service = check_compose.load_yaml(COMPOSE)["services"][name]
    environment = {key: check_compose.interpolate(str(value), variables)
                   for key, value in service.get("environment", {}).items()}
    command = [check_compose.interpolate(str(part), variables)
               for part in service.get("command", [])]
    return ComposeService(command, environment)


def on_loopback(service: ComposeService, cluster: Cluster, port: int,
                paths: dict[str, Path]) -> ComposeService:
    """The service's command and environment with the container's addresses made local."""
    program, *args = service.command
    container_port = args[args.index("--port") + 1]
    local_args = [{"0.0.0.0": cluster.host, container_port: str(port)}.get(arg, arg)
                  for arg in args]
    local_args = [str(paths[arg]) if arg in paths else arg for arg in local_args]
    environment = {key: value.replace(DB_HOST_IN_COMPOSE, f"@{cluster.host}:{cluster.port}/")
                   for key, value in service.environment.items()}
    return ComposeService([sys.executable, "-m", program, *local_args], environment)


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without anyone's Prefect or MLflow settings."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PREFECT_", "MLFLOW_"))}
    return env | extra


@pytest.fixture(scope="module")
def secrets_env() -> dict[str, str]:
    """The variables docker/.env must set, as the compose file names them."""
    return {"POSTGRES_PASSWORD": secrets.token_hex(12),
            "PREFECT_DB_PASSWORD": secrets.token_hex(12),
            "MLFLOW_DB_PASSWORD": secrets.token_hex(12)}


@pytest.fixture(scope="module")
def cluster(secrets_env, check_compose) -> Iterator[Cluster]:
    """PostgreSQL with the roles and databases the init script creates in the container."""
    (port,) = free_ports(1)
    postgres = compose_service(check_compose, "postgres", secrets_env)
    with throwaway_cluster(port, postgres.environment["POSTGRES_USER"],
                           secrets_env["POSTGRES_PASSWORD"]) as running:
        result = subprocess.run(["bash", str(INIT_SCRIPT)],
                                env=running.client_env(os.environ) | postgres.environment,
                                capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == 0, f"{INIT_SCRIPT} failed:\n{result.stderr}"
        yield running


@dataclass(frozen=True)
class Stack:
    prefect_api: str
    mlflow: str
    prefect_db: str
    mlflow_db: str


@pytest.fixture(scope="module")
def stack(cluster, secrets_env, check_compose, tmp_path_factory) -> Iterator[Stack]:
    """Prefect and MLflow servers as compose starts them, stopped whatever happens."""
    folder = tmp_path_factory.mktemp("stack")
    prefect_port, mlflow_port = free_ports(2)
    variables = secrets_env | {"PREFECT_UI_API_URL": f"http://{cluster.host}:{prefect_port}/api"}
    prefect = on_loopback(compose_service(check_compose, "prefect-server", variables), cluster,
                          prefect_port, {})
    mlflow = on_loopback(compose_service(check_compose, "mlflow", variables), cluster,
                         mlflow_port, {"/mlartifacts": folder / "mlartifacts"})
    specs = [
        ServiceSpec(name="prefect-server", command=prefect.command, cwd=folder,
                    env=clean_env(PREFECT_HOME=str(folder / "prefect")) | prefect.environment,
                    log_path=folder / "prefect-server.log",
                    health_url=f"http://{cluster.host}:{prefect_port}/api/health"),
        ServiceSpec(name="mlflow-server", command=mlflow.command + MLFLOW_TEST_ARGS, cwd=folder,
                    env=clean_env() | mlflow.environment | MLFLOW_TEST_ENV,
                    log_path=folder / "mlflow-server.log",
                    health_url=f"http://{cluster.host}:{mlflow_port}/health"),
    ]
    pids: list[int] = []
    try:
        pids += [start_process(spec).pid for spec in specs]
        for spec, pid in zip(specs, pids, strict=True):
            wait_until(lambda url=spec.health_url: http_status(url) == 200, what=spec.name,
                       timeout=READY_TIMEOUT, log_path=spec.log_path,
                       still_running=lambda pid=pid: is_alive(pid))
        yield Stack(
            prefect_api=f"http://{cluster.host}:{prefect_port}/api",
            mlflow=f"http://{cluster.host}:{mlflow_port}",
            prefect_db=prefect.environment["PREFECT_API_DATABASE_CONNECTION_URL"].replace(
                "postgresql+asyncpg://", "postgresql://"),
            mlflow_db=mlflow.environment["MLFLOW_BACKEND_STORE_URI"],
        )
    finally:
        survivors = stop_groups({pid: 10.0 for pid in pids})
        assert not survivors, f"processes {sorted(survivors)} survived SIGKILL"


@pytest.fixture(scope="module")
def data_repo(tmp_path_factory) -> Path:
    """A git + DVC repository whose data/raw holds 5,000 generated rows, tracked and committed."""
    repo = tmp_path_factory.mktemp("data") / "repo"
    generate_dataset(repo / "data" / "raw", 5_000, seed=2017)
    return init_data_repo(repo)


def config_json(small_training_config, data_repo: Path, work: Path) -> str:
    """The training config on the data repository's 5,000 rows, everything else under `work`
    (metrics file included, not the project's reports/)."""
    # 5,000 rows leave the rarest classes with a handful of rows: any model is fine here.
    config = small_training_config(work, MODEL_NAME, n_estimators=30, quality_floor=0.0)
    config.data.raw_dir = str(data_repo / "data" / "raw")
    config.data.source = "real"  # read the DVC-tracked folder (its files are the generator's)
    config.data.generated_rows = 5_000
    config.features.reference_rows = 500
    return config.model_dump_json()


def query(url: str, sql: str, *params) -> list[tuple]:
    with psycopg.connect(url, connect_timeout=10) as connection:
        return connection.execute(sql, params).fetchall()


def test_training_flow_runs_on_prefect_and_mlflow_backed_by_postgres(stack, data_repo, tmp_path,
                                                                       small_training_config):
    result_path = tmp_path / "result.json"
    env = clean_env(PREFECT_API_URL=stack.prefect_api, MLFLOW_TRACKING_URI=stack.mlflow,
                    PREFECT_HOME=str(tmp_path / "prefect"), DO_NOT_TRACK="1",
                    MLFLOW_DISABLE_TELEMETRY="true")
    flow = subprocess.run(
        [sys.executable, "-c", RUN_FLOW, config_json(small_training_config, data_repo, tmp_path),
         str(result_path)], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
        timeout=FLOW_TIMEOUT, check=False)
    assert flow.returncode == 0, flow.stderr[-5000:]
    result = json.loads(result_path.read_text())
    assert (result["model_name"], result["version"], result["alias"]) == (MODEL_NAME, 1,
                                                                           "champion")

    # MLflow's tables: the finished run, its dataset input, the version and its alias.
    [(run_id, status, flow_run_id)] = query(stack.mlflow_db, """
        SELECT r.run_uuid, r.status, t.value FROM runs r
        JOIN tags t ON t.run_uuid = r.run_uuid AND t.key = 'prefect_flow_run_id'""")
    assert status == "FINISHED"
    assert query(stack.mlflow_db, "SELECT version, run_id, status FROM model_versions "
                 "WHERE name = %s", MODEL_NAME) == [(1, run_id, "READY")]
    assert query(stack.mlflow_db, "SELECT alias, version FROM registered_model_aliases "
                 "WHERE name = %s", MODEL_NAME) == [("champion", 1)]
    tags = dict(query(stack.mlflow_db, "SELECT key, value FROM model_version_tags "
                      "WHERE name = %s AND version = 1", MODEL_NAME))
    data_md5 = md5_in(data_repo / "data" / "raw.dvc")
    commit = git(data_repo, "rev-parse", "HEAD")
    assert (tags["dvc_md5"], tags["data_version_source"], tags["git_commit"]) == (
        data_md5, "dvc", commit)
    assert query(stack.mlflow_db, "SELECT d.digest FROM datasets d JOIN inputs i "
                 "ON i.source_id = d.dataset_uuid WHERE i.destination_id = %s",
                 run_id) == [(data_md5,)]

    # Prefect's tables: the flow run MLflow recorded, completed.
    assert query(stack.prefect_db, """
        SELECT f.name, fr.state_type::text FROM flow_run fr JOIN flow f ON f.id = fr.flow_id
        WHERE fr.id = %s""", flow_run_id) == [("training", "COMPLETED")]

    # And back from the model version to the data and the code.
    command = [sys.executable, "-m", "nids.tracking.lineage", "show", MODEL_NAME, "champion"]
    shown = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60,
                           check=True).stdout
    assert f"git checkout {commit}" in shown and "dvc pull data/raw.dvc" in shown
