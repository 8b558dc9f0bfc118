"""Prometheus metrics of the scoring service (names and units as the Prometheus conventions say).

Each app gets its own registry, so several apps in one process (tests) do not collide.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    generate_latest,
)

from nids.serving.model import ServedModel

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ServingMetrics:
    """The service's counters, histogram and gauges in one registry."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("nids_http_requests", "HTTP requests answered.",
                                ["handler", "method", "code"], registry=r)
        self.errors = Counter("nids_http_request_errors",
                              "HTTP requests answered with a 4xx or 5xx status.",
                              ["handler", "code"], registry=r)
        self.latency = Histogram("nids_http_request_duration_seconds",
                                 "Time to answer an HTTP request.", ["handler"],
                                 buckets=LATENCY_BUCKETS, registry=r)
        self.flows = Counter("nids_flows_scored", "Flows scored, by predicted class.",
                             ["predicted_class"], registry=r)
        self.explained = Counter("nids_flows_explained",
                                 "Flows given feature contributions, by method.",
                                 ["method"], registry=r)
        self.model = Info("nids_model", "The model version being served.", registry=r)
        self.model_loaded = Gauge("nids_model_loaded_timestamp_seconds",
                                  "When the served model version was swapped in (Unix time).",
                                  registry=r)
        self.swaps = Counter("nids_model_swaps", "New model versions swapped in after the alias "
                             "moved.", registry=r)
        self.refresh_errors = Counter("nids_model_refresh_errors",
                                      "Failed attempts to re-resolve or load the alias.",
                                      registry=r)
        self.batches = Counter("nids_incoming_batches_written",
                               "Batch files of scored flows written for monitoring.", registry=r)
        self.buffered_flows = Gauge("nids_incoming_buffered_flows",
                                    "Scored flows buffered in memory, not yet spooled to disk.",
                                    registry=r)

    def observe_request(self, handler: str, method: str, code: int, seconds: float) -> None:
        self.requests.labels(handler, method, str(code)).inc()
        if code >= 400:
            self.errors.labels(handler, str(code)).inc()
        self.latency.labels(handler).observe(seconds)

    def observe_flows(self, counts: Iterable[tuple[str, int]], explained: int,
                      method: str | None) -> None:
        for name, count in counts:
            self.flows.labels(name).inc(count)
        if explained and method:
            self.explained.labels(method).inc(explained)

    def model_swapped(self, previous: ServedModel | None, served: ServedModel) -> None:
        self.model.info({"model_name": served.model_name, "version": served.version,
                         "alias": served.alias, "run_id": served.bundle.run_id})
        self.model_loaded.set(served.loaded_at.timestamp())
        if previous is not None:
            self.swaps.inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
