"""Delivering batches into a monitoring run's incoming folder, as the hand-over says."""

from __future__ import annotations

import shutil
from pathlib import Path

from nids.data.incoming import mark_ready


def arrive(batch: Path, folder: Path, name: str | None = None) -> Path:
    """Copy a batch into folder/incoming (under `name`), then mark it complete."""
    incoming = folder / "incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    path = Path(shutil.copy(batch, incoming / (name or batch.name)))
    mark_ready(path)
    return path
