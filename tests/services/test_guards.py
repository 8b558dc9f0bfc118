"""What `make serve` guards: the API answers browsers of the UI's own origin only, flow runs of
its worker log the project's own lines and send heartbeats, and the zombie-run automation
exists on its server."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from nids.paths import PROJECT_ROOT
from nids.services import ServiceUrls, isolated_layout
from nids.services.commands import HEARTBEAT_SECONDS, prefect_env, worker_env
from nids.services.zombies import AUTOMATION_NAME, ZOMBIE_AFTER, zombie_automation


@pytest.fixture
def layout(tmp_path: Path):
    return isolated_layout(tmp_path / "state", 4300, 5300, project_root=tmp_path / "project")


def test_the_api_allows_the_ui_origin_only(layout) -> None:
    env = prefect_env(layout, {})
    assert env["PREFECT_SERVER_API_CORS_ALLOWED_ORIGINS"] == (
        "http://127.0.0.1:4300,http://localhost:4300")


def test_every_prefect_process_routes_the_project_loggers_to_the_run_log(layout) -> None:
    for env in (prefect_env(layout, {}), worker_env(layout, {})):
        assert env["PREFECT_LOGGING_EXTRA_LOGGERS"] == "nids"
        assert env["PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW"] == "ignore"


def test_flow_runs_of_the_worker_send_heartbeats(layout) -> None:
    assert worker_env(layout, {})["PREFECT_FLOWS_HEARTBEAT_FREQUENCY"] == str(HEARTBEAT_SECONDS)
    assert ZOMBIE_AFTER.total_seconds() >= 3 * 180  # three beats at Prefect's default too


def test_the_zombie_automation_crashes_runs_without_heartbeats() -> None:
    automation = zombie_automation()
    trigger = automation.trigger
    assert trigger.posture == "Proactive" and trigger.after == {"prefect.flow-run.heartbeat"}
    assert "prefect.flow-run.Completed" in trigger.expect and trigger.within == ZOMBIE_AFTER
    assert [action.type for action in automation.actions] == ["change-flow-run-state"]
    assert automation.actions[0].state == "CRASHED"


# --- against the real servers of `make serve` -------------------------------------------------

def cors_headers(url: str, origin: str, method: str = "GET") -> dict[str, str]:
    """The response headers to a browser's preflight from `origin`."""
    request = urllib.request.Request(url, method="OPTIONS", headers={
        "Origin": origin, "Access-Control-Request-Method": method})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return {key.lower(): value for key, value in response.headers.items()}
    except urllib.error.HTTPError as error:  # a refused preflight answers 400
        return {key.lower(): value for key, value in error.headers.items()}


@pytest.mark.slow
@pytest.mark.services
def test_a_cross_origin_request_from_another_site_gets_no_cors_header(
    local_services: ServiceUrls,
) -> None:
    """Issue 10: the API accepted cross-origin requests from any site."""
    url = f"{local_services.prefect_api}/deployments/filter"
    for origin in ("http://evil.example", "http://127.0.0.1:1"):
        assert "access-control-allow-origin" not in cors_headers(url, origin, "POST")
    request = urllib.request.Request(f"{local_services.prefect_api}/health",
                                     headers={"Origin": "http://evil.example"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers.get("access-control-allow-origin") is None
    ui = local_services.prefect_ui
    assert cors_headers(url, ui, "POST")["access-control-allow-origin"] == ui


@pytest.mark.slow
@pytest.mark.services
def test_the_zombie_automation_exists_on_the_server(local_services: ServiceUrls) -> None:
    from prefect.automations import Automation
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: local_services.prefect_api}):
        automation = Automation.read(name=AUTOMATION_NAME)
    assert automation.enabled and automation.trigger.within == ZOMBIE_AFTER


# A flow run whose only INFO line comes from the library (nids.data.claims).
PROBE = textwrap.dedent("""
    import sys
    from pathlib import Path
    from prefect import flow
    from prefect.runtime import flow_run
    from nids.data import claims

    @flow
    def probe(folder: str) -> None:
        claims.claim_ready(Path(folder), "probe", 0, 900)
        print("RUN", flow_run.get_id())

    probe(sys.argv[1])
""")


@pytest.mark.slow
@pytest.mark.services
def test_the_library_logs_reach_the_run_log_with_the_workers_environment(
    local_services: ServiceUrls, tmp_path: Path
) -> None:
    """Issue 10: 'Reusing parsed data', 'Started deployment ...' never reached the run log."""
    from prefect import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.settings import PREFECT_API_URL, temporary_settings

    (tmp_path / "incoming").mkdir()
    (tmp_path / "incoming" / "a.csv").write_text("x")
    prefect_port = urlsplit(local_services.prefect_api).port
    mlflow_port = urlsplit(local_services.mlflow).port
    layout = isolated_layout(tmp_path / "state", prefect_port, mlflow_port)
    clean = {key: value for key, value in os.environ.items()
             if not key.startswith("PREFECT_LOGGING")}  # the test run's own settings out
    env = worker_env(layout, clean) | {"PYTHONPATH": str(PROJECT_ROOT)}
    (tmp_path / "probe.py").write_text(PROBE)
    result = subprocess.run([sys.executable, str(tmp_path / "probe.py"),
                             str(tmp_path / "incoming")], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=300, check=True)
    run_id = result.stdout.split("RUN ", 1)[1].split()[0]
    with temporary_settings(updates={PREFECT_API_URL: local_services.prefect_api}):
        with get_client(sync_client=True) as client:
            for _ in range(50):
                logs = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id])))
                if any(log.name == "nids.data.claims" for log in logs):
                    break
                time.sleep(0.2)
    assert [log.message for log in logs if log.name == "nids.data.claims"] == [
        "Claimed a.csv for run probe"]
