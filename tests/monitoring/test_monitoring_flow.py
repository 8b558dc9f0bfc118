"""End-to-end runs of the real monitoring flow: a shifted batch retrains, a clean one does not."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from mlflow import MlflowClient

from flows.monitoring import monitoring_flow
from nids.data.incoming import mark_ready
from nids.tracking import lineage
from tests.support.incoming import arrive

pytestmark = pytest.mark.slow
MODEL = "e2e-monitoring"  # the workspace's model (tests/monitoring/conftest.py)


def test_cooldown_stops_a_retrain_soon_after_the_last_training(
    model_versions, workspace, small_monitoring_config
) -> None:
    """Runs first: the champion has just been trained, on Monday-Wednesday only."""
    folder, training, batches = workspace
    config = small_monitoring_config(folder, training, cooldown_hours=24)
    before = model_versions()
    shifted = arrive(batches["03-friday"], folder, "00-friday-in-cooldown.csv")

    [outcome] = monitoring_flow(config=config, batch=str(shifted))
    assert outcome.verdict == "retrain"
    assert not outcome.retrain.started and "cooldown" in outcome.retrain.why
    assert model_versions() == before


def test_clean_batch_starts_nothing_and_shifted_batch_retrains(
    model_versions, workspace, small_monitoring_config
) -> None:
    folder, training, batches = workspace
    config = small_monitoring_config(folder, training)
    clean = arrive(batches["01-reference-days"], folder)

    [outcome] = monitoring_flow(config=config)
    assert outcome.verdict == "ok" and outcome.retrain is None
    assert model_versions() == ["1"]
    done = clean.parent / "done"
    assert outcome.location == str(done / "01-reference-days.csv") and not clean.exists()
    assert (done / "01-reference-days.predictions.parquet").exists()
    assert monitoring_flow(config=config) == []  # scored batches are not monitored twice

    arrive(batches["03-friday"], folder)
    [outcome] = monitoring_flow(config=config)
    # Friday's attacks were never seen: health degrades on their recall (the batch has labels)
    assert outcome.verdict == "retrain" and outcome.health == "degraded" and outcome.crossed
    assert outcome.health_crossed and outcome.drift == "drift"
    assert outcome.retrain.started and outcome.retrain.mode == "subflow"
    assert model_versions() == ["1", "2"]
    retrained = MlflowClient().get_model_version(MODEL, "2")
    assert retrained.tags["reason"].startswith("model health degraded on 03-friday.csv: ")
    # the labelled batch joined the corpus before the retrain, which trained on it
    assert outcome.corpus_partition.endswith("--03-friday.parquet")
    assert outcome.corpus_partition in lineage.corpus_of(retrained.run_id)

    reports = folder / "reports"
    summaries = sorted((reports / "drift").glob("*.json"))
    # 00-friday-in-cooldown.csv held the same traffic as 03-friday.csv: one batch, whose
    # newest report replaced the earlier one
    assert [json.loads(p.read_text())["batch"] for p in summaries] == [
        "01-reference-days.csv", "03-friday.csv"]
    assert [json.loads(p.read_text())["verdict"] for p in summaries] == ["ok", "retrain"]
    index = (reports / "index.html").read_text()
    assert "01-reference-days.csv" in index and "03-friday.csv" in index


def bad_csv(workspace, path: Path) -> Path:
    """A copy of the first row of a good batch with 'lots' in flow_duration."""
    lines = workspace[2]["01-reference-days"].read_text(encoding="utf-8").splitlines()
    cells = lines[1].split(",")
    cells[1] = "lots"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([lines[0], ",".join(cells)]) + "\n", encoding="utf-8")
    mark_ready(path)
    return path


def test_a_bad_batch_is_rejected_and_the_next_one_is_still_scored(
    workspace, small_monitoring_config
) -> None:
    """Issue 10: the flow stopped at the first bad file for good; the batch after it was never
    scored."""
    folder, training, batches = workspace
    folder = folder / "bad-batch"
    config = small_monitoring_config(folder, training)
    config.retrain.enabled = False  # the champion has moved: this is not about retraining
    bad = bad_csv(workspace, folder / "incoming" / "05-bad.csv")
    good = arrive(batches["01-reference-days"], folder, "06-good.csv")

    rejected, checked = monitoring_flow(config=config)
    assert (rejected.batch, rejected.status) == ("05-bad.csv", "rejected")
    assert re.search(r"05-bad\.csv.*flow_duration.*lots", rejected.problem)
    assert rejected.location == str(bad.parent / "rejected" / "05-bad.csv")
    error_text = (bad.parent / "rejected" / "05-bad.csv.error.txt").read_text()
    assert "flow_duration" in error_text and "To resubmit" in error_text
    [sent] = rejected.alerts
    assert sent.delivered and sent.channel == "log"
    assert (checked.batch, checked.status) == ("06-good.csv", "checked")
    assert (good.parent / "done" / "06-good.predictions.parquet").exists()
    assert [json.loads(p.read_text())["batch"] for p in
            (folder / "reports" / "drift").glob("*.json")] == ["06-good.csv"]
    assert monitoring_flow(config=config) == []  # the bad batch does not come back
