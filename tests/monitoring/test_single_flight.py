"""Single-flight retraining across processes: two monitoring processes asking for a retrain at
the same moment against one real Prefect server start one training run, not two."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from prefect import get_client
from prefect.client.schemas.filters import FlowFilter, FlowFilterName

from nids.monitoring import retrain
from nids.monitoring.outcomes import RetrainOutcome
from nids.paths import PROJECT_ROOT

pytestmark = pytest.mark.services

# A monitoring process: waits for the other one (then for its delay), then asks for a retrain;
# the training flow stands in for the real one (same flow name, two seconds of work).
MONITOR = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from prefect import flow
    from nids.config import RetrainConfig
    from nids.monitoring import retrain
    from tests.support.barrier import wait_for_each_other

    @flow(name=retrain.TRAINING_FLOW_NAME)
    def training(reason: str) -> None:
        time.sleep(2)

    wait_for_each_other(Path(sys.argv[1]), parties=2)
    time.sleep(float(sys.argv[2]))
    outcome = retrain.retrain_single_flight("drift in x.csv", RetrainConfig(cooldown_hours=1),
                                            run_locally=training)
    print("OUTCOME", outcome.model_dump_json())
""")


def training_runs() -> list[str]:
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=[retrain.TRAINING_FLOW_NAME])))
    return [run.name for run in runs]


def test_two_processes_at_once_start_one_training(prefect_api, tmp_path: Path):
    script = tmp_path / "monitor.py"
    script.write_text(MONITOR)
    # A store of its own: no champion whose data the retrain would repeat (no skip).
    env = {**os.environ, "PREFECT_API_URL": prefect_api,
           "PREFECT_HOME": str(tmp_path / "home"), "PYTHONPATH": str(PROJECT_ROOT),
           "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"}
    processes = [subprocess.Popen([sys.executable, str(script), str(tmp_path / "ready"),
                                   str(delay)],
                                  env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
                 for delay in (0.0, 0.2)]  # 0.2 s apart, as in the issue
    outputs = [process.communicate(timeout=240) for process in processes]
    for process, (_, stderr) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, stderr[-3000:]
    outcomes = [RetrainOutcome.model_validate(json.loads(line.split(" ", 1)[1]))
                for stdout, _ in outputs for line in stdout.splitlines()
                if line.startswith("OUTCOME ")]
    assert sorted(outcome.started for outcome in outcomes) == [False, True]
    [refused] = [outcome for outcome in outcomes if not outcome.started]
    assert "cooldown" in refused.why or "in progress" in refused.why
    assert len(training_runs()) == 1


def test_the_gate_limit_exists_with_one_slot(prefect_api):
    with get_client(sync_client=True) as client:
        limit = client.read_global_concurrency_limit_by_name(retrain.GATE_LIMIT)
    assert limit.limit == 1 and limit.active
