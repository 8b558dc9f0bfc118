"""Fixtures of the monitoring tests: a real webhook receiver on loopback, a workspace with a
champion trained by the real training flow (once per session, copied for each module), a
small real champion with traffic for it, one
with its health models (calibrator, novelty models, thresholds), and a
monitoring configuration whose reports and Evidently workspace live in a temporary folder."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import mlflow.tracking._model_registry.utils as registry_uri_state
import mlflow.tracking._tracking_service.utils as tracking_uri_state
import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from mlflow import MlflowClient

from flows.training import training_flow
from nids.config import FeatureConfig, MonitoringConfig, TrainingConfig, XGBoostConfig
from nids.data.generate import generate_dataset
from nids.data.ingest import load_inputs
from nids.data.schema import FEATURE_COLUMNS, LABEL_COLUMN, PREDICTION_COLUMN
from nids.monitoring import check, frames, scenario
from nids.tracking.registry import ModelBundle
from nids.training.evaluate import evaluate_model
from nids.training.monitoring import prepare_monitoring
from nids.training.train import train_on_splits
from tests.support.builders import class_flows as flows
from tests.support.builders import ml_csv
from tests.support.stores import copy_store

MODEL = "e2e-monitoring"

# The secret part of a Slack-like webhook URL: it must never show in logs, errors or parameters.
TOKEN = "s3cr3t-t0ken"


@dataclass
class Webhook:
    """A webhook receiver on 127.0.0.1: what it was sent, and the status it answers with."""

    url: str
    status: int = 200
    received: list[dict] = field(default_factory=list)
    token: str = TOKEN


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    """A webhook at http://127.0.0.1:<port>/services/... (a token in its path)."""
    hook = Webhook(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers["Content-Length"])
            hook.received.append({
                "path": self.path,
                "content_type": self.headers["Content-Type"],
                "json": json.loads(self.rfile.read(length)),
            })
            self.send_response(hook.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):  # keep the test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)  # port 0: a free port
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    hook.url = f"http://127.0.0.1:{server.server_address[1]}/services/T0NIDS/{TOKEN}"
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="session")
def model_versions() -> Callable[[], list[str]]:
    """Lists the registered versions of the workspace's model ('e2e-monitoring'), in order."""
    return lambda: sorted(str(v.version)
                          for v in MlflowClient().search_model_versions(f"name='{MODEL}'"))


class ChampionTemplate:
    """A champion (model 'e2e-monitoring' in the folder's own MLflow store) trained by the real
    training flow on Monday-Wednesday. Trained once, on first use, under the Prefect server of
    the module that uses it first; every module gets a copy of its own, since tests retrain
    and move aliases."""

    def __init__(self, folder: Path, build_config: Callable[..., TrainingConfig]) -> None:
        self.folder, self.build_config = folder, build_config
        self.trained = False

    def _train(self) -> None:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{self.folder / 'mlflow.db'}")
            first = self.build_config(self.folder, MODEL)
            first.data.days = list(scenario.REFERENCE_DAYS)
            training_flow(config=first, reason="first model")
        self.trained = True

    def copy_to(self, folder: Path, patch: pytest.MonkeyPatch) -> TrainingConfig:
        """Copy the champion into `folder` and point MLflow at the copy's store (through
        `patch`); the training config writing under `folder`."""
        if not self.trained:
            self._train()
        copy_store(self.folder, folder)
        patch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{folder / 'mlflow.db'}")
        patch.setattr(tracking_uri_state, "_tracking_uri", None)
        patch.setattr(registry_uri_state, "_registry_uri", None)
        return self.build_config(folder, MODEL)


@pytest.fixture(scope="session")
def champion_template(small_training_config, tmp_path_factory: pytest.TempPathFactory
                      ) -> ChampionTemplate:
    """The Monday-Wednesday champion, trained once (see ChampionTemplate)."""
    return ChampionTemplate(tmp_path_factory.mktemp("champion-template"), small_training_config)


@pytest.fixture(scope="session")
def traffic_batches(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Three batches of new traffic (3,000 rows each), by name: 01-reference-days,
    02-thursday, 03-friday. Made once; tests read them or copy them, never change them."""
    folder = tmp_path_factory.mktemp("traffic")
    traffic = generate_dataset(folder / "generated", 20_000, seed=99)
    frame = load_inputs(traffic, folder / "interim", verify=False).frame
    return {p.stem: p for p in scenario.write_batches(frame, folder / "batches", 3_000, seed=5)}


@pytest.fixture(scope="module")
def workspace(prefect_api, champion_template, traffic_batches,
              tmp_path_factory: pytest.TempPathFactory):
    """A folder of the module's with a copy of the champion template (model 'e2e-monitoring'
    in the folder's own MLflow store, trained on Monday-Wednesday), and the traffic batches.
    Yields (folder, training config, batches by name)."""
    folder = tmp_path_factory.mktemp("monitoring")
    with pytest.MonkeyPatch.context() as patch:
        yield folder, champion_template.copy_to(folder, patch), traffic_batches


@pytest.fixture(scope="module")
def trained_workspace(prefect_api, small_training_config, traffic_batches,
                      tmp_path_factory: pytest.TempPathFactory):
    """As `workspace`, but the champion is trained in the module, so the module's Prefect
    server knows its training run (the retrain cooldown counts from it)."""
    folder = tmp_path_factory.mktemp("monitoring")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{folder / 'mlflow.db'}")
        training = small_training_config(folder, MODEL)
        first = training.model_copy(deep=True)
        first.data.days = list(scenario.REFERENCE_DAYS)
        training_flow(config=first, reason="first model")
        yield folder, training, traffic_batches


TINY_FEATURES = ["destination_port", "flow_duration", "total_fwd_packets", "flow_bytes_s",
                 "flow_iat_min"]
TINY_CLASSES = ["BENIGN", "DDoS"]


def _traffic(seed: int, scale: float = 1.0, rows: int = 2_000) -> pd.DataFrame:
    """A loaded batch: every feature column, DDoS flows 1,000 times longer; `scale` multiplies
    every feature but the port."""
    rng = np.random.default_rng(seed)
    labels = rng.choice(TINY_CLASSES, rows, p=[0.7, 0.3])
    values = rng.lognormal(3, 1, (rows, len(FEATURE_COLUMNS))) * scale
    frame = pd.DataFrame(values.astype(np.float32), columns=list(FEATURE_COLUMNS))
    frame["flow_duration"] *= np.where(labels == "DDoS", 1_000, 1).astype(np.float32)
    frame["destination_port"] = rng.choice([80.0, 443.0, 53.0], rows).astype(np.float32)
    frame[LABEL_COLUMN] = pd.Categorical(labels)
    return frame


@pytest.fixture(scope="session")
def tiny_traffic() -> Callable[..., pd.DataFrame]:
    """Builds a batch of traffic for `tiny_champion`: `(seed, scale=1.0, rows=2000)`."""
    return _traffic


@pytest.fixture(scope="session")
def tiny_champion() -> check.Champion:
    """A small XGBoost model on five features, version 7 of model 'tiny' (test macro-F1 0.95),
    and its reference sample, as after training."""
    train = _traffic(seed=0)
    model = xgb.XGBClassifier(n_estimators=20, max_depth=3, n_jobs=1)
    model.fit(train[TINY_FEATURES], (train[LABEL_COLUMN] == "DDoS").astype(int))
    bundle = ModelBundle(model, TINY_CLASSES, TINY_FEATURES, version="7", run_id="run",
                         tags={"test_macro_f1": "0.95"})
    sample = _traffic(seed=1)
    sample[PREDICTION_COLUMN] = np.asarray(TINY_CLASSES)[model.predict(sample[TINY_FEATURES])]
    reference = frames.reference_frame(sample, frames.drift_features(TINY_FEATURES))
    return check.Champion("tiny", bundle, reference)


def _config_in(folder: Path) -> MonitoringConfig:
    return MonitoringConfig(reports_dir=str(folder / "reports"),
                            history={"workspace_dir": str(folder / "reports" / "workspace")})


@pytest.fixture(scope="session")
def config_in() -> Callable[[Path], MonitoringConfig]:
    """Builds the default monitoring config with reports, and the Evidently workspace in them,
    under a folder: `(folder)`."""
    return _config_in


@pytest.fixture
def history_config(tmp_path: Path) -> MonitoringConfig:
    """The default monitoring config with reports and the workspace under tmp_path."""
    return _config_in(tmp_path)


@pytest.fixture(scope="session")
def health_champion() -> check.Champion:
    """A small XGBoost champion with its calibrator, novelty models and thresholds, fitted
    as the training run fits them (validation split, reference, held-out chunks)."""
    splits = {"train": flows(6_000, 0), "validation": flows(3_000, 1), "test": flows(3_000, 2)}
    trained = train_on_splits(splits, XGBoostConfig(n_estimators=30, max_depth=4, n_jobs=1))
    evaluation = evaluate_model(trained.bundle, splits["test"])
    handed = prepare_monitoring(trained, splits, evaluation,
                                FeatureConfig(reference_rows=3_000, seed=0))
    bundle = trained.bundle
    bundle.version, bundle.tags = "3", {"test_macro_f1": f"{evaluation.macro_f1:.6f}"}
    return check.Champion.prepared("health", bundle, handed)


@pytest.fixture
def mlflow_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A throwaway SQLite MLflow store for one test (MLflow's cached URIs reset); its URI."""
    import mlflow.tracking._model_registry.utils as registry_uri_state
    import mlflow.tracking._tracking_service.utils as tracking_uri_state

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setattr(tracking_uri_state, "_tracking_uri", None)
    monkeypatch.setattr(registry_uri_state, "_registry_uri", None)
    return uri


@pytest.fixture
def corpus_training(tmp_path: Path) -> TrainingConfig:
    """Training on tmp_path/raw (one small real-format file) plus the corpus in
    tmp_path/corpus (no window, no cap), registered as 'corpus-model'."""
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "Monday-WorkingHours.pcap_ISCX.csv").write_bytes(ml_csv(["BENIGN"] * 4))
    config = TrainingConfig()
    config.data.raw_dir, config.data.interim_dir = str(raw), str(tmp_path / "interim")
    config.data.corpus.dir = str(tmp_path / "corpus")
    config.data.corpus.window_days = None
    config.registry.model_name = "corpus-model"
    return config
