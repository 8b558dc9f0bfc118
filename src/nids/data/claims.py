"""Exactly once: a monitoring run claims a batch, then finishes, rejects or releases it.

A run claims a batch by renaming it into `processing/<run>/` under the incoming folder; a
rename is atomic, so of two runs one gets the file and the other finds it gone. A scored batch
moves with its predictions into `done/`, a bad one into `rejected/` with `<batch>.error.txt`
beside it, and one that cannot be finished goes back for the next run. While it works, a run
renews its claims by touching its folder (`claims_kept`); the batches of a run that stopped
doing so `reclaim_after_seconds` ago (it crashed) are claimed by the next run.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from nids.data.batches import is_batch
from nids.data.incoming import (
    DONE,
    ERROR_SUFFIX,
    PROCESSING,
    REJECTED,
    mark_ready,
    marker_path,
    move_keeping,
    ready_batches,
)
from nids.io import atomic_path

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claim:
    """A batch taken by one run: where it is now, and what it was when taken."""

    path: Path      # processing/<run>/<name>
    incoming: Path  # the folder it came from, which holds done/ and rejected/
    size: int
    mtime_ns: int
    sha256: str     # the batch's identity in the report index

    @property
    def name(self) -> str:
        return self.path.name


def file_sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def owner_folder(incoming: Path, run_id: str) -> Path:
    return incoming / PROCESSING / run_id


def claim(path: Path, owner: Path) -> Claim | None:
    """Move `path` into the run's folder `owner`; None when another run took it first."""
    target = owner / path.name
    if target.exists():  # this run holds a batch of that name already: the next run takes it
        return None
    try:
        os.rename(path, target)
    except FileNotFoundError:
        return None
    marker_path(path).unlink(missing_ok=True)
    stat = target.stat()
    logger.info("Claimed %s for run %s", path.name, owner.name)
    return Claim(target, owner.parent.parent, stat.st_size, stat.st_mtime_ns,
                 file_sha256(target))


def stale_owners(incoming: Path, max_idle_seconds: float,
                 now: float | None = None) -> list[Path]:
    """Folders of runs that stopped renewing their claims that long ago (crashed runs)."""
    now = time.time() if now is None else now
    root = incoming / PROCESSING
    stale = []
    for owner in sorted(root.iterdir()) if root.is_dir() else []:
        with suppress(FileNotFoundError):
            if owner.is_dir() and now - owner.stat().st_mtime >= max_idle_seconds:
                stale.append(owner)
    return stale


def _orphans(owner: Path) -> list[Path]:
    try:
        found = sorted(path for path in owner.iterdir() if is_batch(path))
    except FileNotFoundError:  # another run took them and removed the folder
        return []
    for path in found:
        logger.warning("Taking back %s from run %s, which stopped renewing its claim",
                       path.name, owner.name)
    return found


def claim_ready(incoming: Path, run_id: str, stable_seconds: float,
                reclaim_after_seconds: float) -> list[Claim]:
    """Claim the batches of crashed runs, then every ready batch of `incoming`."""
    owner = owner_folder(incoming, run_id)
    stale = [p for p in stale_owners(incoming, reclaim_after_seconds) if p != owner]
    owner.mkdir(parents=True, exist_ok=True)
    orphans = [path for folder in stale for path in _orphans(folder)]
    claims = [taken for path in [*orphans, *ready_batches(incoming, stable_seconds)]
              if (taken := claim(path, owner)) is not None]
    for folder in [*stale, owner]:
        _remove_leftovers(folder)
    return claims


def claim_named(path: Path, run_id: str) -> list[Claim]:
    """Claim one batch named by the caller (complete by their word: no stability wait)."""
    if not path.exists():
        raise ValueError(f"{path}: no such batch; a monitoring run may have taken it already "
                         f"(see {path.parent / DONE}/ and {path.parent / REJECTED}/).")
    if not is_batch(path):
        raise ValueError(f"{path}: not a batch file (a .csv, .parquet or .zip that is not "
                         "hidden); give the path of a batch in the incoming folder.")
    owner = owner_folder(path.parent, run_id)
    owner.mkdir(parents=True, exist_ok=True)
    taken = claim(path, owner)
    if taken is None:
        _remove_leftovers(owner)
        raise ValueError(f"{path}: another monitoring run took this batch first.")
    return [taken]


def unchanged(taken: Claim) -> bool:
    """Whether the claimed file is as it was when claimed (no writer still appending)."""
    stat = taken.path.stat()
    return (stat.st_size, stat.st_mtime_ns) == (taken.size, taken.mtime_ns)


@contextmanager
def claims_kept(claims: Sequence[Claim], every_seconds: float = 30) -> Iterator[None]:
    """Renew the claims (touch the run's folders) every `every_seconds` while the body runs;
    afterwards, remove the run's folders once they hold no batch."""
    owners = {taken.path.parent for taken in claims}
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(every_seconds):
            for owner in owners:
                with suppress(OSError):
                    os.utime(owner)

    thread = threading.Thread(target=renew, name="nids-claims", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        for owner in owners:
            _remove_leftovers(owner)


def finish(taken: Claim, predictions: Path) -> Path:
    """Move a scored batch and its predictions into done/; returns the batch's new path."""
    target = move_keeping(taken.path, taken.incoming / DONE, predictions)
    logger.info("Done with %s: %s", taken.name, target)
    return target


def error_text(name: str, problem: str, incoming: Path) -> str:
    """What `<batch>.error.txt` says: what is wrong, and how to resubmit."""
    return (f"The monitoring flow refused the batch {name}.\n\nWhat is wrong:\n{problem}\n\n"
            f"To resubmit: fix the file (or write it again) and move it back into "
            f"{incoming}/, e.g.\n    mv '{incoming / REJECTED / name}' '{incoming / name}'\n"
            "then delete this file. The next monitoring run takes it.\n")


def reject(taken: Claim, problem: str) -> tuple[Path, Path]:
    """Move a bad batch into rejected/ with `<batch>.error.txt` saying what is wrong and how
    to resubmit; returns the batch's new path and the error file."""
    target = move_keeping(taken.path, taken.incoming / REJECTED)
    error_file = target.with_name(target.name + ERROR_SUFFIX)
    with atomic_path(error_file) as tmp:
        tmp.write_text(error_text(target.name, problem, taken.incoming), encoding="utf-8")
    logger.error("Rejected %s: %s (see %s)", taken.name, problem, error_file)
    return target, error_file


def release(taken: Claim) -> Path | None:
    """Put a claimed batch back into the incoming folder for the next run (if still here),
    marked ready when it is as complete as when claimed, else left to the stability wait."""
    if not taken.path.exists():
        return None
    complete = unchanged(taken)
    back = move_keeping(taken.path, taken.incoming)
    if complete:
        mark_ready(back)
    logger.warning("Put %s back into %s for the next run", taken.name, taken.incoming)
    return back


def release_all(claims: Sequence[Claim]) -> None:
    """Put back every batch still claimed (after a failure that is not theirs); one that
    cannot be moved stays claimed and is taken back once the claim expires."""
    for taken in claims:
        try:
            release(taken)
        except OSError as error:
            logger.error("Could not put %s back (%s); the next run takes it once this run's "
                         "claim expires", taken.path, error)


def _remove_leftovers(owner: Path) -> None:
    """Delete a run's folder with what an unfinished batch left in it (predictions, temporary
    files), unless it still holds a batch: a batch is never deleted here."""
    with suppress(OSError):
        if any(is_batch(path) for path in owner.iterdir()):
            return
        for path in owner.iterdir():
            path.unlink()
        owner.rmdir()
