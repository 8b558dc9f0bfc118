"""`.state/services.json`: which processes `up` started, so `down` and `status` find them."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from nids.io import atomic_path
from nids.services.commands import ServiceUrls


@dataclass(frozen=True)
class ServiceRecord:
    """A started process group: its leader's pid and start time, port, URL and log."""

    name: str
    pid: int
    started_at: str | None
    log: str
    port: int | None = None
    url: str | None = None


@dataclass
class ServicesState:
    urls: ServiceUrls
    worker_name: str
    services: list[ServiceRecord] = field(default_factory=list)


def write_state(path: Path, state: ServicesState) -> None:
    """Write atomically, so a reader never sees half a file."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(asdict(state), indent=2) + "\n", encoding="utf-8")


def read_state(path: Path) -> ServicesState | None:
    """The recorded services, or None when `up` never ran (or `down` cleaned up)."""
    if not path.exists():
        return None
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return ServicesState(urls=ServiceUrls(**raw["urls"]), worker_name=raw["worker_name"],
                             services=[ServiceRecord(**item) for item in raw["services"]])
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{path}: unreadable services state ({error}); stop the processes "
                         "it names by hand, then delete the file") from error
