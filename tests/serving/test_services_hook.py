"""`make serve` / `make status` / `make stop` include the scoring API, and so does compose."""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import socket
import sys
from pathlib import Path

import pytest

from nids.paths import PROJECT_ROOT
from nids.services import free_ports, isolated_layout
from nids.services.__main__ import build_parser, layout_from_args, main
from nids.services.commands import SCORING_API, scoring_spec, service_urls
from nids.services.lifecycle import _check_ports
from nids.services.processes import start_time
from nids.services.state import ServiceRecord, ServicesState, write_state

COMPOSE = PROJECT_ROOT / "docker" / "docker-compose.yml"


@pytest.fixture
def layout(tmp_path: Path):
    base = isolated_layout(tmp_path / "state", 4300, 5300, project_root=tmp_path / "project")
    return dataclasses.replace(base, scoring_port=8300)


def test_the_scoring_spec_runs_the_service_on_loopback_against_the_mlflow_server(layout):
    spec = scoring_spec(layout, {"PATH": "/bin", "NIDS_SCORING_HOST": "0.0.0.0"})
    assert spec.name == SCORING_API == "scoring-api"
    assert spec.command == [sys.executable, "-m", "nids.serving"]
    assert spec.env["NIDS_SCORING_HOST"] == "127.0.0.1"  # never what the caller's env says
    assert spec.env["NIDS_SCORING_PORT"] == "8300"
    assert spec.env["MLFLOW_TRACKING_URI"] == "http://127.0.0.1:5300"
    assert spec.env["PATH"] == "/bin"
    assert (spec.url, spec.health_url) == ("http://127.0.0.1:8300", "http://127.0.0.1:8300/health")
    assert service_urls(layout).scoring == "http://127.0.0.1:8300"
    assert scoring_spec(layout, {}, "sqlite:////x/mlflow.db").env["MLFLOW_TRACKING_URI"] == (
        "sqlite:////x/mlflow.db")


def test_a_layout_without_a_scoring_port_has_no_scoring_service(tmp_path):
    layout = isolated_layout(tmp_path, 4300, 5300)
    assert service_urls(layout).scoring is None
    with pytest.raises(ValueError, match="--scoring-port"):
        scoring_spec(layout, {})


@pytest.mark.parametrize(("argv", "env", "port"), [
    (["up"], {}, 8000),
    (["up"], {"NIDS_SCORING_PORT": "8100"}, 8100),
    (["up", "--scoring-port", "8200"], {"NIDS_SCORING_PORT": "8100"}, 8200),
    (["up", "--no-scoring"], {"NIDS_SCORING_PORT": "8100"}, None),
])
def test_the_scoring_port_comes_from_the_flag_then_env_then_default(argv, env, port):
    assert layout_from_args(build_parser(env).parse_args(argv)).scoring_port == port


def test_a_taken_scoring_port_is_refused_with_the_flag_to_change_it(tmp_path):
    prefect_port, mlflow_port = free_ports(2)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        layout = dataclasses.replace(isolated_layout(tmp_path, prefect_port, mlflow_port),
                                     scoring_port=taken.getsockname()[1])
        with pytest.raises(RuntimeError, match="scoring API server is taken .*--scoring-port"):
            _check_ports(layout)


def test_status_lists_the_scoring_api(tmp_path, capsys):
    record = ServiceRecord(SCORING_API, os.getpid(), start_time(os.getpid()), "/logs/s.log",
                           8000, "http://127.0.0.1:8000")
    urls = service_urls(dataclasses.replace(isolated_layout(tmp_path, 1, 2), scoring_port=8000))
    write_state(tmp_path / "services.json", ServicesState(urls, "w", [record]))
    assert main(["--state-dir", str(tmp_path), "status"], env={}) == 0
    [line] = capsys.readouterr().out.splitlines()
    assert line.split()[:2] == ["scoring-api", "running"] and "http://127.0.0.1:8000" in line


# --- the compose service -------------------------------------------------------------------


def _check_compose():
    spec = importlib.util.spec_from_file_location("check_compose",
                                                  PROJECT_ROOT / "scripts" / "check_compose.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_compose_runs_the_scoring_api_with_a_health_check_on_loopback():
    check_compose = _check_compose()
    compose = check_compose.load_yaml(COMPOSE)
    scoring, worker = compose["services"]["scoring"], compose["services"]["worker"]
    assert scoring["command"] == ["python", "-m", "nids.serving"]
    assert scoring["healthcheck"]["test"][-1] == "http://127.0.0.1:8000/health"
    [port] = scoring["ports"]
    assert check_compose.interpolate(port, {}) == "127.0.0.1:8000:8000"
    assert scoring["environment"]["MLFLOW_TRACKING_URI"] == "http://mlflow:5000"
    assert scoring["depends_on"] == {"mlflow": {"condition": "service_healthy"}}
    data = [volume for volume in worker["volumes"] if volume.endswith(":/app/data")]
    assert data and data[0] in scoring["volumes"]  # the monitoring flow sees the batches
    assert check_compose.check(COMPOSE, PROJECT_ROOT / "docker" / "compose-spec.schema.json",
                               PROJECT_ROOT / "docker" / ".env.example") == []
