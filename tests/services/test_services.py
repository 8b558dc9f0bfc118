"""Local services: the pure pieces as values, then real servers, deployments and the UI."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from nids.paths import PROJECT_ROOT
from nids.services import (
    PROJECT_ROOT_VARIABLE,
    WORK_POOL,
    ServiceUrls,
    free_ports,
    isolated_layout,
    lifecycle,
    online_workers,
    probes,
    running_services,
)
from nids.services.__main__ import build_parser, layout_from_args, main
from nids.services.commands import (
    mlflow_env,
    mlflow_server_command,
    prefect_env,
    prefect_server_command,
    server_specs,
    worker_env,
)
from nids.services.lifecycle import _check_ports, owned_pgids
from nids.services.probes import http_status, wait_until, work_pool_exists
from nids.services.processes import (
    ProcessRow,
    group_and_descendants,
    is_alive,
    process_table,
    start_time,
    stop_groups,
)
from nids.services.state import ServiceRecord, ServicesState, read_state, write_state

PREFECT_YAML = PROJECT_ROOT / "prefect.yaml"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def layout(tmp_path: Path):
    return isolated_layout(tmp_path / "state", 4300, 5300, project_root=tmp_path / "project")


# --- environments and command lines ---------------------------------------------------------


def test_prefect_env_keeps_state_in_the_project_and_drops_the_users_settings(layout) -> None:
    user = {"PATH": "/bin", "PREFECT_API_URL": "https://api.prefect.cloud/x",
            "PREFECT_PROFILE": "cloud", PROJECT_ROOT_VARIABLE: "/elsewhere"}
    env = prefect_env(layout, user)
    assert env["PREFECT_HOME"] == str(layout.state_dir / "prefect")
    assert env["PREFECT_API_URL"] == "http://127.0.0.1:4300/api"
    assert "PREFECT_PROFILE" not in env
    assert PROJECT_ROOT_VARIABLE not in env  # else `prefect deploy` bakes it into pull steps
    assert env["PATH"] == "/bin"


def test_worker_env_points_flow_runs_at_both_servers_and_the_code(layout) -> None:
    env = worker_env(layout, {"MLFLOW_TRACKING_URI": "sqlite:///other.db"})
    assert env["MLFLOW_TRACKING_URI"] == "http://127.0.0.1:5300"
    assert env["PREFECT_API_URL"] == "http://127.0.0.1:4300/api"
    assert env[PROJECT_ROOT_VARIABLE] == str(layout.project_root)


def test_mlflow_env_turns_off_the_genai_job_runner() -> None:
    env = mlflow_env({"MLFLOW_TRACKING_URI": "http://x", "HOME": "/root"})
    assert env == {"HOME": "/root", "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}


def test_mlflow_command_uses_absolute_store_paths_on_loopback(layout) -> None:
    command = mlflow_server_command(layout)
    assert command[:4] == [sys.executable, "-m", "mlflow", "server"]
    options = dict(zip(command[4::2], command[5::2], strict=False))
    assert options["--host"] == "127.0.0.1"
    assert options["--port"] == "5300"
    assert options["--backend-store-uri"] == f"sqlite:///{layout.state_dir}/mlflow.db"
    assert options["--artifacts-destination"] == str(layout.state_dir / "mlartifacts")
    assert "--serve-artifacts" in command


def test_prefect_command_runs_this_interpreters_prefect(layout) -> None:
    assert prefect_server_command(layout) == [
        sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", "4300"]


def test_server_specs_poll_each_servers_health_route(layout) -> None:
    urls = {spec.name: spec.health_url for spec in server_specs(layout, {})}
    assert urls == {"prefect-server": "http://127.0.0.1:4300/api/health",
                    "mlflow-server": "http://127.0.0.1:5300/health"}


@pytest.mark.parametrize(("argv", "env", "ports"), [
    (["up"], {}, (4200, 5000)),
    (["up"], {"NIDS_PREFECT_PORT": "4400", "NIDS_MLFLOW_PORT": "5500"}, (4400, 5500)),
    (["up", "--prefect-port", "4600"], {"NIDS_PREFECT_PORT": "4400"}, (4600, 5000)),
])
def test_ports_come_from_flags_then_env_then_defaults(argv, env, ports) -> None:
    args = build_parser(env).parse_args(argv)
    assert (args.prefect_port, args.mlflow_port) == ports


def test_cli_defaults_to_the_projects_mlflow_store() -> None:
    layout = layout_from_args(build_parser({}).parse_args(["up"]))
    assert layout.mlflow_db == PROJECT_ROOT / "mlflow.db"
    assert layout.artifacts_dir == PROJECT_ROOT / "mlartifacts"
    assert layout.prefect_home == PROJECT_ROOT / ".state" / "prefect"


def test_status_and_down_with_nothing_started(tmp_path: Path, capsys) -> None:
    assert main(["--state-dir", str(tmp_path), "status"], env={}) == 0
    assert "Nothing started" in capsys.readouterr().out
    assert main(["--state-dir", str(tmp_path), "down"], env={}) == 0


def test_status_reports_a_service_that_stopped(tmp_path: Path, capsys) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    record = ServiceRecord("mlflow-server", gone.pid, "then", "/l", 5000, "http://m")
    write_state(tmp_path / "services.json", ServicesState(ServiceUrls("a", "b", "c"), "w",
                                                          [record]))
    assert main(["--state-dir", str(tmp_path), "status"], env={}) == 1
    assert "STOPPED" in capsys.readouterr().out


def test_a_taken_port_is_refused_with_the_flag_to_change_it(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        layout = isolated_layout(tmp_path, taken.getsockname()[1], free_ports(1)[0])
        with pytest.raises(RuntimeError, match="--prefect-port"):
            _check_ports(layout)


# --- prefect.yaml ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def prefect_yaml() -> dict:
    return yaml.safe_load(PREFECT_YAML.read_text())


def test_prefect_yaml_pulls_code_from_the_folder_the_worker_names(prefect_yaml) -> None:
    assert not prefect_yaml.get("build") and not prefect_yaml.get("push")
    [step] = prefect_yaml["pull"]
    directory = step["prefect.deployments.steps.set_working_directory"]["directory"]
    assert directory == "{{ $" + PROJECT_ROOT_VARIABLE + " }}"


@pytest.mark.parametrize(("name", "entrypoint", "cron"), [
    ("training", "flows/training.py:training_flow", "0 2 * * *"),
    ("monitoring", "flows/monitoring.py:monitoring_flow", "0 * * * *"),
    ("labels", "flows/labels.py:labels_flow", "30 * * * *"),
])
def test_prefect_yaml_schedules_each_flow_with_an_explicit_timezone(
    prefect_yaml, name, entrypoint, cron
) -> None:
    deployment = next(d for d in prefect_yaml["deployments"] if d["name"] == name)
    assert deployment["entrypoint"] == entrypoint
    assert deployment["work_pool"]["name"] == WORK_POOL
    assert deployment["concurrency_limit"] == 1
    [schedule] = deployment["schedules"]
    assert schedule["cron"] == cron
    assert schedule["timezone"]


# --- state file and processes ---------------------------------------------------------------


def test_state_round_trips(tmp_path: Path) -> None:
    state = ServicesState(ServiceUrls("http://a", "http://a/api", "http://b"), "w1",
                          [ServiceRecord("prefect-server", 12, "Mon", "/l", 4200, "http://a")])
    write_state(tmp_path / "services.json", state)
    assert read_state(tmp_path / "services.json") == state
    assert read_state(tmp_path / "missing.json") is None


def test_a_damaged_state_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "services.json").write_text("{not json")
    with pytest.raises(ValueError, match="services.json"):
        read_state(tmp_path / "services.json")


@pytest.mark.parametrize(("pgid", "expected"), [
    (10, {10, 11, 20, 21}),   # 20 left the group (own session) but descends from 11
    (30, {30}),
    (99, set()),
])
def test_group_and_descendants(pgid, expected) -> None:
    table = [ProcessRow(10, 1, 10), ProcessRow(11, 10, 10), ProcessRow(20, 11, 20),
             ProcessRow(21, 20, 20), ProcessRow(30, 1, 30)]
    assert group_and_descendants(pgid, table) == expected


def test_a_reused_pid_is_left_alone() -> None:
    record = ServiceRecord("prefect-server", os.getpid(), "a different start", "/l")
    state = ServicesState(ServiceUrls("a", "b", "c"), "w", [record])
    assert owned_pgids(state) == {}


def test_start_time_tells_processes_apart() -> None:
    assert start_time(os.getpid())
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        assert is_alive(sleeper.pid)
    finally:
        sleeper.send_signal(signal.SIGKILL)
        sleeper.wait()
    assert not is_alive(sleeper.pid)
    assert start_time(sleeper.pid) is None


def _spawn_tree(tmp_path: Path, ignore_term: bool) -> tuple[int, set[int]]:
    """A shell in its own session with a child, and a grandchild in another session."""
    trap = "trap '' TERM; " if ignore_term else ""
    script = f"{trap}sleep 60 & setsid sleep 60 & echo ready > {tmp_path}/ready; wait"
    leader = subprocess.Popen(["sh", "-c", script], start_new_session=True)
    wait_until(lambda: (tmp_path / "ready").exists(), what="tree", timeout=10,
               log_path=tmp_path)
    return leader.pid, group_and_descendants(leader.pid, process_table())


@pytest.mark.parametrize("ignore_term", [False, True])
def test_stop_groups_leaves_no_process_behind(tmp_path: Path, ignore_term: bool) -> None:
    leader, pids = _spawn_tree(tmp_path, ignore_term)
    assert len(pids) == 3
    assert stop_groups({leader: 1.0}) == set()
    assert not any(is_alive(pid) for pid in pids)


def test_wait_until_names_the_log_when_the_process_died(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="server.log"):
        wait_until(lambda: False, what="server", timeout=5, log_path=tmp_path / "server.log",
                   still_running=lambda: False)
    with pytest.raises(TimeoutError, match="server.log"):
        wait_until(lambda: False, what="server", timeout=0.3, log_path=tmp_path / "server.log")


# --- real servers ---------------------------------------------------------------------------


def _profiles_snapshot() -> float | None:
    profiles = Path.home() / ".prefect" / "profiles.toml"
    return profiles.stat().st_mtime if profiles.exists() else None


@pytest.mark.slow
@pytest.mark.services
def test_running_services_start_everything_and_stop_it_when_the_body_fails(
    tmp_path: Path, service_ports: tuple[int, int], recorded_pids
) -> None:
    profiles_before = _profiles_snapshot()
    pids: set[int] = set()
    with pytest.raises(ZeroDivisionError):
        with running_services(tmp_path, *service_ports, deploy=False) as urls:
            assert http_status(f"{urls.prefect_api}/health") == 200
            assert http_status(f"{urls.mlflow}/health") == 200
            assert http_status(urls.prefect_ui) == 200
            assert work_pool_exists(urls.prefect_api, WORK_POOL)
            assert online_workers(urls.prefect_api, WORK_POOL)
            pids = recorded_pids(tmp_path)
            assert len(pids) >= 4  # two servers, uvicorn under MLflow, the worker
            1 / 0  # noqa: B018 - the body fails; everything must stop anyway
    assert not [pid for pid in pids if is_alive(pid)]
    assert not (tmp_path / "services.json").exists()
    assert (tmp_path / "prefect" / "prefect.db").exists()
    assert _profiles_snapshot() == profiles_before


@pytest.mark.slow
@pytest.mark.services
def test_mlflow_server_serves_artifacts_from_the_state_folder(
    local_services: ServiceUrls, tmp_path: Path
) -> None:
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=local_services.mlflow)
    experiment_id = client.create_experiment("services-test")
    run = client.create_run(experiment_id)
    (tmp_path / "note.txt").write_text("served")
    client.log_artifact(run.info.run_id, str(tmp_path / "note.txt"))
    assert client.get_experiment(experiment_id).artifact_location.startswith("mlflow-artifacts:")
    downloaded = client.download_artifacts(run.info.run_id, "note.txt", str(tmp_path / "out"))
    assert Path(downloaded).read_text() == "served"


STUB_FLOWS = {
    "training": '''
import os
from pathlib import Path
from prefect import flow

@flow(name="training")
def training_flow(reason: str = "manual") -> None:
    Path("training-ran-here.txt").write_text(os.environ["MLFLOW_TRACKING_URI"])
''',
    "monitoring": '''
from prefect import flow

@flow(name="monitoring")
def monitoring_flow() -> None:
    pass
''',
    "labels": '''
from prefect import flow

@flow(name="labels")
def labels_flow() -> None:
    pass
''',
}


def _stub_project(root: Path) -> Path:
    """The project's prefect.yaml next to stub flows with the same entrypoints."""
    (root / "flows").mkdir(parents=True)
    config = yaml.safe_load(PREFECT_YAML.read_text())
    for deployment in config["deployments"]:
        deployment.pop("parameters", None)  # the stubs take no configuration
    (root / "prefect.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    for name, source in STUB_FLOWS.items():
        (root / "flows" / f"{name}.py").write_text(source)
    return root


@pytest.fixture(scope="module")
def stub_services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServiceUrls, Path]]:
    """Services with prefect.yaml deployed from a copy of the project holding stub flows."""
    project = _stub_project(tmp_path_factory.mktemp("project"))
    prefect_port, mlflow_port = free_ports(2)
    with running_services(tmp_path_factory.mktemp("state"), prefect_port, mlflow_port,
                          deploy=True, project_root=project) as urls:
        yield urls, project


def _deployments(api_url: str) -> dict:
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: api_url}), get_client(sync_client=True) as client:
        return {d.name: d for d in client.read_deployments()}


def _run_and_wait(api_url: str, name: str, timeout: float = 120) -> str:
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: api_url}), get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(name)
        flow_run = client.create_flow_run_from_deployment(deployment.id)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = client.read_flow_run(flow_run.id).state
            if state is not None and state.is_final():
                return state.type.value
            time.sleep(0.5)
    raise TimeoutError(f"flow run of {name} not finished after {timeout} s")


def _assert_deployed(deployments: dict) -> None:
    expected = {"training": ("0 2 * * *", "UTC"), "monitoring": ("0 * * * *", "UTC"),
                "labels": ("30 * * * *", "UTC")}
    assert set(deployments) == set(expected)
    for name, (cron, timezone) in expected.items():
        deployment = deployments[name]
        [schedule] = deployment.schedules
        assert (schedule.schedule.cron, schedule.schedule.timezone) == (cron, timezone)
        assert deployment.work_pool_name == WORK_POOL
        [step] = deployment.pull_steps
        directory = step["prefect.deployments.steps.set_working_directory"]["directory"]
        assert directory == "{{ $" + PROJECT_ROOT_VARIABLE + " }}"  # resolved by the worker
    assert deployments["training"].global_concurrency_limit.limit == 1
    assert deployments["labels"].global_concurrency_limit.limit == 1


@pytest.mark.slow
@pytest.mark.services
def test_prefect_yaml_deploys_every_flow_with_its_schedule(stub_services) -> None:
    urls, _ = stub_services
    _assert_deployed(_deployments(urls.prefect_api))


@pytest.mark.slow
@pytest.mark.services
def test_the_worker_runs_a_deployment_inside_the_project(stub_services) -> None:
    urls, project = stub_services
    assert _run_and_wait(urls.prefect_api, "training/training") == "COMPLETED"
    assert (project / "training-ran-here.txt").read_text() == urls.mlflow


@pytest.mark.slow
@pytest.mark.services
def test_a_failed_deploy_names_its_log_and_stops_what_was_started(
    tmp_path: Path, service_ports: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _stub_project(tmp_path / "project")
    (project / "flows" / "monitoring.py").write_text("raise ImportError('broken flow')\n")
    started: list[int] = []
    original_start = lifecycle.start_process

    def recording_start(spec):
        process = original_start(spec)
        started.append(process.pid)
        return process

    monkeypatch.setattr(lifecycle, "start_process", recording_start)
    with pytest.raises(RuntimeError, match="prefect-deploy.log"):
        with running_services(tmp_path / "state", *service_ports, deploy=True,
                              project_root=project):
            pass
    assert len(started) == 3
    assert not [pid for pid in started if is_alive(pid)]
    assert all(probes.port_is_free("127.0.0.1", port) for port in service_ports)
    assert "monitoring_flow" in (tmp_path / "state" / "logs" / "prefect-deploy.log").read_text()


REAL_ENTRYPOINTS = [PROJECT_ROOT / "flows" / f"{name}.py"
                    for name in ("training", "monitoring", "labels")]


@pytest.mark.slow
@pytest.mark.services
@pytest.mark.skipif(not all(path.exists() for path in REAL_ENTRYPOINTS),
                    reason="flows/training.py, monitoring.py and labels.py are not all written yet")
def test_the_real_flows_deploy_from_prefect_yaml(
    tmp_path: Path, service_ports: tuple[int, int]
) -> None:
    with running_services(tmp_path, *service_ports, deploy=True) as urls:
        deployments = _deployments(urls.prefect_api)
    _assert_deployed(deployments)
    [nightly] = deployments["training"].schedules
    assert nightly.parameters == {"reason": "schedule"}  # manual runs keep "manual"
    assert "reason" not in deployments["training"].parameters


# --- the UI in a browser --------------------------------------------------------------------


def _dump_dom(url: str, profile: Path) -> str:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", "--virtual-time-budget=15000", "--dump-dom"]
    env = {**os.environ, "HOME": str(profile), "XDG_CONFIG_HOME": str(profile / "config"),
           "XDG_CACHE_HOME": str(profile / "cache")}
    result = subprocess.run([CHROMIUM, *flags, url], capture_output=True, text=True, env=env,
                            timeout=90, check=True, start_new_session=True)
    return result.stdout


@pytest.mark.slow
@pytest.mark.services
@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_the_ui_lists_every_deployment(stub_services, tmp_path: Path) -> None:
    urls, _ = stub_services
    dom = _dump_dom(f"{urls.prefect_ui}/deployments", tmp_path / "chromium")
    names = set(re.findall(r'class="deployment-list__name" title="([^"]+)"', dom))
    assert names == {"training", "monitoring", "labels"}

