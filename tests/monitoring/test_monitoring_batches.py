"""End-to-end runs of the real monitoring flow on how batches arrive and leave: a batch still
being copied, a small batch, a rerun after a failed hand-over, two runs at once, and a failing
alert channel (last: it retrains)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import time

import pandas as pd
import pytest
from prefect import get_client
from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

from flows.monitoring import monitoring_flow
from nids.data import incoming
from nids.data.incoming import mark_ready
from nids.paths import PROJECT_ROOT
from tests.support.incoming import arrive

pytestmark = pytest.mark.slow


def test_a_batch_still_being_written_is_left_for_a_later_run(
    workspace, small_monitoring_config
) -> None:
    """Issue 10: a batch copied line by line was scored half-way, and its other rows never."""
    folder, training, batches = workspace
    folder = folder / "copying"
    config = small_monitoring_config(folder, training)
    config.retrain.enabled = False
    incoming = folder / "incoming"
    incoming.mkdir(parents=True)
    source = batches["01-reference-days"].read_bytes()
    path = incoming / "copying.csv"
    path.write_bytes(source[: len(source) // 3])  # the copy has just begun
    assert monitoring_flow(config=config) == []
    assert path.read_bytes() == source[: len(source) // 3]  # untouched, no predictions
    path.write_bytes(source)
    long_ago = time.time() - config.incoming.stable_seconds - 1
    os.utime(path, (long_ago, long_ago))  # the copy ended a minute ago
    [outcome] = monitoring_flow(config=config)
    assert outcome.status == "checked"
    scored = pd.read_parquet(incoming / "done" / "copying.predictions.parquet")
    assert len(scored) == len(source.splitlines()) - 1  # every row, once


def test_a_small_batch_is_scored_and_reported_but_starts_nothing(
    model_versions, workspace, small_monitoring_config, webhook, monkeypatch
) -> None:
    folder, training, batches = workspace
    folder = folder / "small"
    monkeypatch.setenv("NIDS_ALERT_WEBHOOK_URL", webhook.url)
    config = small_monitoring_config(folder, training)
    lines = batches["03-friday"].read_bytes().splitlines(keepends=True)
    source = folder / "one-row.csv"
    source.parent.mkdir(parents=True)
    source.write_bytes(b"".join(lines[:2]))  # the header and one row of the shifted day
    arrive(source, folder)
    before = model_versions()
    [outcome] = monitoring_flow(config=config)
    assert (outcome.verdict, outcome.retrain, outcome.alerts) == ("too small", None, [])
    assert webhook.received == [] and model_versions() == before
    [entry] = (folder / "reports" / "drift").glob("*.json")
    assert json.loads(entry.read_text())["verdict"] == "too small"


def test_a_rerun_after_a_failed_hand_over_reports_the_batch_once(
    workspace, small_monitoring_config
) -> None:
    """Issue 10: predictions failed after the report was written; the rerun wrote a second
    report and a second index row."""
    folder, training, batches = workspace
    folder = folder / "rerun"
    config = small_monitoring_config(folder, training)
    config.retrain.enabled = False
    batch = arrive(batches["01-reference-days"], folder)
    blocker = batch.parent / "done"
    blocker.write_text("a file where the done/ folder goes")  # the hand-over to done/ fails
    with pytest.raises(FileExistsError):
        monitoring_flow(config=config)
    reports = folder / "reports"
    assert len(list((reports / "drift").glob("*.json"))) == 1  # written before the failure
    assert batch.exists() and incoming.marker_path(batch).exists()  # back, complete
    assert not (batch.parent / "processing").exists() or not any(
        (batch.parent / "processing").iterdir())

    blocker.unlink()
    [outcome] = monitoring_flow(config=config)
    assert outcome.status == "checked"
    assert len(list((reports / "drift").glob("*.json"))) == 1  # replaced, not added
    assert (reports / "index.html").read_text().count("01-reference-days.csv") == 1


RUN_MONITORING = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from flows.monitoring import monitoring_flow
    from nids.config import MonitoringConfig
    from tests.support.barrier import wait_for_each_other

    config = MonitoringConfig.model_validate_json(open(sys.argv[1]).read())
    wait_for_each_other(Path(sys.argv[2]), parties=2)  # both imported: their claims race
    outcomes = monitoring_flow(config=config)
    print("OUTCOMES", json.dumps([outcome.batch for outcome in outcomes]))
""")


def test_two_runs_started_together_process_each_batch_once(
    workspace, small_monitoring_config, prefect_api
) -> None:
    """Issue 10: two runs at once (an hourly one and a manual one) each processed the same
    batches: four reports and four index rows for two batches."""
    folder, training, batches = workspace
    folder = folder / "two-runs"
    config = small_monitoring_config(folder, training)
    config.retrain.enabled = False
    halves = []
    for source in batches.values():  # five distinct batches of 1,500 rows
        header, *rows = source.read_text(encoding="utf-8").splitlines(keepends=True)
        halves += [[header, *rows[:1500]], [header, *rows[1500:]]]
    for number, lines in enumerate(halves[:5]):
        path = folder / "incoming" / f"{number:02d}-batch.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(lines), encoding="utf-8")
        mark_ready(path)
    (folder / "config.json").write_text(config.model_dump_json())
    (folder / "run.py").write_text(RUN_MONITORING)
    env = {**os.environ, "PREFECT_API_URL": prefect_api, "PYTHONPATH": str(PROJECT_ROOT),
           "PREFECT_HOME": str(folder / "prefect-home")}
    start_line = str(folder / "ready")
    processes = [subprocess.Popen([sys.executable, str(folder / "run.py"),
                                   str(folder / "config.json"), start_line], env=env, cwd=folder,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
    outputs = [process.communicate(timeout=600) for process in processes]
    for process, (_, stderr) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, stderr[-3000:]
    done_by = [json.loads(line.split(" ", 1)[1]) for stdout, _ in outputs
               for line in stdout.splitlines() if line.startswith("OUTCOMES ")]
    assert sorted(done_by[0] + done_by[1]) == [f"{n:02d}-batch.csv" for n in range(5)]
    assert len(list((folder / "reports" / "drift").glob("*.html"))) == 5
    index = (folder / "reports" / "index.html").read_text(encoding="utf-8")
    assert len(re.findall(r"<td>\d\d-batch\.csv</td>", index)) == 5
    done = sorted(p.name for p in (folder / "incoming" / "done").iterdir())
    assert len(done) == 10 and not list((folder / "incoming").glob("*.csv"))


def flow_run_record(state, last_line: str):
    """The flow run's record and its logs as the API has them, once `last_line` arrived (logs
    are sent in batches)."""
    run_id = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        for _ in range(50):
            logs = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id])))
            if any(last_line in log.message for log in logs):
                break
            time.sleep(0.2)
        return client.read_flow_run(run_id), logs


def test_a_failing_alert_channel_is_reported_and_never_stops_the_flow(
    workspace, small_monitoring_config, webhook, monkeypatch
) -> None:
    """Issue 10: a failing webhook failed the flow after the report: the retrain never started,
    the next batch was not scored, and the URL with its token was in the logs."""
    folder, training, batches = workspace
    folder = folder / "failing-alerts"
    webhook.status = 500
    monkeypatch.setenv("NIDS_ALERT_WEBHOOK_URL", webhook.url)
    config = small_monitoring_config(folder, training)
    config.alerts.retries, config.alerts.retry_delay_seconds = 2, 0.1
    arrive(batches["03-friday"], folder, "01-shifted.csv")
    lines = batches["01-reference-days"].read_bytes().splitlines(keepends=True)
    second = folder / "02-next.csv"
    second.write_bytes(b"".join(lines[:20]))  # small: scored, never judged, starts nothing
    arrive(second, folder)

    state = monitoring_flow(config=config, return_state=True)
    shifted, following = state.result()
    assert shifted.verdict == "retrain" and shifted.alerts
    for failed in shifted.alerts:
        assert not failed.delivered
        assert failed.error == (f"webhook {failed.channel.split(' ', 1)[1]} answered HTTP 500")
    assert len(webhook.received) == 3 * len(shifted.alerts)  # each tried, then retried twice
    assert shifted.retrain.started  # the retrain it called for
    assert following.status == "checked" and following.verdict == "too small"  # next batch
    assert (folder / "incoming" / "done" / "02-next.predictions.parquet").exists()

    run, logs = flow_run_record(state, "Finished in state Completed")
    assert webhook.token not in json.dumps(run.parameters)
    messages = "\n".join(log.message for log in logs)
    assert webhook.token not in messages and "answered HTTP 500" in messages
    # the project's own INFO lines reach the run log (PREFECT_LOGGING_EXTRA_LOGGERS=nids)
    assert any(log.name == "nids.data.claims" and "Claimed 01-shifted.csv" in log.message
               for log in logs)
