"""End-to-end runs of the real monitoring flow: a shifted batch retrains, a clean one does not."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from mlflow import MlflowClient

from flows.monitoring import monitoring_flow
from flows.training import training_flow
from nids.data.generate import generate_dataset
from nids.data.ingest import load_inputs
from nids.monitoring import scenario

pytestmark = pytest.mark.slow
MODEL = "e2e-monitoring"


@pytest.fixture(scope="module")
def workspace(prefect_api, small_training_config, tmp_path_factory: pytest.TempPathFactory):
    """A champion trained on Monday-Wednesday, and three batches of new traffic."""
    folder = tmp_path_factory.mktemp("monitoring")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{folder / 'mlflow.db'}")
        training = small_training_config(folder, MODEL)
        first = training.model_copy(deep=True)
        first.data.days = ["Monday", "Tuesday", "Wednesday"]
        training_flow(config=first, reason="first model")
        traffic = generate_dataset(folder / "traffic", 20_000, seed=99)
        frame = load_inputs(traffic, folder / "interim", verify=False).frame
        batches = scenario.write_batches(frame, folder / "batches", 3_000, seed=5)
        yield folder, training, {p.stem: p for p in batches}


def versions() -> list[str]:
    return sorted(str(v.version) for v in MlflowClient().search_model_versions(f"name='{MODEL}'"))


def arrive(batch: Path, folder: Path) -> Path:
    incoming = folder / "incoming"
    incoming.mkdir(exist_ok=True)
    return Path(shutil.copy(batch, incoming / batch.name))


def test_cooldown_stops_a_retrain_soon_after_the_last_training(
    workspace, small_monitoring_config
) -> None:
    """Runs first: the champion has just been trained, on Monday-Wednesday only."""
    folder, training, batches = workspace
    config = small_monitoring_config(folder, training, cooldown_hours=24)
    before = versions()
    shifted = arrive(batches["03-friday"], folder)
    shifted = shifted.rename(shifted.with_name("00-friday-in-cooldown.csv"))

    [outcome] = monitoring_flow(config=config, batch=str(shifted))
    assert outcome.verdict == "retrain"
    assert not outcome.retrain.started and "cooldown" in outcome.retrain.why
    assert versions() == before


def test_clean_batch_starts_nothing_and_shifted_batch_retrains(
    workspace, small_monitoring_config
) -> None:
    folder, training, batches = workspace
    config = small_monitoring_config(folder, training)
    clean = arrive(batches["01-reference-days"], folder)

    [outcome] = monitoring_flow(config=config)
    assert outcome.verdict == "ok" and outcome.retrain is None
    assert versions() == ["1"]
    assert (clean.parent / "01-reference-days.predictions.parquet").exists()
    assert monitoring_flow(config=config) == []  # scored batches are not monitored twice

    arrive(batches["03-friday"], folder)
    [outcome] = monitoring_flow(config=config)
    # Friday's attacks were never seen: health degrades on their recall (the batch has labels)
    assert outcome.verdict == "retrain" and outcome.health == "degraded" and outcome.crossed
    assert outcome.health_crossed and outcome.drift == "drift"
    assert outcome.retrain.started and outcome.retrain.mode == "subflow"
    assert versions() == ["1", "2"]
    reason = MlflowClient().get_model_version(MODEL, "2").tags["reason"]
    assert reason.startswith("model health degraded on 03-friday.csv: ")

    reports = folder / "reports"
    summaries = sorted((reports / "drift").glob("*.json"))
    assert [json.loads(p.read_text())["verdict"] for p in summaries] == ["retrain", "ok", "retrain"]
    index = (reports / "index.html").read_text()
    assert "01-reference-days.csv" in index and "03-friday.csv" in index


def test_bad_batch_fails_without_report_or_predictions(
    workspace, small_monitoring_config
) -> None:
    folder, training, _ = workspace
    config = small_monitoring_config(folder, training)
    bad = folder / "incoming" / "05-bad.csv"
    bad.parent.mkdir(exist_ok=True)
    lines = (workspace[2]["01-reference-days"]).read_text(encoding="utf-8").splitlines()
    cells = lines[1].split(",")
    cells[1] = "lots"
    bad.write_text("\n".join([lines[0], ",".join(cells)]) + "\n", encoding="utf-8")
    reports_before = sorted((folder / "reports" / "drift").glob("*"))

    with pytest.raises(ValueError, match=r"05-bad\.csv.*flow_duration.*lots"):
        monitoring_flow(config=config, batch=str(bad))
    assert sorted((folder / "reports" / "drift").glob("*")) == reports_before
    assert not (bad.parent / "05-bad.predictions.parquet").exists()
