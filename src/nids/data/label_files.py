"""Labels files: analysts' verdicts on flows of a label request, back into the corpus.

A labels file is a CSV in the labels folder with a `flow_key` and a `label` column (a filled-in
label request is one; other columns are ignored, empty labels are skipped). Each label must be
a known one (`schema.canonical_label`), each flow must be one a label request asked about (its
features come from the request) or a flow of a monitored batch (`<batch>#<row>` of a batch in
the monitoring flow's done/ folder, read with the same loader). An accepted file becomes a
corpus partition and moves to `done/`; a refused one moves to `rejected/` with
`<file>.error.txt` saying what to fix.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from nids.data import corpus
from nids.data.batches import load_batch
from nids.data.corpus import FLOW_KEY_COLUMN
from nids.data.incoming import DONE, ERROR_SUFFIX, REJECTED, move_keeping
from nids.data.schema import FEATURE_COLUMNS, LABEL_COLUMN, LABELS, canonical_label
from nids.io import atomic_path

logger = logging.getLogger(__name__)

REQUIRED = (FLOW_KEY_COLUMN, LABEL_COLUMN)


@dataclass(frozen=True)
class TakenLabels:
    """What became of one labels file: the partition it made, or why it was refused."""

    file: str
    location: Path
    labelled: int = 0
    partition: str | None = None
    problem: str | None = None


def read_labels(path: Path) -> pd.DataFrame:
    """The labelled flows of a labels file: flow_key and canonical label, validated."""
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError, UnicodeDecodeError) as error:
        raise ValueError(f"{path.name}: not a readable CSV ({error}).") from error
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing:
        raise ValueError(f"{path.name}: column(s) {missing} missing; a labels file needs the "
                         f"columns {list(REQUIRED)} (a filled-in label request has them).")
    given = raw.loc[raw[LABEL_COLUMN].str.strip() != "", list(REQUIRED)]
    if given.empty:
        raise ValueError(f"{path.name}: no flow has a label; fill the {LABEL_COLUMN!r} column.")
    labels = given[LABEL_COLUMN].map(canonical_label)
    unknown = given.loc[labels.isna(), LABEL_COLUMN]
    if not unknown.empty:
        line = int(unknown.index[0]) + 2  # the header is line 1
        raise ValueError(f"{path.name}: line {line}, column {LABEL_COLUMN!r}: unknown label "
                         f"{unknown.iloc[0]!r} ({len(unknown)} such row(s)); use one of "
                         f"{list(LABELS)}.")
    return pd.DataFrame({FLOW_KEY_COLUMN: given[FLOW_KEY_COLUMN].str.strip().to_numpy(),
                         LABEL_COLUMN: labels.to_numpy()})


def requested_flows(requests_dir: Path) -> pd.DataFrame:
    """The flows label requests asked about, with their features, by flow key."""
    frames = [pd.read_csv(p, usecols=lambda c: c == FLOW_KEY_COLUMN or c in FEATURE_COLUMNS)
              for p in sorted(requests_dir.glob("*.csv"))] if requests_dir.is_dir() else []
    if not frames:
        return pd.DataFrame(columns=[FLOW_KEY_COLUMN, *FEATURE_COLUMNS]).set_index(
            FLOW_KEY_COLUMN)
    flows = pd.concat(frames, ignore_index=True).drop_duplicates(FLOW_KEY_COLUMN, keep="last")
    return flows.set_index(FLOW_KEY_COLUMN)


def batch_flows(keys: pd.Series, batches_dir: Path | None) -> pd.DataFrame:
    """The flows of `keys` (`<batch>#<row>`) read from their batch in `batches_dir` (the
    monitoring flow's done/ folder), for flows a request did not list; by flow key."""
    found = []
    parts = keys.str.rsplit("#", n=1, expand=True) if len(keys) else None
    for batch in [] if parts is None or batches_dir is None else parts[0].unique():
        path = batches_dir / batch
        rows = pd.to_numeric(parts.loc[parts[0] == batch, 1], errors="coerce").dropna()
        if not path.is_file() or rows.empty:
            continue
        frame = load_batch(path)
        rows = rows[(rows >= 0) & (rows < len(frame))].astype(int)
        found.append(frame.iloc[rows.to_numpy()][list(FEATURE_COLUMNS)].set_axis(
            [f"{batch}#{row}" for row in rows], axis=0))
    return pd.concat(found) if found else pd.DataFrame(columns=list(FEATURE_COLUMNS))


def labelled_flows(labels: pd.DataFrame, flows: pd.DataFrame, name: str,
                   requests_dir: Path) -> pd.DataFrame:
    """The labelled flows with their features; an error names flows no request asked about."""
    conflicting = labels.groupby(FLOW_KEY_COLUMN)[LABEL_COLUMN].nunique()
    if (conflicting > 1).any():
        keys = list(conflicting[conflicting > 1].index[:5])
        raise ValueError(f"{name}: flows {keys} have two different labels; keep one per flow.")
    labels = labels.drop_duplicates(FLOW_KEY_COLUMN)
    unknown = labels.loc[~labels[FLOW_KEY_COLUMN].isin(flows.index), FLOW_KEY_COLUMN]
    if not unknown.empty:
        raise ValueError(f"{name}: column {FLOW_KEY_COLUMN!r}: {len(unknown)} flow(s) no label "
                         f"request in {requests_dir}/ asked about and no monitored batch holds, "
                         f"e.g. {list(unknown[:3])}; label the flows of a request file (keep "
                         "its flow_key column), or name a flow of a batch in the monitoring "
                         "flow's done/ folder as <batch>#<row>.")
    joined = flows.loc[labels[FLOW_KEY_COLUMN]].rename_axis(FLOW_KEY_COLUMN).reset_index()
    joined[LABEL_COLUMN] = labels[LABEL_COLUMN].to_numpy()
    return joined


def refuse(path: Path, problem: str) -> TakenLabels:
    """Move a bad labels file into rejected/ with an error file saying what to fix."""
    target = move_keeping(path, path.parent / REJECTED)
    with atomic_path(target.with_name(target.name + ERROR_SUFFIX)) as tmp:
        tmp.write_text(f"{problem}\n\nFix the file and move it back into {path.parent}/.\n",
                       encoding="utf-8")
    logger.error("Refused the labels file %s: %s", path.name, problem)
    return TakenLabels(path.name, target, problem=problem)


def take_labels_file(path: Path, requests_dir: Path, corpus_dir: Path,
                     batches_dir: Path | None = None) -> TakenLabels:
    """Validate a labels file, join its flows' features (from the label requests, else from
    the flow's batch in `batches_dir`), add them to the corpus, move the file to done/ (or
    rejected/ with the reason)."""
    try:
        labels = read_labels(path)
        flows = requested_flows(requests_dir)
        others = labels.loc[~labels[FLOW_KEY_COLUMN].isin(flows.index), FLOW_KEY_COLUMN]
        flows = pd.concat([flows, batch_flows(others.drop_duplicates(), batches_dir)])
        rows = labelled_flows(labels, flows, path.name, requests_dir)
    except ValueError as error:
        return refuse(path, str(error))
    arrived = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    partition = corpus.append_batch(rows, f"labels-{path.stem}", arrived, corpus_dir)
    target = move_keeping(path, path.parent / DONE)
    return TakenLabels(path.name, target, len(rows), partition.name)


def take_labels_files(labels_dir: Path, requests_dir: Path, corpus_dir: Path,
                      batches_dir: Path | None = None) -> list[TakenLabels]:
    """Every labels file (CSV) waiting in the labels folder, oldest name first."""
    waiting = sorted(p for p in labels_dir.glob("*.csv") if not p.name.startswith(".")) \
        if labels_dir.is_dir() else []
    return [take_labels_file(path, requests_dir, corpus_dir, batches_dir) for path in waiting]
