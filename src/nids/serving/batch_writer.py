"""Scored flows into time-bucketed Parquet batches that the monitoring flow picks up.

Flows are buffered in memory, spooled now and then to part files under `<incoming>/.spool/`
(hidden: the monitoring flow ignores it), and a bucket's batch file `flows-<start>.parquet`
is written in one atomic rename once the bucket has ended (or the service stops). So the
monitoring flow never reads half a batch, and a crash loses at most the unspooled rows.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from nids.data.schema import FEATURE_COLUMNS
from nids.io import atomic_path

logger = logging.getLogger(__name__)

SPOOL_DIR = ".spool"
STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
SCORED_AT = "scored_at"


def batch_stem(bucket_start: int) -> str:
    return "flows-" + datetime.fromtimestamp(bucket_start, UTC).strftime(STAMP_FORMAT)


def bucket_start_of(stem: str) -> int | None:
    try:
        return int(datetime.strptime(stem.removeprefix("flows-"), STAMP_FORMAT)
                   .replace(tzinfo=UTC).timestamp())
    except ValueError:
        return None


@dataclass(frozen=True)
class ScoredFlows:
    """Flows of one request as a batch keeps them: features as received, class, model."""

    features: np.ndarray          # (flows, FEATURE_COLUMNS) float32
    predictions: np.ndarray       # class names
    probabilities: np.ndarray
    model_version: str
    scored_at: float = 0.0        # Unix time, set by the writer


def batch_frame(parts: list[ScoredFlows]) -> pd.DataFrame:
    """One table for many requests: canonical feature columns plus what scored them."""
    frame = pd.DataFrame(np.concatenate([part.features for part in parts]),
                         columns=list(FEATURE_COLUMNS))
    sizes = [len(part.features) for part in parts]
    frame["prediction"] = np.concatenate([part.predictions for part in parts]).astype(str)
    frame["probability"] = np.concatenate([part.probabilities for part in parts]).astype(
        np.float32)
    frame["model_version"] = np.repeat([part.model_version for part in parts], sizes)
    frame[SCORED_AT] = pd.to_datetime(np.repeat([part.scored_at for part in parts], sizes),
                                      unit="s", utc=True)
    return frame


class BatchWriter:
    """Thread-safe: `append` from request threads, `flush`/`close` from a background task."""

    def __init__(self, folder: Path, bucket_seconds: int, flush_rows: int,
                 clock: Callable[[], float] = time.time):
        self.folder = folder
        self.bucket_seconds = bucket_seconds
        self.flush_rows = flush_rows
        self.clock = clock
        self._buffers: dict[int, list[ScoredFlows]] = {}
        self._buffered_rows = 0
        self._lock = threading.Lock()        # the buffers
        self._writing = threading.Lock()     # the files: one flush or close at a time

    @property
    def spool(self) -> Path:
        return self.folder / SPOOL_DIR

    @property
    def buffered_rows(self) -> int:
        return self._buffered_rows

    def append(self, scored: ScoredFlows) -> bool:
        """Buffer scored flows, stamped now; True when enough are buffered to flush.

        Only references are kept here: the table is built when spooling, off the request path.
        """
        with self._lock:
            now = self.clock()
            start = int(now // self.bucket_seconds) * self.bucket_seconds
            self._buffers.setdefault(start, []).append(dataclasses.replace(scored, scored_at=now))
            self._buffered_rows += len(scored.features)
            return self._buffered_rows >= self.flush_rows

    def flush(self) -> list[Path]:
        """Spool the buffered flows, then write the batches of the buckets that have ended."""
        with self._writing:
            with self._lock:
                now = self.clock()
                buffers, self._buffers, self._buffered_rows = self._buffers, {}, 0
            self._spool_all(buffers)
            return self._complete_all([f for f in self._spooled() if self._ended(f, now)])

    def close(self) -> list[Path]:
        """Spool what is buffered and write every bucket's batch, ended or not (shutdown)."""
        with self._writing:
            with self._lock:
                buffers, self._buffers, self._buffered_rows = self._buffers, {}, 0
            self._spool_all(buffers)
            return self._complete_all(self._spooled())

    def _spool_all(self, buffers: dict[int, list[ScoredFlows]]) -> None:
        """Spool each bucket's frames; on failure the unspooled frames go back to the buffer."""
        for start in sorted(buffers):
            try:
                self._spool_part(start, buffers[start])
            except Exception:
                with self._lock:
                    for bucket, frames in buffers.items():
                        self._buffers.setdefault(bucket, [])[:0] = frames
                        self._buffered_rows += sum(len(part.features) for part in frames)
                raise
            del buffers[start]

    def _ended(self, folder: Path, now: float) -> bool:
        start = bucket_start_of(folder.name)
        return start is not None and start + self.bucket_seconds <= now

    def _spooled(self) -> list[Path]:
        if not self.spool.is_dir():
            return []
        return sorted(p for p in self.spool.iterdir()
                      if p.is_dir() and bucket_start_of(p.name) is not None)

    def _spool_part(self, start: int, parts: list[ScoredFlows]) -> None:
        folder = self.spool / batch_stem(start)
        part = folder / f"part-{time.time_ns()}-{uuid.uuid4().hex[:8]}.parquet"
        with atomic_path(part) as tmp:
            batch_frame(parts).to_parquet(tmp, index=False)

    def _complete_all(self, folders: list[Path]) -> list[Path]:
        written = [self._complete(folder) for folder in folders]
        return [path for path in written if path is not None]

    def _complete(self, folder: Path) -> Path | None:
        """One batch file from a bucket's parts, renamed into place, then the parts removed."""
        parts = sorted(folder.glob("part-*.parquet"))
        target = None
        if parts:
            target = self._free_name(folder.name)
            with atomic_path(target) as tmp:
                pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True).to_parquet(
                    tmp, index=False)
            logger.info("Wrote batch %s (%d part(s))", target, len(parts))
        shutil.rmtree(folder)
        return target

    def _free_name(self, stem: str) -> Path:
        """`<stem>.parquet`, or `<stem>-1.parquet`... when a restart reopened the bucket."""
        target, number = self.folder / f"{stem}.parquet", 0
        while target.exists():
            number += 1
            target = self.folder / f"{stem}-{number}.parquet"
        return target
