"""Builders of small synthetic CICIDS2017 inputs shared by the tests (no I/O, no randomness
unless a seed is given). Plain functions, not fixtures: parametrize lists call them when tests
are collected."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from nids.data.schema import FEATURE_COLUMNS, LABEL_COLUMN, LABELS, MACHINE_LEARNING_HEADER

IDENTIFIERS = ("192.168.10.5-104.16.207.165-54865-443-6", "192.168.10.5", "54865",
               "104.16.207.165")
PROTOCOL, TIMESTAMP = "6", "7/7/2017 3:30"


def feature_cells(offset: int = 0) -> list[str]:
    """78 distinct numeric cells: feature i holds `i + offset`, so columns cannot be mixed up."""
    return [str(i + offset) for i in range(len(FEATURE_COLUMNS))]


def ml_row(label: str, cells: Sequence[str] | None = None) -> str:
    """A MachineLearningCVE data line (78 features, label)."""
    return ",".join([*(cells or feature_cells()), label])


def traffic_row(label: str, cells: Sequence[str] | None = None) -> str:
    """A TrafficLabelling data line: identifiers around the destination port, then the rest."""
    cells = list(cells or feature_cells())
    return ",".join([*IDENTIFIERS, cells[0], PROTOCOL, TIMESTAMP, *cells[1:], label])


def csv_bytes(header: Sequence[str], lines: Sequence[str | bytes], newline: str = "\r\n",
              bom: bool = False) -> bytes:
    """A CSV file's bytes; lines given as bytes are kept as they are (e.g. cp1252 labels)."""
    encoded = [",".join(header).encode()] + [
        line if isinstance(line, bytes) else line.encode() for line in lines
    ]
    body = newline.encode().join(encoded) + newline.encode()
    return (b"\xef\xbb\xbf" + body) if bom else body


def ml_csv(labels: Sequence[str], **options) -> bytes:
    """A MachineLearningCVE file with one row per label, row r holding `i + r` in feature i."""
    lines = [ml_row(label, feature_cells(r)) for r, label in enumerate(labels)]
    return csv_bytes(MACHINE_LEARNING_HEADER, lines, **options)


def expected_features(rows: int) -> np.ndarray:
    """The feature values `ml_csv`/`traffic_row` files parse to."""
    return np.arange(len(FEATURE_COLUMNS))[None, :] + np.arange(rows)[:, None]


def flow_frame(labels: Sequence[str], seed: int = 0, source_file: str = "a.csv") -> pd.DataFrame:
    """A parsed-looking frame: every feature column (random positive floats) plus `label`."""
    rng = np.random.default_rng(seed)
    values = rng.uniform(1, 100, (len(labels), len(FEATURE_COLUMNS))).astype(np.float32)
    frame = pd.DataFrame(values, columns=list(FEATURE_COLUMNS))
    frame[LABEL_COLUMN] = list(labels)
    frame["source_file"] = source_file
    return frame


def unlabelled_csv(rows: int) -> bytes:
    """A MachineLearningCVE file without its Label column: traffic nobody has labelled yet."""
    lines = [",".join(feature_cells(r)) for r in range(rows)]
    return csv_bytes(MACHINE_LEARNING_HEADER[:-1], lines)


def days_frame(labels_by_day: dict[str, Sequence[str]], seed: int = 0) -> pd.DataFrame:
    """A frame as `ingest.load_inputs` returns it over several days: `flow_frame` rows with
    categorical `label`, `source_file` and `day`."""
    frames = [
        flow_frame(labels, seed + i, f"{day}-WorkingHours.pcap_ISCX.csv").assign(day=day)
        for i, (day, labels) in enumerate(labels_by_day.items())
    ]
    frame = pd.concat(frames, ignore_index=True)
    frame[LABEL_COLUMN] = pd.Categorical(frame[LABEL_COLUMN], categories=list(LABELS))
    for column in ("source_file", "day"):
        frame[column] = frame[column].astype("category")
    return frame


def features_of(frame: pd.DataFrame) -> np.ndarray:
    """The feature columns of a parsed frame as float64, to compare with `expected_features`."""
    return frame[list(FEATURE_COLUMNS)].to_numpy(dtype=np.float64)


CLASS_SCALES = {"BENIGN": 1.0, "DDoS": 30.0, "PortScan": 0.03, "Bot": 3_000.0}


def class_flows(rows: int, seed: int, classes: tuple[str, ...] = ("BENIGN", "DDoS", "PortScan"),
                shares: tuple[float, ...] = (0.8, 0.12, 0.08)) -> pd.DataFrame:
    """Loaded flows: every feature column; each class has its own scale on the first eight
    features ('Bot' is far from all of them)."""
    rng = np.random.default_rng(seed)
    labels = rng.choice(classes, rows, p=shares)
    values = rng.lognormal(3, 0.5, (rows, len(FEATURE_COLUMNS)))
    values[:, :8] *= np.array([CLASS_SCALES[name] for name in labels])[:, None]
    frame = pd.DataFrame(values.astype(np.float32), columns=list(FEATURE_COLUMNS))
    frame["destination_port"] = frame["destination_port"].round()   # ports are whole numbers
    frame[LABEL_COLUMN] = labels
    return frame
