"""What to start, as data: URLs, environments and command lines of the local services.

Pure functions only: nothing here starts a process, so all of it is testable as values.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from nids.paths import PROJECT_ROOT

HOST = "127.0.0.1"
DEFAULT_PREFECT_PORT = 4200
DEFAULT_MLFLOW_PORT = 5000
DEFAULT_SCORING_PORT = 8000
DEFAULT_EVIDENTLY_PORT = 8001
WORK_POOL = "nids-process"
# prefect.yaml's pull step reads this variable on the worker (see the comment there).
PROJECT_ROOT_VARIABLE = "NIDS_PROJECT_ROOT"

PREFECT_SERVER, MLFLOW_SERVER, PREFECT_WORKER = "prefect-server", "mlflow-server", "prefect-worker"
SCORING_API = "scoring-api"
# The project's loggers (`nids.*`) go to the run logs in the Prefect UI; outside a flow run
# they just print (Prefect would warn about each line it cannot attach to a run).
LOGGING_SETTINGS = {
    "PREFECT_LOGGING_EXTRA_LOGGERS": "nids",
    "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",
}
# Seconds between a flow run's heartbeats; the zombie-run automation (nids.services.zombies)
# marks a run Crashed when they stop.
HEARTBEAT_SECONDS = 60
EVIDENTLY_UI = "evidently-ui"


@dataclass(frozen=True)
class ServiceLayout:
    """Where the services keep their state and which loopback ports they listen on."""

    state_dir: Path
    prefect_port: int
    mlflow_port: int
    mlflow_db: Path
    artifacts_dir: Path
    project_root: Path = PROJECT_ROOT
    host: str = HOST
    scoring_port: int | None = None   # None: no scoring API (tests of the flows' services)
    # The Evidently UI over the monitoring workspace; not started when the port is None.
    evidently_port: int | None = None
    workspace_dir: Path | None = None

    @property
    def prefect_home(self) -> Path:
        return self.state_dir / "prefect"

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def state_file(self) -> Path:
        return state_file(self.state_dir)

    def log_path(self, name: str) -> Path:
        return self.logs_dir / f"{name}.log"


@dataclass(frozen=True)
class ServiceSpec:
    """One long-running process: its command line, environment, log and health URL."""

    name: str
    command: list[str]
    env: dict[str, str] = field(repr=False)
    cwd: Path
    log_path: Path
    port: int | None = None
    url: str | None = None
    health_url: str | None = None


@dataclass(frozen=True)
class ServiceUrls:
    prefect_ui: str
    prefect_api: str
    mlflow: str
    scoring: str | None = None
    evidently: str | None = None


def state_file(state_dir: Path) -> Path:
    return state_dir / "services.json"


def isolated_layout(state_dir: Path, prefect_port: int, mlflow_port: int,
                    project_root: Path = PROJECT_ROOT,
                    evidently_port: int | None = None) -> ServiceLayout:
    """A layout whose MLflow store (and Evidently workspace) also live in `state_dir` (tests,
    benchmarks)."""
    state_dir = state_dir.resolve()
    return ServiceLayout(state_dir, prefect_port, mlflow_port, state_dir / "mlflow.db",
                         state_dir / "mlartifacts", project_root.resolve(),
                         evidently_port=evidently_port, workspace_dir=state_dir / "workspace")


def service_urls(layout: ServiceLayout) -> ServiceUrls:
    prefect = f"http://{layout.host}:{layout.prefect_port}"
    scoring = f"http://{layout.host}:{layout.scoring_port}" if layout.scoring_port else None
    evidently = None if layout.evidently_port is None else (
        f"http://{layout.host}:{layout.evidently_port}")
    return ServiceUrls(prefect_ui=prefect, prefect_api=f"{prefect}/api",
                       mlflow=f"http://{layout.host}:{layout.mlflow_port}", scoring=scoring,
                       evidently=evidently)


def prefect_env(layout: ServiceLayout, base: Mapping[str, str]) -> dict[str, str]:
    """Settings of every Prefect process, as env vars so no profile file is ever written."""
    env = {key: value for key, value in base.items() if not key.startswith("PREFECT_")}
    env.pop(PROJECT_ROOT_VARIABLE, None)
    env.update({
        "PREFECT_HOME": str(layout.prefect_home.resolve()),
        "PREFECT_API_URL": service_urls(layout).prefect_api,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_CLI_COLORS": "false",
        # Browsers may call the API from the UI's own origin only (Prefect's default: any).
        "PREFECT_SERVER_API_CORS_ALLOWED_ORIGINS": ",".join(ui_origins(layout)),
        **LOGGING_SETTINGS,
    })
    return env


def ui_origins(layout: ServiceLayout) -> list[str]:
    """The origins the UI is served from: the loopback address, and `localhost`."""
    return [f"http://{host}:{layout.prefect_port}" for host in (layout.host, "localhost")]


def worker_env(layout: ServiceLayout, base: Mapping[str, str]) -> dict[str, str]:
    """The worker's settings, inherited by its flow runs: APIs to report to, where the code is."""
    env = prefect_env(layout, base)
    env["MLFLOW_TRACKING_URI"] = service_urls(layout).mlflow
    env[PROJECT_ROOT_VARIABLE] = str(layout.project_root.resolve())
    env["PREFECT_FLOWS_HEARTBEAT_FREQUENCY"] = str(HEARTBEAT_SECONDS)
    return env


def mlflow_env(base: Mapping[str, str]) -> dict[str, str]:
    """MLflow server settings: no GenAI job runner (seven huey consumers we never use)."""
    env = {key: value for key, value in base.items() if key != "MLFLOW_TRACKING_URI"}
    env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
    return env


def scoring_env(layout: ServiceLayout, base: Mapping[str, str],
                tracking_uri: str) -> dict[str, str]:
    """The scoring API's settings (see nids.serving.settings): loopback, its port, the store."""
    env = dict(base)
    env.update({"NIDS_SCORING_HOST": layout.host, "NIDS_SCORING_PORT": str(layout.scoring_port),
                "MLFLOW_TRACKING_URI": tracking_uri})
    return env
def evidently_env(base: Mapping[str, str]) -> dict[str, str]:
    """Evidently UI settings: no usage telemetry (any DO_NOT_TRACK value turns it off)."""
    return {**base, "DO_NOT_TRACK": "1"}


def prefect_command(*args: str) -> list[str]:
    """The Prefect CLI of this interpreter, never whichever `prefect` is first on PATH."""
    return [sys.executable, "-m", "prefect", *args]


def prefect_server_command(layout: ServiceLayout) -> list[str]:
    return prefect_command("server", "start", "--host", layout.host,
                           "--port", str(layout.prefect_port))


def mlflow_server_command(layout: ServiceLayout) -> list[str]:
    return [sys.executable, "-m", "mlflow", "server",
            "--host", layout.host, "--port", str(layout.mlflow_port),
            "--backend-store-uri", f"sqlite:///{layout.mlflow_db.resolve()}",
            "--artifacts-destination", str(layout.artifacts_dir.resolve()),
            "--serve-artifacts", "--workers", "1"]


def evidently_ui_command(layout: ServiceLayout) -> list[str]:
    """`evidently ui` of this interpreter, serving the monitoring flow's workspace."""
    if layout.evidently_port is None or layout.workspace_dir is None:
        raise ValueError("the Evidently UI needs a port and a workspace folder in the layout")
    return [sys.executable, "-m", "evidently.cli", "ui", "--host", layout.host,
            "--port", str(layout.evidently_port),
            "--workspace", str(layout.workspace_dir.resolve())]


def worker_command(worker_name: str, pool: str = WORK_POOL) -> list[str]:
    return prefect_command("worker", "start", "--pool", pool, "--name", worker_name,
                           "--type", "process", "--no-create-pool-if-not-found")


def create_pool_command(pool: str = WORK_POOL) -> list[str]:
    return prefect_command("--no-prompt", "work-pool", "create", pool, "--type", "process")


def deploy_command() -> list[str]:
    return prefect_command("--no-prompt", "deploy", "--all")


def zombie_automation_command() -> list[str]:
    """Creates the automation that marks runs whose heartbeats stopped Crashed."""
    return [sys.executable, "-m", "nids.services.zombies"]


def server_specs(layout: ServiceLayout, base_env: Mapping[str, str]) -> list[ServiceSpec]:
    """The servers (Prefect, MLflow, the Evidently UI if it has a port): they start side by
    side."""
    urls = service_urls(layout)
    specs = [
        ServiceSpec(PREFECT_SERVER, prefect_server_command(layout), prefect_env(layout, base_env),
                    layout.project_root, layout.log_path(PREFECT_SERVER), layout.prefect_port,
                    urls.prefect_ui, f"{urls.prefect_api}/health"),
        ServiceSpec(MLFLOW_SERVER, mlflow_server_command(layout), mlflow_env(base_env),
                    layout.project_root, layout.log_path(MLFLOW_SERVER), layout.mlflow_port,
                    urls.mlflow, f"{urls.mlflow}/health"),
    ]
    if urls.evidently is not None:
        specs.append(ServiceSpec(EVIDENTLY_UI, evidently_ui_command(layout),
                                 evidently_env(base_env), layout.project_root,
                                 layout.log_path(EVIDENTLY_UI), layout.evidently_port,
                                 urls.evidently, f"{urls.evidently}/api/version"))
    return specs


def scoring_spec(layout: ServiceLayout, base_env: Mapping[str, str],
                 tracking_uri: str | None = None) -> ServiceSpec:
    """The scoring API (`python -m nids.serving`), reading the registry through the MLflow
    server unless another tracking URI is given."""
    if layout.scoring_port is None:
        raise ValueError("The layout has no scoring port; give one (--scoring-port).")
    url = service_urls(layout).scoring
    env = scoring_env(layout, base_env, tracking_uri or service_urls(layout).mlflow)
    return ServiceSpec(SCORING_API, [sys.executable, "-m", "nids.serving"], env,
                       layout.project_root, layout.log_path(SCORING_API), layout.scoring_port,
                       url, f"{url}/health")


def worker_spec(layout: ServiceLayout, base_env: Mapping[str, str],
                worker_name: str) -> ServiceSpec:
    return ServiceSpec(PREFECT_WORKER, worker_command(worker_name), worker_env(layout, base_env),
                       layout.project_root, layout.log_path(PREFECT_WORKER))
