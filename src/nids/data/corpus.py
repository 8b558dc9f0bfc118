"""The corpus of labelled traffic: batches the monitoring flow checked, kept for training.

Each labelled batch becomes one Parquet partition under the corpus folder, named by its arrival
time and its batch (`20261129T180000Z--traffic-07.parquet`), written atomically and never
changed afterwards: the list of partition names a run trained on is that run's exact corpus
version (`python -m nids.tracking.lineage show` prints it). DVC tracks the folder like
data/raw: each new partition updates data/corpus.dvc (`nids.data.corpus_versioning`), whose md5
the training run records too. Training reads the partitions within a window (days, or
the newest N) and keeps at most `max_rows_per_class` rows of each class, newest first.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from nids.config import CorpusConfig
from nids.data.archives import sha256_of
from nids.data.corpus_versioning import version_corpus
from nids.data.schema import FEATURE_COLUMNS, LABEL_COLUMN, LABELS
from nids.io import atomic_path, write_parquet

logger = logging.getLogger(__name__)

FLOW_KEY_COLUMN = "flow_key"   # "<batch>#<row>": the flow's batch and its row in it
SUFFIX = ".parquet"
TIME_FORMAT = "%Y%m%dT%H%M%SZ"
_NAME = re.compile(r"^(?P<time>\d{8}T\d{6}Z)--(?P<batch>.+)\.parquet$")


@dataclass(frozen=True)
class Partition:
    """One labelled batch in the corpus."""

    path: Path
    batch: str
    arrived_at: datetime

    @property
    def name(self) -> str:
        return self.path.name


def flow_keys(batch: str, rows: int) -> list[str]:
    """The key of each flow of a batch: its name and row number (the formats' identifier
    columns are neither always present nor unique, a row of a batch is)."""
    return [f"{batch}#{row}" for row in range(rows)]


def partition_name(batch: str, arrived_at: datetime) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(batch).stem)
    return f"{arrived_at.astimezone(UTC).strftime(TIME_FORMAT)}--{stem}{SUFFIX}"


def parse_partition(path: Path) -> Partition | None:
    """The partition a file name describes; None for files that are no partition."""
    match = _NAME.match(path.name)
    if match is None:
        return None
    arrived = datetime.strptime(match["time"], TIME_FORMAT).replace(tzinfo=UTC)
    return Partition(path, match["batch"], arrived)


def corpus_rows(frame: pd.DataFrame, batch: str) -> pd.DataFrame:
    """The feature columns, the label and the flow key of a labelled batch's rows."""
    if LABEL_COLUMN not in frame.columns:
        raise ValueError(f"{batch}: the batch has no label column; only labelled batches join "
                         "the corpus (unlabelled ones get a label request).")
    unlabelled = int(frame[LABEL_COLUMN].isna().sum())
    if unlabelled:
        raise ValueError(f"{batch}: {unlabelled} row(s) have no label; label every row (or "
                         "leave the label column out) before the batch joins the corpus.")
    rows = frame[list(FEATURE_COLUMNS)].astype(np.float32)
    rows[LABEL_COLUMN] = frame[LABEL_COLUMN].astype(str).to_numpy()
    rows[FLOW_KEY_COLUMN] = (frame[FLOW_KEY_COLUMN].to_numpy() if FLOW_KEY_COLUMN in frame
                             else flow_keys(batch, len(frame)))
    return rows.reset_index(drop=True)


def append_batch(frame: pd.DataFrame, batch: str, arrived_at: datetime,
                 corpus_dir: Path) -> Partition:
    """Write a labelled batch as a new partition and version the corpus with DVC where DVC
    tracks it; an existing partition of the same batch and arrival time is left as it is (a
    batch is added once)."""
    path = corpus_dir / partition_name(batch, arrived_at)
    if path.exists():
        logger.info("%s is already in the corpus as %s", batch, path.name)
    else:
        rows = corpus_rows(frame, batch)
        with atomic_path(path) as tmp:
            write_parquet(rows, tmp)
        logger.info("Added %d labelled rows of %s to the corpus: %s", len(rows), batch, path)
        version_corpus(corpus_dir)
    partition = parse_partition(path)
    assert partition is not None  # the name was built by partition_name
    return partition


def list_partitions(corpus_dir: Path) -> list[Partition]:
    """Every partition of the corpus, oldest first (empty when there is no corpus)."""
    if not corpus_dir.is_dir():
        return []
    found = [p for path in corpus_dir.glob(f"*{SUFFIX}") if (p := parse_partition(path))]
    return sorted(found, key=lambda p: (p.arrived_at, p.name))


def select_partitions(partitions: list[Partition], config: CorpusConfig,
                      now: datetime) -> list[Partition]:
    """The partitions a training run reads: within the window of days and the newest N."""
    if not config.use:
        return []
    chosen = partitions
    if config.window_days is not None:
        since = now - timedelta(days=config.window_days)
        chosen = [p for p in chosen if p.arrived_at >= since]
    if config.window_partitions is not None:
        chosen = chosen[-config.window_partitions:]
    return chosen


def cap_per_class(frame: pd.DataFrame, max_rows: int | None) -> pd.DataFrame:
    """At most `max_rows` rows of each label, keeping the last (newest) ones."""
    if max_rows is None:
        return frame
    newest = frame.groupby(LABEL_COLUMN, observed=True, sort=False).tail(max_rows)
    return frame.loc[newest.index.sort_values()]


def read_corpus(partitions: list[Partition], max_rows_per_class: int | None) -> pd.DataFrame:
    """The rows of the partitions, oldest first, capped per class, with `source_file` (the
    partition) and `day` (its arrival weekday) as the training loader gives them."""
    parts = []
    for partition in partitions:
        part = pd.read_parquet(partition.path).drop(columns=[FLOW_KEY_COLUMN], errors="ignore")
        parts.append(part.assign(source_file=partition.name,
                                 day=partition.arrived_at.strftime("%A")))
    if not parts:
        return pd.DataFrame()
    frame = cap_per_class(pd.concat(parts, ignore_index=True), max_rows_per_class)
    frame[LABEL_COLUMN] = pd.Categorical(frame[LABEL_COLUMN], categories=list(LABELS))
    return frame.reset_index(drop=True)


def fingerprint_with(base: str, partitions: list[Partition],
                     max_rows_per_class: int | None) -> str:
    """The fingerprint of the raw inputs extended by the partitions read and the cap; the raw
    fingerprint itself when no partition is read."""
    if not partitions:
        return base
    digest = hashlib.sha256(f"{base}-corpus-cap{max_rows_per_class}".encode())
    for partition in partitions:
        digest.update(partition.name.encode())
        digest.update(sha256_of(partition.path).encode())
    return digest.hexdigest()
