"""The Evidently UI among `make serve`'s services: its command, port, workspace and checks."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

from nids.config import MonitoringConfig, load_monitoring_config, project_path
from nids.services import free_ports, isolated_layout
from nids.services.__main__ import build_parser, layout_from_args
from nids.services.commands import EVIDENTLY_UI, server_specs, service_urls
from nids.services.lifecycle import _check_ports


def test_the_evidently_ui_serves_the_workspace_beside_the_other_servers(tmp_path: Path):
    layout = isolated_layout(tmp_path / "state", 4300, 5300, evidently_port=8301)
    specs = {spec.name: spec for spec in server_specs(layout, {"PATH": "/bin"})}
    ui = specs[EVIDENTLY_UI]
    assert set(specs) == {"prefect-server", "mlflow-server", EVIDENTLY_UI}
    assert ui.command == [sys.executable, "-m", "evidently.cli", "ui", "--host", "127.0.0.1",
                          "--port", "8301", "--workspace", str(tmp_path / "state" / "workspace")]
    assert ui.health_url == "http://127.0.0.1:8301/api/version"
    assert ui.url == service_urls(layout).evidently == "http://127.0.0.1:8301"
    assert ui.env == {"PATH": "/bin", "DO_NOT_TRACK": "1"}  # no usage telemetry


def test_without_a_port_the_evidently_ui_is_not_started(tmp_path: Path):
    layout = isolated_layout(tmp_path, 4300, 5300)
    assert EVIDENTLY_UI not in {spec.name for spec in server_specs(layout, {})}
    assert service_urls(layout).evidently is None


@pytest.mark.parametrize(("argv", "env", "port"), [
    (["up"], {}, 8001),
    (["up"], {"NIDS_EVIDENTLY_PORT": "8501"}, 8501),
    (["up", "--evidently-port", "8601"], {"NIDS_EVIDENTLY_PORT": "8501"}, 8601),
])
def test_the_evidently_port_comes_from_the_flag_then_env_then_default(argv, env, port):
    assert build_parser(env).parse_args(argv).evidently_port == port


def test_make_serve_serves_the_workspace_the_monitoring_config_names():
    layout = layout_from_args(build_parser({}).parse_args(["up"]))
    expected = project_path(load_monitoring_config().history.workspace_dir)
    assert layout.workspace_dir == expected.resolve()
    assert expected == project_path(MonitoringConfig().history.workspace_dir)
    other = layout_from_args(build_parser({}).parse_args(
        ["up", "--evidently-workspace", "/srv/ws"]))
    assert other.workspace_dir == Path("/srv/ws")


def test_a_taken_evidently_port_is_refused_with_the_flag_to_change_it(tmp_path: Path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        layout = isolated_layout(tmp_path, *free_ports(2), evidently_port=taken.getsockname()[1])
        with pytest.raises(RuntimeError, match="--evidently-port"):
            _check_ports(layout)
