"""The HTTP API under FastAPI's TestClient, serving a champion trained on real rows: answers,
explanations, health, metrics, and the catalogue of bad requests (4xx naming the problem)."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import orjson
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from nids.data.schema import FEATURE_COLUMNS, OFFICIAL_FEATURE_HEADER, canonical_header
from nids.serving.app import create_app
from nids.tracking import registry
from nids.training.features import clean_features
from tests.support.serving import MODEL, csv_head, serving_settings

CSV = {"content-type": "text/csv"}


def json_records(frame: pd.DataFrame, names: list[str] | None = None) -> list[dict]:
    """Rows as JSON-ready records (NaN and infinities as null), keyed by `names`."""
    values = frame[list(FEATURE_COLUMNS)].astype(float).replace([np.inf, -np.inf], np.nan)
    records = values.astype(object).where(values.notna(), None)
    records.columns = names or list(FEATURE_COLUMNS)
    return records.to_dict("records")


def post_json(client: TestClient, body: object, query: str = "") -> object:
    return client.post(f"/predict{query}", content=orjson.dumps(body),
                       headers={"content-type": "application/json"})


def metric_samples(client: TestClient) -> dict[tuple[str, tuple], float]:
    """/metrics parsed by the Prometheus parser: (sample name, sorted labels) -> value."""
    text = client.get("/metrics").text
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


# --- answers -------------------------------------------------------------------------------


def test_csv_rows_get_the_champions_classes_and_probabilities(client, serving_store, real_flows,
                                                              sample_csv):
    response = client.post("/predict", content=csv_head(sample_csv, 400), headers=CSV)
    assert response.status_code == 200, response.text
    answer = response.json()
    champion = registry.load_bundle(MODEL)
    names, probabilities = registry.predict_classes(
        champion, clean_features(real_flows.head(400), champion.features))
    assert answer["model"] == {"name": MODEL, "version": serving_store.first_version,
                               "alias": "champion"}
    assert [flow["prediction"] for flow in answer["flows"]] == names.tolist()
    np.testing.assert_allclose([flow["probability"] for flow in answer["flows"]],
                               probabilities, atol=1e-6)


def test_flagged_flows_are_explained_and_benign_ones_are_not(client, sample_csv):
    answer = client.post("/predict", content=csv_head(sample_csv, 2_000), headers=CSV).json()
    flagged = [flow for flow in answer["flows"] if flow["prediction"] != "BENIGN"]
    assert flagged, "the first 2,000 real rows hold attacks the champion flags"
    assert all("explanation" in flow for flow in flagged)
    assert not any("explanation" in flow for flow in answer["flows"]
                   if flow["prediction"] == "BENIGN")
    # More flagged flows than exact_max_flows (32): the cheap approximation is used.
    assert answer["explained"] == {"flows": len(flagged), "method": "approx"}
    explanation = flagged[0]["explanation"]
    assert len(explanation["features"]) == len(explanation["values"]) == 5
    magnitudes = [abs(value) for value in explanation["contributions"]]
    assert magnitudes == sorted(magnitudes, reverse=True)


def official_names() -> list[str]:
    """The CICIDS2017 header names as a JSON sender spells them ('Fwd Header Length.1' for the
    repeated column, as pandas does)."""
    names: list[str] = []
    for cell in OFFICIAL_FEATURE_HEADER:
        names.append(cell.strip() + (".1" if cell.strip() in names else ""))
    return names


def test_json_records_by_canonical_or_official_names_score_alike(client, real_flows):
    rows = real_flows.iloc[100:110]
    assert canonical_header(official_names()) == list(FEATURE_COLUMNS)
    by_canonical = post_json(client, json_records(rows)).json()
    by_header = post_json(client, json_records(rows, official_names())).json()
    assert by_canonical["flows"] == by_header["flows"]
    assert len(by_canonical["flows"]) == 10


def test_one_flow_as_an_object_with_an_exact_explanation_on_request(client, real_flows):
    [record] = json_records(real_flows.head(1))
    response = post_json(client, record | {"flow_id": "10.0.0.1-10.0.0.2-80-5555-6"},
                         "?explain=all&contributions=exact&top_k=3")
    assert response.status_code == 200, response.text
    [flow] = response.json()["flows"]
    explanation = flow["explanation"]
    assert set(explanation) == {"method", "bias", "features", "values", "contributions"}
    assert explanation["method"] == "exact" and len(explanation["features"]) == 3
    assert set(explanation["features"]) <= set(FEATURE_COLUMNS)
    assert isinstance(explanation["bias"], float)


def test_explain_none_gives_classes_only(client, sample_csv):
    answer = client.post("/predict?explain=none", content=csv_head(sample_csv, 500),
                         headers=CSV).json()
    assert answer["explained"] == {"flows": 0, "method": None}
    assert not any("explanation" in flow for flow in answer["flows"])


def test_health_names_the_served_version(client, serving_store):
    response = client.get("/health")
    assert response.status_code == 200
    model = response.json()["model"]
    assert (model["name"], model["version"], model["alias"]) == (
        MODEL, serving_store.first_version, "champion")
    assert datetime.fromisoformat(model["loaded_since"]).tzinfo is not None
    assert "BENIGN" in model["classes"] and model["features"] > 10


def test_metrics_count_requests_errors_latency_flows_and_the_model(client, serving_store,
                                                                   sample_csv):
    before = metric_samples(client)
    client.post("/predict?explain=none", content=csv_head(sample_csv, 300), headers=CSV)
    client.post("/predict", content=b"not json", headers={"content-type": "application/json"})
    after = metric_samples(client)

    def delta(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    scored = sum(value for (name, _), value in after.items() if name == "nids_flows_scored_total")
    scored -= sum(value for (name, _), value in before.items() if name == "nids_flows_scored_total")
    assert scored == 300
    assert delta("nids_http_requests_total", handler="/predict", method="POST", code="200") == 1
    assert delta("nids_http_request_errors_total", handler="/predict", code="400") == 1
    assert delta("nids_http_request_duration_seconds_count", handler="/predict") == 2
    info = [labels for (name, labels), value in after.items()
            if name == "nids_model_info" and value == 1]
    assert info == [(("alias", "champion"), ("model_name", MODEL),
                     ("run_id", registry.load_bundle(MODEL).run_id),
                     ("version", serving_store.first_version))]


def test_without_a_model_health_and_predict_answer_503(serving_store, tmp_path):
    settings = serving_settings(tmp_path, model_name="no-such-model")
    with TestClient(create_app(settings)) as client:
        health = client.get("/health")
        predict = post_json(client, [{}])
    assert health.status_code == 503 and health.json()["model"] is None
    assert predict.status_code == 503
    assert "models:/no-such-model@champion does not exist yet" in predict.json()["detail"]


# --- bad requests --------------------------------------------------------------------------

HEADER = ",".join(OFFICIAL_FEATURE_HEADER).encode()
ROW = ",".join(["1"] * len(OFFICIAL_FEATURE_HEADER)).encode()
JSON = "application/json"


def _flow(**changes: object) -> dict:
    return {name: 1.0 for name in FEATURE_COLUMNS} | changes


def _without(name: str) -> dict:
    flow = _flow()
    del flow[name]
    return flow


BAD_REQUESTS = {
    "text/plain": ("text/plain", b"1,2", "", 415, "Content-Type 'text/plain' is not supported"),
    "no content type": (None, b"1,2", "", 415, "no Content-Type is not supported"),
    "invalid JSON": (JSON, b"{", "", 400, "request body: not valid JSON"),
    "empty JSON body": (JSON, b"", "", 400, "not valid JSON"),
    "JSON number": (JSON, b"42", "", 422, "expected a JSON object (one flow) or a list"),
    "empty list": (JSON, b"[]", "", 422, "the list holds no flows"),
    "list of numbers": (JSON, b"[1, 2]", "", 422, "flow 0 is a int"),
    "missing feature": (JSON, orjson.dumps([_without("flow_duration")]), "", 422,
                        "flow 0 lacks 1 of the 78 feature(s): flow_duration."),
    "later flow misses one": (JSON, orjson.dumps([_flow(), _without("idle_min")]), "", 422,
                              "flow 1 lacks 1 of the 78 feature(s): idle_min"),
    "not a number": (JSON, orjson.dumps([_flow(), _flow(flow_bytes_s="lots")]), "", 422,
                     "flow 1, feature 'flow_bytes_s': 'lots' is not a number"),
    "nested value": (JSON, orjson.dumps([_flow(flow_duration=[1, 2])]), "", 422,
                     "flow 0, feature 'flow_duration': [1, 2] is not a number"),
    "feature named twice": (JSON, orjson.dumps([_flow(**{"Flow Duration": 3})]), "", 422,
                            "flow 0 names feature 'flow_duration' twice"),
    "empty CSV": ("text/csv", b"", "", 422, "request body: the file is empty"),
    "header only": ("text/csv", HEADER + b"\n", "", 422, "has a header but no data rows"),
    "missing column": ("text/csv", HEADER.replace(b" Flow Duration,", b"") + b"\n" + ROW[2:],
                       "", 422, "1 expected column(s) missing: flow_duration"),
    "non-numeric cell": ("text/csv", HEADER + b"\n" + b"80,abc," + ROW[4:], "", 422,
                         "('flow_duration') holds the non-numeric value 'abc'"),
    "semicolons": ("text/csv", HEADER.replace(b",", b";") + b"\n", "", 422,
                   "It looks ';'-separated"),
    "truncated row": ("text/csv", HEADER + b"\n" + ROW + b"\n" + ROW[:20], "", 422,
                      "row 3 has 11 field(s) where the header has 78"),
    "binary": ("text/csv", b"\x00\x01PK" * 50, "", 422, "binary data"),
    "UTF-16": ("text/csv", (HEADER + b"\n" + ROW).decode().encode("utf-16"), "", 422,
               "UTF-16"),
    "explain=maybe": (JSON, orjson.dumps([_flow()]), "?explain=maybe", 422,
                      "query parameter 'explain': Input should be 'flagged', 'all' or 'none'"),
    "contributions=fast": (JSON, orjson.dumps([_flow()]), "?contributions=fast", 422,
                           "query parameter 'contributions'"),
    "top_k=0": (JSON, orjson.dumps([_flow()]), "?top_k=0", 422,
                "query parameter 'top_k': Input should be greater than or equal to 1"),
    "too large": ("text/csv", HEADER + (b"\n" + ROW) * 20_000, "", 413,
                  "request body exceeds the limit of 2000000 bytes"),
}


@pytest.mark.parametrize(("content_type", "body", "query", "status", "message"),
                         BAD_REQUESTS.values(), ids=BAD_REQUESTS.keys())
def test_bad_requests_get_a_4xx_naming_the_problem(client, content_type, body, query, status,
                                                   message):
    headers = {"content-type": content_type} if content_type else {}
    response = client.post(f"/predict{query}", content=body, headers=headers)
    assert response.status_code == status, response.text
    assert message in response.json()["detail"]
    assert "Traceback" not in response.text


def test_a_streamed_body_without_length_over_the_limit_is_refused(client):
    def chunks():
        yield HEADER + b"\n"
        for _ in range(30_000):  # about 4.7 MB, sent chunked: no Content-Length to check
            yield ROW + b"\n"

    response = client.post("/predict", content=chunks(), headers=CSV)
    assert response.status_code == 413
    assert "exceeds the limit of 2000000 bytes" in response.json()["detail"]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("content_type", ["text/csv", JSON])
def test_random_bytes_never_cause_a_500(client, seed, content_type):
    rng = np.random.default_rng(seed)
    body = rng.integers(0, 256, int(rng.integers(1, 4_000)), dtype=np.uint8).tobytes()
    if seed % 2:  # a valid header followed by garbage reaches the CSV parser's later stages
        body = HEADER + b"\n" + body
    response = client.post("/predict", content=body, headers={"content-type": content_type})
    assert 400 <= response.status_code < 500, response.text


def test_get_on_predict_is_a_405(client):
    assert client.get("/predict").status_code == 405
