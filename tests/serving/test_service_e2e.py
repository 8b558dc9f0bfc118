"""The real service: `python -m nids.serving` started as `make serve` starts it, on a free
loopback port, against a throwaway SQLite store holding two versions trained on real rows."""

from __future__ import annotations

import dataclasses
import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
import orjson
import pandas as pd
import pytest
from prefect.testing.utilities import prefect_test_harness
from prometheus_client.parser import text_string_to_metric_families

from nids.config import MonitoringConfig, RetrainConfig
from nids.data.batches import load_batch, pending_batches, predictions_path
from nids.data.schema import FEATURE_COLUMNS
from nids.services import free_ports, isolated_layout
from nids.services.commands import scoring_spec
from nids.services.probes import http_status, wait_until
from nids.services.processes import is_alive, start_process, stop_groups
from nids.tracking import registry
from nids.training.features import clean_features
from tests.support.serving import MODEL, SAMPLE

pytestmark = [pytest.mark.services, pytest.mark.slow]


@dataclass
class RunningApi:
    url: str
    incoming: Path
    log: Path
    posted: list[pd.DataFrame] = field(default_factory=list)  # features of every scored flow

    def post_csv(self, rows: pd.DataFrame, data: bytes, start: int) -> dict:
        """POST the real sample's lines start..start+len(rows) as CSV (header included)."""
        lines = data.split(b"\n")
        body = b"\n".join([lines[0], *lines[1 + start:1 + start + len(rows)]]) + b"\n"
        response = httpx.post(f"{self.url}/predict", content=body,
                              headers={"content-type": "text/csv"}, timeout=60)
        assert response.status_code == 200, response.text
        self.posted.append(rows[list(FEATURE_COLUMNS)])
        return response.json()

    def metrics(self) -> dict[str, float]:
        text = httpx.get(f"{self.url}/metrics", timeout=10).text
        samples = [s for family in text_string_to_metric_families(text) for s in family.samples]
        totals: dict[str, float] = {}
        for sample in samples:
            totals[sample.name] = totals.get(sample.name, 0.0) + sample.value
        return totals

    def health(self) -> dict:
        return httpx.get(f"{self.url}/health", timeout=10).json()


@pytest.fixture(scope="module")
def api(serving_store, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApi]:
    """The service in its own process group, with 4-second buckets; stopped afterwards."""
    folder = tmp_path_factory.mktemp("scoring-e2e")
    [port] = free_ports(1)
    layout = dataclasses.replace(isolated_layout(folder / "state", 1, 1), scoring_port=port)
    env = dict(os.environ) | {
        "NIDS_SCORING_MODEL_NAME": MODEL, "NIDS_SCORING_INCOMING_DIR": str(folder / "incoming"),
        "NIDS_SCORING_REFRESH_SECONDS": "1", "NIDS_SCORING_BUCKET_SECONDS": "4",
        "NIDS_SCORING_FLUSH_SECONDS": "0.5",
    }
    spec = scoring_spec(layout, env, tracking_uri=serving_store.tracking_uri)
    process = start_process(spec)
    try:
        wait_until(lambda: http_status(spec.health_url) == 200, what="scoring API", timeout=120,
                   log_path=spec.log_path, still_running=lambda: is_alive(process.pid))
        yield RunningApi(spec.url, folder / "incoming", spec.log_path)
    finally:
        registry.set_alias(MODEL, registry.CHAMPION, serving_store.first_version)
        assert stop_groups({process.pid: 15.0}) == set()


def expected_classes(version: str, rows: pd.DataFrame) -> list[str]:
    registry.set_alias(MODEL, "e2e-expected", version)
    bundle = registry.load_bundle(MODEL, "e2e-expected")
    names, _ = registry.predict_classes(bundle, clean_features(rows, bundle.features))
    return names.tolist()


def test_the_service_scores_real_rows_and_reports_health_and_metrics(api, serving_store,
                                                                      real_flows):
    rows = real_flows.iloc[:1_000]
    answer = api.post_csv(rows, SAMPLE.read_bytes(), 0)
    assert answer["model"]["version"] == serving_store.first_version
    assert [flow["prediction"] for flow in answer["flows"]] == expected_classes(
        serving_store.first_version, rows)
    flagged = [flow for flow in answer["flows"] if flow["prediction"] != "BENIGN"]
    assert flagged and all(len(flow["explanation"]["features"]) == 5 for flow in flagged)

    health = api.health()
    assert (health["status"], health["model"]["version"]) == ("ok", serving_store.first_version)
    metrics = api.metrics()
    assert metrics["nids_flows_scored_total"] == 1_000
    assert metrics["nids_flows_explained_total"] == len(flagged)
    assert metrics["nids_http_requests_total"] >= 2
    assert metrics["nids_model_swaps_total"] == 0


def _keep_posting(api: RunningApi, body: bytes, rows: pd.DataFrame, stop: threading.Event,
                  seen: list[tuple[int, str]]) -> None:
    with httpx.Client(timeout=60) as client:
        while not stop.is_set():
            response = client.post(f"{api.url}/predict", content=body,
                                   headers={"content-type": "application/json"})
            version = response.json()["model"]["version"] if response.status_code == 200 else ""
            seen.append((response.status_code, version))
            if response.status_code == 200:
                api.posted.append(rows[list(FEATURE_COLUMNS)])


def test_moving_the_alias_swaps_the_model_without_dropping_requests(api, serving_store,
                                                                    real_flows):
    rows = real_flows.iloc[5_000:5_020]
    records = rows[list(FEATURE_COLUMNS)].astype(float).replace([np.inf, -np.inf], np.nan)
    body = orjson.dumps(records.astype(object).where(records.notna(), None).to_dict("records"))
    stop, seen = threading.Event(), []
    poster = threading.Thread(target=_keep_posting, args=(api, body, rows, stop, seen))
    poster.start()
    try:
        time.sleep(1)
        registry.set_alias(MODEL, registry.CHAMPION, serving_store.second_version)
        wait_until(lambda: api.health()["model"]["version"] == serving_store.second_version,
                   what="the swap to the second version", timeout=60, log_path=api.log)
        time.sleep(1)
    finally:
        stop.set()
        poster.join(timeout=60)
    statuses = {status for status, _ in seen}
    versions = [version for _, version in seen]
    assert statuses == {200}, f"dropped or failed requests during the swap: {seen}"
    assert versions[0] == serving_store.first_version
    assert versions[-1] == serving_store.second_version
    switched = versions.index(serving_store.second_version)
    assert set(versions[switched:]) == {serving_store.second_version}  # never back

    later = real_flows.iloc[1_000:2_000]
    answer = api.post_csv(later, SAMPLE.read_bytes(), 1_000)
    assert answer["model"]["version"] == serving_store.second_version
    assert [flow["prediction"] for flow in answer["flows"]] == expected_classes(
        serving_store.second_version, later)
    assert api.metrics()["nids_model_swaps_total"] == 1
    assert "swapped from version" in api.log.read_text()


def _batch_rows(folder: Path) -> int:
    return sum(len(load_batch(path)) for path in pending_batches(folder))


def test_every_scored_flow_lands_in_a_batch_that_load_batch_reads(api):
    posted = pd.concat(api.posted, ignore_index=True)
    wait_until(lambda: _batch_rows(api.incoming) == len(posted), what="the batches",
               timeout=60, log_path=api.log)
    batches = pending_batches(api.incoming)
    assert all(path.name.startswith("flows-") for path in batches)
    loaded = pd.concat([load_batch(path) for path in batches], ignore_index=True)
    columns = list(FEATURE_COLUMNS)
    in_order = loaded.sort_values(columns).reset_index(drop=True)
    expected = posted.astype(np.float32).sort_values(columns).reset_index(drop=True)
    pd.testing.assert_frame_equal(in_order, expected)
    versions = pd.concat([pd.read_parquet(path) for path in batches])["model_version"]
    assert versions.nunique() == 2


def test_the_monitoring_flow_reports_on_a_served_batch(api, serving_store, tmp_path):
    from flows.monitoring import monitoring_flow

    batch = max(pending_batches(api.incoming), key=lambda path: len(load_batch(path)))
    rows = len(load_batch(batch))
    config = MonitoringConfig(model_name=MODEL, incoming_dir=str(api.incoming),
                              reports_dir=str(tmp_path / "reports"),
                              retrain=RetrainConfig(enabled=False))
    registry.set_alias(MODEL, registry.CHAMPION, serving_store.first_version)
    with prefect_test_harness(server_startup_timeout=120):
        assert len(monitoring_flow(config=config, batch=str(batch))) == 1
    done = batch.parent / "done" / batch.name  # the monitored batch moved there
    assert len(pd.read_parquet(predictions_path(done))) == rows == len(load_batch(done))
    [entry] = [json.loads(path.read_text())
               for path in (tmp_path / "reports" / "drift").glob("*.json")]
    assert (entry["batch"], entry["model_version"]) == (batch.name, serving_store.first_version)
    assert (tmp_path / "reports" / "drift" / entry["report_html"]).is_file()
