"""Bringing the local services up and down: servers, work pool, deployments, worker."""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from nids.paths import PROJECT_ROOT
from nids.services import probes
from nids.services.commands import (
    PREFECT_WORKER,
    WORK_POOL,
    ServiceLayout,
    ServiceSpec,
    ServiceUrls,
    create_pool_command,
    deploy_command,
    isolated_layout,
    prefect_env,
    scoring_spec,
    server_specs,
    service_urls,
    state_file,
    worker_spec,
    zombie_automation_command,
)
from nids.services.processes import is_alive, run_to_log, start_process, start_time, stop_groups
from nids.services.state import ServiceRecord, ServicesState, read_state, write_state

logger = logging.getLogger(__name__)

READY_TIMEOUT = 90.0
DEPLOY_TIMEOUT = 300.0
# Prefect 3.8.8's idle worker turns SIGTERM into SIGINT and then may hang while its server
# keeps running; it gets less grace before SIGKILL.
GRACE_SECONDS = {PREFECT_WORKER: 3.0}
DEFAULT_GRACE = 10.0


def _check_ports(layout: ServiceLayout) -> None:
    ports = [("Prefect", layout.prefect_port, "--prefect-port"),
             ("MLflow", layout.mlflow_port, "--mlflow-port")]
    if layout.scoring_port is not None:
        ports.append(("scoring API", layout.scoring_port, "--scoring-port"))
    if layout.evidently_port is not None:
        ports.append(("Evidently UI", layout.evidently_port, "--evidently-port"))
    for what, port, flag in ports:
        if not probes.port_is_free(layout.host, port):
            raise RuntimeError(f"Port {port} for the {what} server is taken on {layout.host}; "
                               f"choose another one with {flag}")


def _launch(spec: ServiceSpec, state: ServicesState, state_path: Path) -> int:
    """Start `spec` and record it at once, so `down` finds it even if `up` dies next."""
    process = start_process(spec)
    state.services.append(ServiceRecord(spec.name, process.pid, start_time(process.pid),
                                        str(spec.log_path), spec.port, spec.url))
    write_state(state_path, state)
    return process.pid


def _ensure_work_pool(layout: ServiceLayout, env: dict[str, str]) -> None:
    if probes.work_pool_exists(service_urls(layout).prefect_api, WORK_POOL):
        return
    log = layout.log_path("work-pool")
    log.unlink(missing_ok=True)
    if run_to_log(create_pool_command(), env, layout.project_root, log, 60) != 0:
        raise RuntimeError(f"Creating work pool {WORK_POOL!r} failed; see {log}")
    logger.info("Created work pool %s", WORK_POOL)


def _deploy(layout: ServiceLayout, env: dict[str, str]) -> None:
    """`prefect deploy --all` in the project root, which holds prefect.yaml."""
    log = layout.log_path("prefect-deploy")
    log.unlink(missing_ok=True)
    started = time.monotonic()
    if run_to_log(deploy_command(), env, layout.project_root, log, DEPLOY_TIMEOUT) != 0:
        raise RuntimeError(f"`prefect deploy --all` failed in {layout.project_root}; see {log}")
    logger.info("Deployed prefect.yaml in %.1f s", time.monotonic() - started)


def _ensure_zombie_automation(layout: ServiceLayout, env: dict[str, str]) -> None:
    log = layout.log_path("zombie-automation")
    log.unlink(missing_ok=True)
    if run_to_log(zombie_automation_command(), env, layout.project_root, log, 120) != 0:
        raise RuntimeError(f"Creating the zombie-run automation failed; see {log}")


def _start_servers(layout: ServiceLayout, state: ServicesState, base_env: Mapping[str, str],
                   timeout: float) -> None:
    """The servers side by side, then wait until each answers its health route."""
    servers = server_specs(layout, base_env)
    pids = {spec.name: _launch(spec, state, layout.state_file) for spec in servers}
    for spec in servers:
        probes.wait_until(lambda url=spec.health_url: probes.http_status(url) == 200,
                          what=spec.name, timeout=timeout, log_path=spec.log_path,
                          still_running=lambda pid=pids[spec.name]: is_alive(pid))


def _start_scoring(layout: ServiceLayout, state: ServicesState, base_env: Mapping[str, str],
                   timeout: float) -> None:
    """The scoring API, once MLflow answers; ready when /health answers (503: no champion)."""
    spec = scoring_spec(layout, base_env)
    pid = _launch(spec, state, layout.state_file)
    probes.wait_until(lambda: probes.http_status(spec.health_url) in (200, 503),
                      what=spec.name, timeout=timeout, log_path=spec.log_path,
                      still_running=lambda: is_alive(pid))


def _start_worker(layout: ServiceLayout, state: ServicesState, base_env: Mapping[str, str],
                  deploy: bool, timeout: float) -> None:
    """Start the worker, deploy while it starts, then wait until the server lists it online."""
    worker = worker_spec(layout, base_env, state.worker_name)
    worker_pid = _launch(worker, state, layout.state_file)
    if deploy:
        _deploy(layout, prefect_env(layout, base_env))
    _ensure_zombie_automation(layout, prefect_env(layout, base_env))
    probes.wait_until(
        lambda: state.worker_name in probes.online_workers(state.urls.prefect_api, WORK_POOL),
        what=f"worker {state.worker_name}", timeout=timeout, log_path=worker.log_path,
        still_running=lambda: is_alive(worker_pid))


def start_services(layout: ServiceLayout, deploy: bool = True, timeout: float = READY_TIMEOUT,
                   base_env: Mapping[str, str] | None = None) -> ServicesState:
    """Start the servers (the scoring API and the Evidently UI when the layout has their
    ports), create the work pool, start a worker, deploy prefect.yaml.

    Either everything runs when this returns, or whatever was started is stopped again.
    """
    base_env = dict(os.environ if base_env is None else base_env)
    _check_ports(layout)
    for folder in (layout.logs_dir, layout.prefect_home, layout.artifacts_dir,
                   layout.mlflow_db.parent, *filter(None, [layout.workspace_dir])):
        folder.mkdir(parents=True, exist_ok=True)
    state = ServicesState(urls=service_urls(layout),
                          worker_name=f"nids-worker-{uuid.uuid4().hex[:8]}")
    try:
        _start_servers(layout, state, base_env, timeout)
        if layout.scoring_port is not None:
            _start_scoring(layout, state, base_env, timeout)
        _ensure_work_pool(layout, prefect_env(layout, base_env))
        _start_worker(layout, state, base_env, deploy, timeout)
    except BaseException:
        logger.error("Start-up failed; stopping what was started")
        stop_services(layout.state_dir)
        raise
    return state


def owned_pgids(state: ServicesState) -> dict[int, float]:
    """Process groups of the record still worth signalling, with their grace in seconds.

    A leader that runs under the same pid but started at another time is someone else's.
    """
    groups = {}
    for record in state.services:
        if is_alive(record.pid) and start_time(record.pid) != record.started_at:
            logger.warning("pid %d is no longer %s; leaving it alone", record.pid, record.name)
            continue
        groups[record.pid] = GRACE_SECONDS.get(record.name, DEFAULT_GRACE)
    return groups


def stop_services(state_dir: Path) -> set[int]:
    """Stop everything recorded in `state_dir`; returns pids that survived SIGKILL."""
    path = state_file(state_dir)
    state = read_state(path)
    if state is None:
        logger.info("No services recorded in %s", path)
        return set()
    survivors = stop_groups(owned_pgids(state))
    if survivors:
        logger.error("Could not stop pids %s; %s kept", sorted(survivors), path)
    else:
        path.unlink(missing_ok=True)
        logger.info("Stopped %s", ", ".join(record.name for record in state.services) or "nothing")
    return survivors


def running_records(state_dir: Path) -> list[tuple[ServiceRecord, bool]]:
    """Each recorded service with whether its process still runs."""
    state = read_state(state_file(state_dir))
    if state is None:
        return []
    return [(record, is_alive(record.pid) and start_time(record.pid) == record.started_at)
            for record in state.services]


@contextmanager
def running_services(state_dir: Path, prefect_port: int, mlflow_port: int, deploy: bool,
                     *, project_root: Path = PROJECT_ROOT, timeout: float = READY_TIMEOUT,
                     evidently_port: int | None = None) -> Iterator[ServiceUrls]:
    """Servers and a worker for the body of a `with`, stopped afterwards whatever happens.

    MLflow's store (and the Evidently UI's workspace, when it has a port) live in `state_dir`
    too, so nothing outside it is touched.
    """
    layout = isolated_layout(state_dir, prefect_port, mlflow_port, project_root, evidently_port)
    state = start_services(layout, deploy=deploy, timeout=timeout)
    try:
        yield state.urls
    finally:
        survivors = stop_services(layout.state_dir)
        if survivors:
            raise RuntimeError(f"Processes {sorted(survivors)} survived SIGKILL")
