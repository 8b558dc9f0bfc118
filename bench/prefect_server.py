"""A Prefect server that is already up, as a deployment's run finds it: the benches time the
flow, not the start of a temporary server (4-9 s on the machines measured)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from prefect.server.api.server import SubprocessASGIServer
from prefect.settings import PREFECT_API_URL, temporary_settings


@contextmanager
def prefect_server() -> Iterator[float]:
    """Start a Prefect server in a subprocess and point this process at it; yields the
    seconds its start took. Stopped on exit."""
    started = time.perf_counter()
    server = SubprocessASGIServer()
    server.start()
    try:
        with temporary_settings({PREFECT_API_URL: server.api_url}):
            yield time.perf_counter() - started
    finally:
        server.stop()
