"""Configuration is read when a flow runs: a broken config/training.yaml breaks neither
importing the monitoring flow (nor `prefect deploy`, which imports it) nor a monitoring run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nids.paths import PROJECT_ROOT

pytestmark = pytest.mark.slow  # starts an ephemeral Prefect server in a fresh process

# Runs in a copy of the project; prints what the test checks.
SCRIPT = """
import nids.paths
from nids.config import load_training_config

print("root", nids.paths.PROJECT_ROOT)
try:
    load_training_config()
except ValueError as error:
    print("training.yaml refused:", str(error).splitlines()[0])

from flows.monitoring import monitoring_flow

print("outcomes", monitoring_flow())
"""


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """The flows, the library and the config files, with a YAML typo in training.yaml."""
    project = tmp_path / "project"
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(PROJECT_ROOT / "src" / "nids", project / "src" / "nids", ignore=ignore)
    shutil.copytree(PROJECT_ROOT / "flows", project / "flows", ignore=ignore)
    shutil.copytree(PROJECT_ROOT / "config", project / "config")
    (project / "config" / "training.yaml").write_text("model: {n_estimators: [400\n")
    return project


def test_the_monitoring_flow_imports_and_runs_with_a_broken_training_config(
    project_copy: Path, tmp_path: Path
) -> None:
    env = {name: value for name, value in os.environ.items() if not name.startswith("PREFECT_")}
    env |= {
        # Ahead of the editable install, so the copy is what gets imported.
        "PYTHONPATH": os.pathsep.join([str(project_copy / "src"), str(project_copy)]),
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",  # slow on a busy machine
        "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}",
    }
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=project_copy, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"root {project_copy}" in result.stdout
    broken = project_copy / "config" / "training.yaml"
    assert f"training.yaml refused: {broken}" in result.stdout  # the typo is really read
    assert "outcomes []" in result.stdout  # no batch in the copy's data/incoming/
