"""The verdicts of a batch reach Prefect's event feed, where operators attach automations."""

from __future__ import annotations

import time

from prefect.client.orchestration import get_client
from prefect.events.filters import EventFilter, EventNameFilter, EventResourceFilter

from nids.config import MonitoringConfig
from nids.monitoring import check
from nids.monitoring.events import emit_verdicts
from tests.support.builders import class_flows


def stored_events(resource: str, expected: int, timeout: float = 60.0) -> list:
    """The nids.* events of a resource in the server's feed, once `expected` have arrived
    (they are sent in the background)."""
    query = EventFilter(event=EventNameFilter(prefix=["nids."]),
                        resource=EventResourceFilter(id=[resource]))
    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            events = client.read_events(filter=query, limit=50).events  # the server allows 50
            if len(events) >= expected or time.monotonic() > deadline:
                return events
            time.sleep(0.5)


def test_each_verdict_is_an_event_of_the_model_version_with_its_figures(prefect_api,
                                                                         health_champion):
    burst = class_flows(1_000, 11, ("BENIGN", "DDoS"), (0.3, 0.7))  # a DDoS the model knows
    checked = check.check_frame(burst, "burst.csv", health_champion, MonitoringConfig())
    assert emit_verdicts("burst.csv", checked.judgments, "health", "3") == 3

    events = stored_events("mlflow.model-version.health.3", expected=3)
    by_name = {event.event: event for event in events}
    assert set(by_name) == {"nids.health.healthy", "nids.incident.incident",
                            f"nids.drift.{checked.judgments.drift}"}
    incident = by_name["nids.incident.incident"]
    assert incident.resource.id == "mlflow.model-version.health.3"
    assert incident.resource.get("prefect.resource.name") == "health v3"
    assert incident.payload["batch"] == "burst.csv"
    assert incident.payload["attack_counts"]["DDoS"] == checked.judgments.incident \
        .attack_counts["DDoS"] > 500
    assert any(text.startswith("DDoS: share") for text in incident.payload["crossed"])
    health = by_name["nids.health.healthy"].payload
    assert health["basis"] == "labels" and health["rows"] == 1_000
    assert health["labels_asked"] == [] and health["surge_share"] == 0.0
    assert 0.9 < health["estimated_accuracy"] <= 1.0
