"""The incoming folder's hand-over: when a batch is complete, and where batches go.

A writer delivers a batch so that it is never read half-written, either
- written under a name starting with '.' or ending in '.part' (or in `.staging/` beside the
  batches), then renamed to its final name in the incoming folder, as `nids.io.atomic_path`
  does; or
- followed, once complete, by an empty marker `<batch>.done` beside it.
A marked batch is taken by the next run. Any other batch is taken once its modification time
(which every write moves, and a rename keeps) is `stable_seconds` old, and is checked again
after it was read (`nids.data.claims`): one that changed meanwhile goes back.

Folders under the incoming folder: `processing/<run>/` (batches a run claimed), `done/`
(scored batches with their predictions) and `rejected/` (bad batches, each with
`<batch>.error.txt`). Moves never replace a file: a name already taken there gets `~2`,
`~3`... before its suffix.
"""

from __future__ import annotations

import errno
import logging
import os
import time
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

from nids.data.batches import pending_batches, predictions_path

logger = logging.getLogger(__name__)

PROCESSING, DONE, REJECTED = "processing", "done", "rejected"
MARKER_SUFFIX = ".done"
ERROR_SUFFIX = ".error.txt"
# Filesystems without hard links: moves fall back to check-then-rename.
_NO_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EMLINK}


def marker_path(batch: Path) -> Path:
    return batch.with_name(batch.name + MARKER_SUFFIX)


def mark_ready(batch: Path) -> Path:
    """Hand a complete batch over at once: write its `.done` marker."""
    marker = marker_path(batch)
    marker.touch()
    return marker


def ready_batches(folder: Path, stable_seconds: float, now: float | None = None) -> list[Path]:
    """Pending batches that are complete: marked, or unchanged for `stable_seconds`."""
    now = time.time() if now is None else now
    ready = []
    for path in pending_batches(folder):
        with suppress(FileNotFoundError):  # taken by another run meanwhile
            if marker_path(path).exists() or now - path.stat().st_mtime >= stable_seconds:
                ready.append(path)
    return ready


def _free_names(folder: Path, name: str) -> Iterator[Path]:
    yield folder / name
    stem, dot, suffix = name.partition(".")
    for number in range(2, 10_000):
        yield folder / f"{stem}~{number}{dot}{suffix}"


def _link(source: Path, target: Path) -> None:
    """Give `source` the name `target` too; FileExistsError when the name is taken."""
    try:
        os.link(source, target)
    except OSError as error:
        if error.errno not in _NO_LINKS:
            raise
        if target.exists():
            raise FileExistsError(errno.EEXIST, "taken", str(target)) from error
        os.rename(source, target)


def _undo(source: Path, name: Path) -> None:
    if source.exists():  # linked: drop the new name
        name.unlink(missing_ok=True)
    else:  # renamed (no hard links): move it back
        os.rename(name, source)


def move_keeping(path: Path, folder: Path, companion: Path | None = None) -> Path:
    """Move `path` (and its predictions file `companion`, renamed along) into `folder` under
    the first free name; never replaces a file. Returns the batch's new path."""
    folder.mkdir(parents=True, exist_ok=True)
    for target in _free_names(folder, path.name):
        moves = [(path, target)]
        if companion is not None:
            moves.insert(0, (companion, predictions_path(target)))
        made: list[tuple[Path, Path]] = []
        try:
            for source, name in moves:
                _link(source, name)
                made.append((source, name))
        except FileExistsError:
            for source, name in made:
                _undo(source, name)
            continue
        for source, _ in moves:
            source.unlink(missing_ok=True)
        return target
    raise OSError(f"{folder}: no free name left for {path.name}")


def known_batch(folder: Path, name: str) -> bool:
    """Whether a batch of that name is waiting, claimed, done or rejected under `folder`."""
    places = [folder, folder / DONE, folder / REJECTED]
    processing = folder / PROCESSING
    places += [p for p in processing.iterdir() if p.is_dir()] if processing.is_dir() else []
    return any((place / name).exists() for place in places)
