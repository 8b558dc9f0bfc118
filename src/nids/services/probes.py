"""Asking running services over HTTP: health, work pools, workers (stdlib only)."""

from __future__ import annotations

import json
import logging
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)


def http_status(url: str, timeout: float = 2.0) -> int | None:
    """HTTP status of a GET, or None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, OSError):
        return None


def post_json(url: str, body: dict[str, Any], timeout: float = 5.0) -> Any:
    """POST a JSON body and decode the JSON answer."""
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """`count` distinct ports nothing listens on right now (the OS picks them)."""
    probes = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for probe in probes:
            probe.bind((host, 0))
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def wait_until(ready: Callable[[], bool], *, what: str, timeout: float, log_path: Path,
               still_running: Callable[[], bool] = lambda: True) -> float:
    """Poll `ready` until true; returns the seconds it took.

    Raises TimeoutError after `timeout`, or RuntimeError as soon as the process died, both
    naming the log file to read.
    """
    started = time.monotonic()
    while not ready():
        if not still_running():
            raise RuntimeError(f"{what} exited before it was ready; see {log_path}")
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"{what} not ready after {timeout:.0f} s; see {log_path}")
        time.sleep(0.2)
    elapsed = time.monotonic() - started
    logger.info("%s ready after %.1f s", what, elapsed)
    return elapsed


def work_pool_exists(api_url: str, pool: str) -> bool:
    return http_status(f"{api_url}/work_pools/{pool}") == 200


def online_workers(api_url: str, pool: str) -> list[str]:
    """Names of the workers the server counts as online in `pool`."""
    try:
        workers = post_json(f"{api_url}/work_pools/{pool}/workers/filter", {})
    except (urllib.error.URLError, OSError, ValueError):
        return []
    return [worker["name"] for worker in workers if worker.get("status") == "ONLINE"]
