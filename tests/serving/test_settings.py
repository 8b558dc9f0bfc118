"""Typed settings of the scoring service: config/serving.yaml, environment variables."""

from __future__ import annotations

import pytest
import yaml

from nids.paths import PROJECT_ROOT
from nids.serving.settings import SETTINGS_FILE, ServingSettings, load_serving_settings


def test_the_project_settings_listen_on_loopback_and_document_every_key(monkeypatch):
    for key in ("HOST", "PORT"):
        monkeypatch.delenv(f"NIDS_SCORING_{key}", raising=False)
    settings = load_serving_settings()
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert set(yaml.safe_load(SETTINGS_FILE.read_text())) == set(ServingSettings.model_fields)
    assert settings.incoming_path == PROJECT_ROOT / "data" / "incoming"


def test_environment_variables_override_the_file(monkeypatch):
    monkeypatch.setenv("NIDS_SCORING_PORT", "8123")
    monkeypatch.setenv("NIDS_SCORING_HOST", "0.0.0.0")
    monkeypatch.setenv("NIDS_SCORING_REFRESH_SECONDS", "2.5")
    settings = load_serving_settings()
    assert (settings.port, settings.host, settings.refresh_seconds) == (8123, "0.0.0.0", 2.5)
    assert load_serving_settings(port=9000).port == 9000  # explicit arguments win


@pytest.mark.parametrize(("variable", "value", "key"), [
    ("NIDS_SCORING_PORT", "0", "port"),
    ("NIDS_SCORING_PORT", "eighty", "port"),
    ("NIDS_SCORING_TOP_K", "0", "top_k"),
    ("NIDS_SCORING_MAX_REQUEST_BYTES", "10", "max_request_bytes"),
])
def test_a_bad_value_is_named_with_where_settings_come_from(monkeypatch, variable, value, key):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError, match=f"(?s)serving.yaml or NIDS_SCORING_.*{key}"):
        load_serving_settings()
