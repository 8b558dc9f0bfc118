"""Builders shared by the scoring service tests (the fixtures in conftest.py use them)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import mlflow
import pandas as pd

from nids.config import LabelGrouping, XGBoostConfig
from nids.io import temporary_parquet
from nids.paths import PROJECT_ROOT
from nids.serving.settings import ServingSettings
from nids.tracking import registry
from nids.training.splits import build_splits
from nids.training.train import train_on_splits

SHARED = PROJECT_ROOT.parent / "shared" / "cicids2017"
SAMPLE = SHARED / "cicids2017_sample.csv"
MODEL = "test-serving"


@dataclass(frozen=True)
class ServingStore:
    folder: Path
    tracking_uri: str
    first_version: str    # the champion
    second_version: str   # another version to move the alias to


def register_version(frame: pd.DataFrame, model_name: str, params: XGBoostConfig) -> str:
    """Train on `frame` as the training flow does; log the model with a reference sample (the
    training rows with their predictions, which the monitoring flow compares traffic with)."""
    splits = build_splits(frame, LabelGrouping.LABELS, 0.1, 0.2, None, seed=42)
    trained = train_on_splits(splits, params)
    model, order, features = trained.model, trained.classes, trained.features
    bundle = registry.ModelBundle(model, order, features, version="new", run_id="")
    reference = splits["train"].sample(2_000, random_state=0).reset_index(drop=True)
    reference["prediction"], reference["probability"] = registry.predict_classes(bundle, reference)
    with mlflow.start_run():
        with temporary_parquet(reference) as path:
            mlflow.log_artifact(str(path), artifact_path="reference")
        uri = registry.log_model(model, splits["test"][features].head(50), order, features)
    return str(registry.register_version(uri, model_name, {"reason": "test"}).version)


def serving_settings(folder: Path, **overrides: object) -> ServingSettings:
    """Settings for MODEL with batches written under `folder` (small, quick buckets)."""
    values: dict[str, object] = {
        "model_name": MODEL, "incoming_dir": str(folder / "incoming"), "refresh_seconds": 3600,
        "flush_seconds": 3600, "bucket_seconds": 3600, "max_request_bytes": 2_000_000,
    }
    return ServingSettings(**(values | overrides))



def csv_head(data: bytes, rows: int) -> bytes:
    """The header and the first `rows` data lines of a CSV file's bytes."""
    return b"\n".join(data.split(b"\n", rows + 1)[: rows + 1]) + b"\n"
