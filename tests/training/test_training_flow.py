"""End-to-end runs of the real training flow: ephemeral Prefect, SQLite MLflow in tmp."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import mlflow
import pytest
from mlflow import MlflowClient

from flows.training import training_flow
from nids.config import DataSource
from nids.data.generate import generate_dataset
from nids.paths import PROJECT_ROOT
from nids.services.probes import free_ports
from nids.tracking import registry

pytestmark = pytest.mark.slow
MODEL = "e2e-training"


def champion_version() -> str:
    return str(MlflowClient().get_model_version_by_alias(MODEL, "champion").version)


def test_training_registers_a_champion_with_lineage(prefect_api, store: Path,
                                                    small_training_config) -> None:
    config = small_training_config(store, MODEL)
    result = training_flow(config=config, reason="e2e")

    assert result.alias == "champion" and str(result.version) == "1"
    assert result.accuracy > 0.9 and result.macro_f1 > 0.5
    version = MlflowClient().get_model_version(MODEL, "1")
    assert {"data_fingerprint", "git_commit", "prefect_flow_run_id", "training_run_id"} <= set(
        version.tags
    )
    assert version.tags["reason"] == "e2e"
    assert (version.tags["data_source"], version.tags["status"]) == ("generated", "ready")
    bundle = registry.load_bundle(MODEL)
    assert bundle.classes[0] == "BENIGN" and len(bundle.features) > 40
    artifacts = {a.path for a in MlflowClient().list_artifacts(version.run_id)}
    assert {"confusion_matrix.png", "reference", "per_class_metrics.json", "holdout"} <= artifacts
    reference = registry.download_reference(version.run_id, store / "ref")
    assert len(reference) == 2_000 and {"prediction", "label"} <= set(reference.columns)
    assert json.loads((store / "metrics.json").read_text())["version"] == 1
    # the splits were saved for later stages to resume from
    assert len(list((store / "processed").glob("*/train.parquet"))) == 1


def test_weaker_model_becomes_challenger_and_floor_refuses(prefect_api, store: Path,
                                                           small_training_config) -> None:
    training_flow(config=small_training_config(store, MODEL), reason="first")
    weaker = training_flow(
        config=small_training_config(store, MODEL, n_estimators=1, quality_floor=0.0),
        reason="weaker")
    assert weaker.alias == "challenger"
    assert champion_version() == "1"
    assert str(MlflowClient().get_model_version_by_alias(MODEL, "challenger").version) == "2"

    with pytest.raises(ValueError, match="quality floor"):
        training_flow(config=small_training_config(store, MODEL, quality_floor=0.999),
                      reason="refused")
    assert champion_version() == "1"
    assert len(MlflowClient().search_model_versions(f"name='{MODEL}'")) == 2
    mlflow.set_tracking_uri(registry.tracking_uri())


SAMPLE = PROJECT_ROOT.parent / "shared" / "cicids2017" / "cicids2017_sample.csv"


def gzipped_generated_data(folder: Path) -> Path:
    """A raw folder holding only `.csv.gz` files of generated data (the generator's marker
    stays behind: nothing says the rows are generated)."""
    raw = folder / "gz-raw"
    raw.mkdir()
    for path in generate_dataset(folder / "gen", 20_000, seed=5):
        with path.open("rb") as source, gzip.open(raw / f"{path.name}.gz", "wb") as target:
            shutil.copyfileobj(source, target)
    return raw


@pytest.mark.skipif(not SAMPLE.is_file(), reason=f"the real CICIDS2017 rows are absent ({SAMPLE})")
def test_the_real_champion_survives_scheduled_runs_without_real_data(
        prefect_api, store: Path, small_training_config) -> None:
    real = small_training_config(store, MODEL)
    real.data.source = DataSource.REAL
    Path(real.data.raw_dir).mkdir()
    (Path(real.data.raw_dir) / SAMPLE.name).symlink_to(SAMPLE)   # read in place, not copied
    first = training_flow(config=real, reason="first on real rows")
    assert (first.alias, first.version) == ("champion", 1)

    empty = real.model_copy(deep=True)
    empty.data.raw_dir = str(store / "empty-raw")   # a volume that did not mount
    Path(empty.data.raw_dir).mkdir()
    with pytest.raises(FileNotFoundError, match=r"empty-raw/ .*it is empty"):
        training_flow(config=empty, reason="schedule")
    assert champion_version() == "1"

    gz_only = real.model_copy(deep=True)
    gz_only.data.raw_dir = str(gzipped_generated_data(store))
    second = training_flow(config=gz_only, reason="schedule")
    assert second.alias == "challenger" and second.version == 2
    assert champion_version() == "1"
    version = MlflowClient().get_model_version(MODEL, "2")
    assert version.tags["reason"] == "schedule" and version.tags["status"] == "ready"
    assert "to promote it anyway" in second.promotion   # refused, with the reason
    mlflow.set_tracking_uri(registry.tracking_uri())


def test_a_failure_in_the_measures_registers_nothing(
        prefect_api, store: Path, small_training_config, monkeypatch) -> None:
    """The measures run beside the promotion and the monitoring models; the flow waits for
    them before it logs anything, so a failure there leaves no version and no alias."""
    def fail(*args, **kwargs):
        raise RuntimeError("the figures could not be drawn")
    monkeypatch.setattr("flows.training.measure_version", fail)
    with pytest.raises(RuntimeError, match="the figures could not be drawn"):
        training_flow(config=small_training_config(store, "e2e-measures-fail"), reason="e2e")
    assert MlflowClient().search_model_versions("name = 'e2e-measures-fail'") == []


def test_training_with_the_registry_down_fails_naming_it(
        prefect_api, tmp_path: Path, small_training_config, monkeypatch) -> None:
    [port] = free_ports(1)   # nothing listens there: the registry is down
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")   # the default retries 1 min
    with pytest.raises(ConnectionError, match=f"registry at http://127.0.0.1:{port} is "
                       "unreachable"):
        training_flow(config=small_training_config(tmp_path, MODEL), reason="schedule")
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    mlflow.set_tracking_uri(registry.tracking_uri())
