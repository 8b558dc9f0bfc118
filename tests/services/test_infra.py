"""Infrastructure files: the compose stack, its env example, the DVC remote and the linters."""

import configparser
import copy
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import yaml

from nids.paths import PROJECT_ROOT as REPO_ROOT

COMPOSE = REPO_ROOT / "docker" / "docker-compose.yml"
SCHEMA = REPO_ROOT / "docker" / "compose-spec.schema.json"
ENV_EXAMPLE = REPO_ROOT / "docker" / ".env.example"
CHECK_COMPOSE = REPO_ROOT / "scripts" / "check_compose.py"
CHECK_INFRA = REPO_ROOT / "scripts" / "check_infra.sh"
MISSING_LINTER_STATUS = 3  # scripts/check_infra.sh: nothing failed, but a linter is not installed


@pytest.fixture(scope="module")
def compose(check_compose) -> dict:
    return check_compose.load_yaml(COMPOSE)


@pytest.fixture(scope="module")
def schema(check_compose) -> dict:
    return check_compose.load_schema(SCHEMA)


def run_check_compose(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(CHECK_COMPOSE), *args], capture_output=True, text=True, timeout=60
    )


def test_compose_file_matches_the_compose_spec_schema(compose, schema, check_compose):
    assert check_compose.schema_errors(compose, schema) == []


def test_check_compose_accepts_the_compose_file():
    result = run_check_compose()
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stderr


def set_key(path: str, value: object) -> Callable[[dict], None]:
    """A mutation that sets the dotted key of a compose document."""

    def mutate(document: dict) -> None:
        *parents, last = path.split(".")
        node = document
        for key in parents:
            node = node[key]
        node[last] = value

    return mutate


BROKEN_COPIES = [
    pytest.param(
        set_key("services.postgres.healthchek", {"test": ["CMD", "true"]}),
        "services.postgres: Unevaluated properties are not allowed ('healthchek' was unexpected)",
        id="misspelt-service-key",
    ),
    pytest.param(
        set_key("services.mlflow.ports", "5000:5000"),
        "services.mlflow.ports: '5000:5000' is not of type 'array'",
        id="ports-not-a-list",
    ),
    pytest.param(
        set_key("services.worker.depends_on.mlflow.condition", "service_ready"),
        "services.worker.depends_on.mlflow.condition: 'service_ready' is not one of",
        id="unknown-depends-on-condition",
    ),
    pytest.param(
        set_key("service", {}),
        "(top level): 'service' does not match any of the regexes: '^x-'",
        id="unknown-top-level-key",
    ),
    pytest.param(
        set_key("services.mlflow.command", 5),
        "services.mlflow.command: 5 is not of type 'null' or 'string' or 'array'",
        id="command-of-wrong-type",
    ),
    pytest.param(
        set_key("services.postgres.restart", 5),
        "services.postgres.restart: 5 is not of type 'string'",
        id="restart-not-a-string",
    ),
]


@pytest.mark.parametrize(("mutate", "expected"), BROKEN_COPIES)
def test_broken_copy_fails_with_a_message_naming_the_place(tmp_path, compose, mutate, expected,
                                                           check_compose):
    broken = copy.deepcopy(compose)
    mutate(broken)
    path = tmp_path / "docker-compose.yml"
    path.write_text(yaml.safe_dump(broken, sort_keys=False))

    problems = check_compose.check(path, SCHEMA, ENV_EXAMPLE)

    assert any(expected in problem for problem in problems), problems


def test_check_compose_exits_non_zero_on_an_invalid_file(tmp_path, compose):
    broken = copy.deepcopy(compose)
    broken["services"]["mlflow"]["ports"] = "5000:5000"
    path = tmp_path / "docker-compose.yml"
    path.write_text(yaml.safe_dump(broken))

    result = run_check_compose(str(path), "--env-example", str(ENV_EXAMPLE))

    assert result.returncode == 1
    assert f"{path}: services.mlflow.ports: '5000:5000' is not of type 'array'" in result.stderr
    assert "INVALID" in result.stderr


def test_check_compose_names_an_unreadable_file(tmp_path):
    path = tmp_path / "docker-compose.yml"
    path.write_text("services: [unclosed\n")

    result = run_check_compose(str(path), "--env-example", str(ENV_EXAMPLE))

    assert result.returncode == 2
    assert f"{path}: cannot read YAML" in result.stderr


def test_every_published_port_binds_to_localhost_by_default(compose, check_compose):
    published = [
        (name, port)
        for name, service in compose["services"].items()
        for port in service.get("ports", [])
    ]
    assert published, "expected the Prefect and MLflow ports to be published"
    for name, port in published:
        host_ip = check_compose.interpolate(port, {}).split(":")[0]
        assert host_ip == "127.0.0.1", f"{name}: {port}"
    assert check_compose.port_binding_errors(compose) == []


@pytest.mark.parametrize(
    "port",
    [
        "4200:4200",
        "4200",
        4200,
        "0.0.0.0:4200:4200",
        "${BIND:-0.0.0.0}:4200:4200",
        "${BIND}:4200:4200",
        {"target": 4200, "published": 4200},
        {"target": 4200},
    ],
)
def test_port_rule_rejects_ports_open_to_every_interface(port, check_compose):
    document = {"services": {"web": {"ports": [port]}}}
    assert len(check_compose.port_binding_errors(document)) == 1


@pytest.mark.parametrize(
    "port",
    [
        "127.0.0.1:4200:4200",
        "[::1]:4200:4200/tcp",
        "${BIND:-127.0.0.1}:${PORT:-4200}:4200",
        {"target": 4200, "published": "4200", "host_ip": "127.0.0.1"},
    ],
)
def test_port_rule_accepts_loopback_ports(port, check_compose):
    assert check_compose.port_binding_errors({"services": {"web": {"ports": [port]}}}) == []


def test_every_service_has_a_healthcheck(compose, check_compose):
    for name, service in compose["services"].items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
        assert not service["healthcheck"].get("disable"), f"{name} disables its healthcheck"
    assert check_compose.healthcheck_errors(compose) == []


def test_services_start_after_their_dependencies_are_healthy(compose):
    conditions = [
        options["condition"]
        for service in compose["services"].values()
        for options in service.get("depends_on", {}).values()
    ]
    assert conditions and set(conditions) == {"service_healthy"}


def test_healthcheck_rule_rejects_a_service_without_one(check_compose):
    document = {"services": {"web": {"image": "x", "depends_on": ["db"]}}}
    assert check_compose.healthcheck_errors(document) == [
        "services.web: no healthcheck with a test command",
        "services.web.depends_on.db: use condition: service_healthy",
    ]


def test_env_example_defines_every_variable_the_compose_file_needs(compose, check_compose):
    required = check_compose.required_variables(compose)
    defined = check_compose.read_env_file(ENV_EXAMPLE)
    assert "POSTGRES_PASSWORD" in required
    assert sorted(name for name in required if not defined.get(name)) == []


def test_env_example_rule_names_the_missing_variable(tmp_path, compose, check_compose):
    env_example = tmp_path / ".env.example"
    env_example.write_text("POSTGRES_PASSWORD=x\nPREFECT_DB_PASSWORD=\n# MLFLOW_DB_PASSWORD=x\n")
    assert check_compose.env_example_errors(compose, env_example) == [
        f"{env_example}: no value for MLFLOW_DB_PASSWORD, which the compose file needs",
        f"{env_example}: no value for PREFECT_DB_PASSWORD, which the compose file needs",
    ]


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        ("${A:-x}", {}, "x"),
        ("${A:-x}", {"A": ""}, "x"),
        ("${A-x}", {"A": ""}, ""),
        ("${A:-${B:-y}}", {}, "y"),
        ("${A:+on}", {"A": "1"}, "on"),
        ("${A:+on}", {}, ""),
        ("$A/b", {"A": "a"}, "a/b"),
        ("$${A}", {"A": "a"}, "${A}"),
        ("${A:?set A}", {"A": "a"}, "a"),
    ],
)
def test_interpolation_follows_compose(text, env, expected, check_compose):
    assert check_compose.interpolate(text, env) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("${A:?set A in .env}", "required variable A is not set: set A in .env"),
        ("${A", "unclosed '${A'"),
        ("${1A}", "invalid variable name"),
    ],
)
def test_interpolation_errors_say_what_is_wrong(text, message, check_compose):
    with pytest.raises(ValueError, match=message.replace("$", r"\$").replace("{", r"\{")):
        check_compose.interpolate(text, {})


def test_required_variables_skip_those_with_defaults(check_compose):
    document = {"x": ["$A", "${B:-1}", "${C:?m}", "$${D}", "${E:+on}"]}
    assert check_compose.required_variables(document) == {"A", "C"}


class _StatusHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        self.send_response(200 if self.path == "/health" else 503)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def status_server():
    server = HTTPServer(("127.0.0.1", 0), _StatusHandler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_healthcheck_probe_passes_only_on_2xx(status_server, healthcheck):
    assert healthcheck.probe(f"{status_server}/health") is None
    assert "503" in healthcheck.probe(f"{status_server}/other")
    assert healthcheck.main(["healthcheck.py", f"{status_server}/other"]) == 1


def test_dvc_has_a_default_local_remote_outside_the_repository_and_no_analytics():
    config = configparser.ConfigParser()
    config.read(REPO_ROOT / ".dvc" / "config")
    remote = config["core"]["remote"]
    url = config[f"'remote \"{remote}\"'"]["url"]
    remote_path = (REPO_ROOT / ".dvc" / url).resolve()
    assert config["core"]["analytics"] == "false"
    assert "://" not in url, "the default remote should be a local folder"
    assert not remote_path.is_relative_to(REPO_ROOT)


def test_check_infra_passes():
    result = subprocess.run(
        ["bash", str(CHECK_INFRA)],
        env={**os.environ, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=180,
    )
    if result.returncode == MISSING_LINTER_STATUS:
        skipped = [line for line in result.stderr.splitlines() if "SKIPPED" in line]
        pytest.skip("; ".join(skipped) or "a linter is not installed")
    assert result.returncode == 0, result.stderr


def test_the_evidently_ui_serves_the_workspace_the_worker_writes(compose, check_compose):
    from nids.config import MonitoringConfig

    services = compose["services"]
    ui, worker = services["evidently"], services["worker"]
    reports = next(v for v in worker["volumes"] if v.endswith(":/app/reports"))
    assert reports in ui["volumes"]
    command = ui["command"]
    workspace = command[command.index("--workspace") + 1]
    assert workspace == "/app/" + MonitoringConfig().history.workspace_dir
    port = command[command.index("--port") + 1]
    assert [p.rsplit(":", 1)[1] for p in ui["ports"]] == [port]
    assert ui["healthcheck"]["test"][-1] == f"http://127.0.0.1:{port}/api/version"
    host, published, _ = check_compose.interpolate(ui["ports"][0], {}).split(":")
    # reports/index.html links to the dashboard where compose publishes it by default
    assert MonitoringConfig().history.dashboard_url == f"http://{host}:{published}"
