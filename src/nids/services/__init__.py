"""Local Prefect and MLflow servers, the scoring API and a process worker, on loopback.

`python -m nids.services up|down|status` (behind `make serve` / `make stop`) and the
`running_services` context manager used by the tests share the same functions.
"""

from nids.services.commands import (
    DEFAULT_MLFLOW_PORT,
    DEFAULT_PREFECT_PORT,
    DEFAULT_SCORING_PORT,
    PROJECT_ROOT_VARIABLE,
    WORK_POOL,
    ServiceLayout,
    ServiceUrls,
    isolated_layout,
)
from nids.services.lifecycle import (
    running_records,
    running_services,
    start_services,
    stop_services,
)
from nids.services.probes import free_ports, online_workers

__all__ = [
    "DEFAULT_MLFLOW_PORT",
    "DEFAULT_PREFECT_PORT",
    "DEFAULT_SCORING_PORT",
    "PROJECT_ROOT_VARIABLE",
    "WORK_POOL",
    "ServiceLayout",
    "ServiceUrls",
    "free_ports",
    "isolated_layout",
    "online_workers",
    "running_records",
    "running_services",
    "start_services",
    "stop_services",
]
