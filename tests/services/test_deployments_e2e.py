"""The deployments end to end, against the real thing.

A Prefect server, an MLflow server and a process worker on free loopback ports, with
prefect.yaml deployed as `make serve` does. The training deployment registers a champion
trained on Monday-Wednesday; the monitoring deployment then sees Friday's traffic, and the
retraining it starts runs as a flow run of the training deployment on the worker.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
from mlflow import MlflowClient

from nids.config import TrainingConfig
from nids.data.generate import generate_dataset
from nids.data.ingest import load_inputs
from nids.monitoring import scenario
from nids.services import WORK_POOL, ServiceUrls, free_ports, probes, running_services
from nids.services.processes import is_alive

pytestmark = [pytest.mark.slow, pytest.mark.services]

MODEL = "e2e-deployments"
RUN_TIMEOUT = 300.0
FRIDAY = (scenario.BatchPlan("03-friday", ("Friday",), shifted=True),)


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory, recorded_pids) -> Iterator[ServiceUrls]:
    """Both servers and a worker with prefect.yaml deployed; nothing runs afterwards."""
    state_dir = tmp_path_factory.mktemp("state")
    ports = free_ports(2)
    pids: set[int] = set()
    with running_services(state_dir, *ports, deploy=True) as urls:
        try:
            yield urls
        finally:
            pids = recorded_pids(state_dir)
    assert not [pid for pid in pids if is_alive(pid)]
    assert all(probes.port_is_free("127.0.0.1", port) for port in ports)


@pytest.fixture(scope="module")
def prefect(services: ServiceUrls):
    """A Prefect client of the test server (settings are read at import: override them)."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: services.prefect_api}), \
            get_client(sync_client=True) as client:
        yield client


def training_config(folder: Path, small_training_config) -> TrainingConfig:
    """20,000 generated rows, 60 trees, everything under `folder`, a model of its own."""
    config = small_training_config(folder, MODEL, n_estimators=60)
    # One thread: with two, XGBoost's OpenMP threads spin at barriers whenever other
    # processes share the cores, and training takes ten times longer.
    config.model.n_jobs = 1
    return config


def friday_batch(folder: Path) -> Path:
    """Friday's traffic (PortScan, DDoS, Bot) as a new batch in the incoming folder."""
    traffic = generate_dataset(folder / "traffic", 20_000, seed=99)
    frame = load_inputs(traffic, folder / "traffic-interim", verify=False).frame
    [batch] = scenario.write_batches(frame, folder / "incoming", 3_000, seed=5, plan=FRIDAY)
    shutil.rmtree(folder / "traffic")
    return batch


def wait_final(client, flow_run_id: UUID, timeout: float = RUN_TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        flow_run = client.read_flow_run(flow_run_id)
        if flow_run.state is not None and flow_run.state.is_final():
            return flow_run
        time.sleep(1)
    raise TimeoutError(f"flow run {flow_run_id} not finished after {timeout:.0f} s")


def start(name: str, parameters: dict) -> UUID:
    """Start a deployment as the UI's Run button does; the id of its flow run."""
    from prefect.deployments import run_deployment

    return run_deployment(name=name, parameters=parameters, timeout=0).id


def test_prefect_yaml_is_deployed_with_its_schedules(prefect) -> None:
    deployments = {d.name: d for d in prefect.read_deployments()}
    expected = {"training": ("0 2 * * *", "UTC"), "monitoring": ("0 * * * *", "UTC"),
                "labels": ("30 * * * *", "UTC")}
    assert set(deployments) == set(expected)
    for name, (cron, timezone) in expected.items():
        [schedule] = deployments[name].schedules
        assert (schedule.schedule.cron, schedule.schedule.timezone) == (cron, timezone)
        assert schedule.active
        assert deployments[name].work_pool_name == WORK_POOL
    assert deployments["training"].schedules[0].parameters == {"reason": "schedule"}
    assert deployments["training"].global_concurrency_limit.limit == 1
    assert deployments["labels"].global_concurrency_limit.limit == 1


def test_drift_seen_by_the_monitoring_deployment_retrains_through_the_training_deployment(
    prefect, services: ServiceUrls, tmp_path: Path, small_training_config, small_monitoring_config
) -> None:
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
    from prefect.client.schemas.sorting import FlowRunSort

    registry = MlflowClient(tracking_uri=services.mlflow)
    training = training_config(tmp_path, small_training_config)
    first = training.model_copy(deep=True)
    first.data.days = ["Monday", "Tuesday", "Wednesday"]

    first_run = start("training/training",
                      {"config": first.model_dump(mode="json"), "reason": "e2e"})
    batch = friday_batch(tmp_path)  # while the first model trains
    run = wait_final(prefect, first_run)
    assert run.state.is_completed(), run.state
    champion = registry.get_model_version_by_alias(MODEL, "champion")
    assert champion.version == "1" and champion.tags["reason"] == "e2e"
    assert champion.tags["prefect_flow_run_id"] == str(run.id)

    config = small_monitoring_config(tmp_path, training)
    monitoring = wait_final(prefect, start(
        "monitoring/monitoring", {"config": config.model_dump(mode="json"), "batch": str(batch)}))
    assert monitoring.state.is_completed(), monitoring.state
    assert (batch.parent / "done" / "03-friday.predictions.parquet").exists()
    [summary] = (tmp_path / "reports" / "drift").glob("*.json")
    assert json.loads(summary.read_text())["verdict"] == "retrain"

    training_deployment = prefect.read_deployment_by_name("training/training")
    runs = prefect.read_flow_runs(
        deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[training_deployment.id])),
        sort=FlowRunSort.EXPECTED_START_TIME_DESC,
    )
    [retraining] = [r for r in runs if r.id != run.id]
    assert retraining.deployment_id == training_deployment.id
    assert retraining.parameters["reason"].startswith("model health degraded on 03-friday.csv: ")
    assert retraining.parameters["config"]["data"]["days"] is None  # every day this time
    parent = prefect.read_task_run(retraining.parent_task_run_id)
    assert parent.flow_run_id == monitoring.id  # linked in the UI under the monitoring run

    retraining = wait_final(prefect, retraining.id)
    assert retraining.state.is_completed(), retraining.state
    second = registry.get_model_version(MODEL, "2")
    assert second.tags["prefect_flow_run_id"] == str(retraining.id)
    assert second.tags["reason"].startswith("model health degraded on 03-friday.csv: ")
    assert {"champion", "challenger"} & set(second.aliases)
    assert sorted(v.version for v in registry.search_model_versions(f"name='{MODEL}'")) == [
        "1", "2"]
