"""End-to-end runs of the real monitoring flow: a shifted batch retrains, a clean one does not."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from mlflow import MlflowClient
from prefect.testing.utilities import prefect_test_harness
from test_training_flow import MODEL, small_config

from flows.monitoring import DEFAULT_CONFIG as MONITORING
from flows.monitoring import monitoring_flow
from flows.training import training_flow
from nids.config import MonitoringConfig
from nids.data.generate import generate_dataset
from nids.data.ingest import load_inputs
from nids.monitoring import scenario

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory):
    """A champion trained on Monday-Wednesday, and three batches of new traffic."""
    folder = tmp_path_factory.mktemp("monitoring")
    patch = pytest.MonkeyPatch()
    patch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{folder / 'mlflow.db'}")
    with prefect_test_harness(server_startup_timeout=90):
        training = small_config(folder)
        first = training.model_copy(deep=True)
        first.data.days = ["Monday", "Tuesday", "Wednesday"]
        training_flow(config=first, reason="first model")
        traffic = generate_dataset(folder / "traffic", 20_000, seed=99)
        frame = load_inputs(traffic, folder / "interim", verify=False).frame
        batches = scenario.write_batches(frame, folder / "batches", 3_000, seed=5)
        yield folder, training, {p.stem: p for p in batches}
    patch.undo()


def monitoring_config(folder: Path, training, cooldown_hours: float = 0) -> MonitoringConfig:
    config = MONITORING.model_copy(deep=True)
    config.model_name = MODEL
    config.incoming_dir = str(folder / "incoming")
    config.reports_dir = str(folder / "reports")
    config.retrain.cooldown_hours = cooldown_hours
    config.retrain.training_config = training
    return config


def versions() -> list[str]:
    return sorted(str(v.version) for v in MlflowClient().search_model_versions(f"name='{MODEL}'"))


def arrive(batch: Path, folder: Path) -> Path:
    incoming = folder / "incoming"
    incoming.mkdir(exist_ok=True)
    return Path(shutil.copy(batch, incoming / batch.name))


def test_cooldown_stops_a_retrain_soon_after_the_last_training(workspace) -> None:
    """Runs first: the champion has just been trained, on Monday-Wednesday only."""
    folder, training, batches = workspace
    config = monitoring_config(folder, training, cooldown_hours=24)
    before = versions()
    shifted = arrive(batches["03-friday"], folder)
    shifted = shifted.rename(shifted.with_name("00-friday-in-cooldown.csv"))

    [outcome] = monitoring_flow(config=config, batch=str(shifted))
    assert outcome["verdict"] == "retrain"
    assert not outcome["retrain"]["started"] and "cooldown" in outcome["retrain"]["why"]
    assert versions() == before


def test_clean_batch_starts_nothing_and_shifted_batch_retrains(workspace) -> None:
    folder, training, batches = workspace
    config = monitoring_config(folder, training)
    clean = arrive(batches["01-reference-days"], folder)

    [outcome] = monitoring_flow(config=config)
    assert outcome["verdict"] == "ok" and "retrain" not in outcome
    assert versions() == ["1"]
    assert (clean.parent / "01-reference-days.predictions.parquet").exists()
    assert monitoring_flow(config=config) == []  # scored batches are not monitored twice

    arrive(batches["03-friday"], folder)
    [outcome] = monitoring_flow(config=config)
    assert outcome["verdict"] == "retrain" and outcome["crossed"]
    assert outcome["retrain"]["started"] and outcome["retrain"]["mode"] == "subflow"
    assert versions() == ["1", "2"]
    reason = MlflowClient().get_model_version(MODEL, "2").tags["reason"]
    assert reason.startswith("drift in 03-friday.csv")

    reports = folder / "reports"
    summaries = sorted((reports / "drift").glob("*.json"))
    assert [json.loads(p.read_text())["verdict"] for p in summaries] == ["retrain", "ok", "retrain"]
    index = (reports / "index.html").read_text()
    assert "01-reference-days.csv" in index and "03-friday.csv" in index


def test_bad_batch_fails_without_report_or_predictions(workspace) -> None:
    folder, training, _ = workspace
    config = monitoring_config(folder, training)
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
