"""Following the alias: the holder loads the champion, swaps when the alias moves (requests
holding the old version finish with it), survives a deleted alias and a broken version."""

from __future__ import annotations

import numpy as np
import pytest
from mlflow import MlflowClient

from nids.serving.model import ModelHolder
from nids.serving.scoring import ContributionMethod, ExplainMode, score_flows
from nids.serving.service import ScoringService
from nids.tracking import registry
from tests.support.serving import MODEL, serving_settings


@pytest.fixture
def champion_restored(serving_store):
    yield serving_store
    registry.set_alias(MODEL, registry.CHAMPION, serving_store.first_version)


def test_the_holder_swaps_when_the_alias_moves(champion_restored, real_flows):
    store = champion_restored
    swaps = []
    holder = ModelHolder(MODEL, registry.CHAMPION, on_swap=lambda old, new: swaps.append(
        (old and old.version, new.version)))
    assert holder.refresh() is True
    before = holder.current
    assert before.version == store.first_version
    assert holder.refresh() is False  # same version: nothing loaded

    registry.set_alias(MODEL, registry.CHAMPION, store.second_version)
    assert holder.refresh() is True
    assert holder.current.version == store.second_version
    assert swaps == [(None, store.first_version), (store.first_version, store.second_version)]
    # A request that took the old version before the swap still scores with it.
    rows = real_flows.head(50)
    old = score_flows(before, rows, ExplainMode.ALL, ContributionMethod.APPROX, 0)
    new = score_flows(holder.current, rows, ExplainMode.ALL, ContributionMethod.APPROX, 0)
    assert old.predictions.shape == new.predictions.shape == (50,)
    assert not np.array_equal(old.explanations.contributions, new.explanations.contributions)


def test_a_deleted_alias_keeps_the_current_version_serving(champion_restored, caplog):
    holder = ModelHolder(MODEL, registry.CHAMPION)
    holder.refresh()
    MlflowClient().delete_registered_model_alias(MODEL, registry.CHAMPION)
    assert holder.refresh() is False
    assert holder.current.version == champion_restored.first_version
    assert "no longer exists; still serving version" in caplog.text


def test_a_version_that_cannot_load_is_counted_and_the_service_keeps_serving(
        serving_store, tmp_path, caplog):
    client = MlflowClient()
    client.create_registered_model("broken-serving")
    version = client.create_model_version("broken-serving", str(tmp_path / "no-model-here"))
    client.set_registered_model_alias("broken-serving", registry.CHAMPION, version.version)
    service = ScoringService(serving_settings(tmp_path, model_name="broken-serving"))
    service.refresh_model()
    assert service.holder.current is None
    assert service.metrics.registry.get_sample_value("nids_model_refresh_errors_total") == 1
    assert "Could not refresh models:/broken-serving@champion" in caplog.text
