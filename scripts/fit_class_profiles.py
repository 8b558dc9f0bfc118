"""Fit the generator's per-class profiles to real CICIDS2017 rows; write class_profiles.json.

Source of each class: the stratified 2017 sample (../shared/cicids2017/cicids2017_sample.csv,
the 2017 feature extraction the generator imitates) where it holds at least MIN_SAMPLE_ROWS
rows of the class; otherwise the corrected re-extraction (../shared/cicids2017-improved/,
read through nids.data.formats), whose features are computed somewhat differently (header
lengths may be negative there: clipped at 0). BENIGN is fitted as three components by
destination port (DNS, web, other), so that the generator can vary their mix over the day.

Per class (or component) the table holds: the quantiles of log1p of each base quantity, the
correlation of their normal scores (a Gaussian copula), the destination ports, initial window
sizes and minimum segment sizes with their shares, the flag probabilities and the share of
forward packets carrying data. Statistics only, no rows.

    PYTHONPATH=src .venv/bin/python scripts/fit_class_profiles.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import norm

from nids.data.ingest import read_input
from nids.data.profiles import BASE_QUANTITIES, FLAGS, PROFILE_TABLE, QUANTILES
from nids.data.schema import CICIDS2017_LABELS
from nids.io import atomic_path

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SAMPLE = SHARED / "cicids2017" / "cicids2017_sample.csv"
IMPROVED = SHARED / "cicids2017-improved"
MIN_SAMPLE_ROWS = 20
TOP_VALUES = 12
BENIGN_COMPONENTS = {"dns": [53], "web": [80, 443, 8080]}


def load(paths: list[Path]) -> pd.DataFrame:
    frames = [read_input(path, verify=False)[0] for path in paths]
    frame = pd.concat(frames, ignore_index=True)
    frame["label"] = frame["label"].astype(str)
    return frame


def top_values(column: pd.Series) -> dict[str, list[float]]:
    shares = column.value_counts(normalize=True).head(TOP_VALUES)
    return {"values": [float(v) for v in shares.index],
            "shares": [round(float(s), 5) for s in shares / shares.sum()]}


def ports(column: pd.Series) -> dict[str, object]:
    """Top ports and the share of the rest (drawn as random ports by the generator)."""
    shares = column.value_counts(normalize=True)
    top = shares[shares >= 0.01].head(TOP_VALUES)
    return {"values": [int(v) for v in top.index],
            "shares": [round(float(s), 5) for s in top],
            "other": round(float(1 - top.sum()), 5)}


def copula(logs: np.ndarray) -> list[list[float]]:
    """Correlation of normal scores, shrunk towards identity for small classes."""
    n = len(logs)
    ranks = pd.DataFrame(logs).rank(method="average").to_numpy()
    scores = norm.ppf(ranks / (n + 1))
    with np.errstate(invalid="ignore", divide="ignore"):  # constant columns
        corr = np.nan_to_num(np.corrcoef(scores, rowvar=False))
    np.fill_diagonal(corr, 1.0)
    corr = corr * n / (n + 30) + np.eye(len(corr)) * 30 / (n + 30)
    values, vectors = np.linalg.eigh(corr)
    corr = vectors @ np.diag(np.clip(values, 1e-3, None)) @ vectors.T
    d = np.sqrt(np.diag(corr))
    return np.round(corr / np.outer(d, d), 3).tolist()


def fit(rows: pd.DataFrame, source: str) -> dict[str, object]:
    base = rows[list(BASE_QUANTITIES)].to_numpy(np.float64)
    logs = np.log1p(np.clip(np.nan_to_num(base, posinf=0.0), 0, None))
    fwd_n = rows["total_fwd_packets"].clip(lower=1)
    return {
        "source": source, "rows": len(rows),
        "quantiles": np.round(np.quantile(logs, QUANTILES, axis=0).T, 4).tolist(),
        "correlation": copula(logs),
        "ports": ports(rows["destination_port"]),
        "init_win_bytes_forward": top_values(rows["init_win_bytes_forward"]),
        "init_win_bytes_backward": top_values(rows["init_win_bytes_backward"]),
        "min_seg_size_forward": top_values(rows["min_seg_size_forward"].clip(lower=0)),
        "flags": {flag: round(float((rows[flag] > 0).mean()), 5) for flag in FLAGS},
        "data_packet_share": round(float((rows["act_data_pkt_fwd"] / fwd_n).clip(0, 1).mean()), 4),
    }


def benign_components(rows: pd.DataFrame, source: str) -> dict[str, dict[str, object]]:
    port = rows["destination_port"]
    named = {name: port.isin(values) for name, values in BENIGN_COMPONENTS.items()}
    named["other"] = ~np.logical_or.reduce(list(named.values()))
    return {f"BENIGN:{name}": fit(rows[mask], source) | {"share": round(float(mask.mean()), 4)}
            for name, mask in named.items()}


def main() -> None:
    sample = load([SAMPLE])
    improved = load(sorted(IMPROVED.glob("*.csv")))
    table: dict[str, dict[str, object]] = {}
    for label in CICIDS2017_LABELS:
        in_sample = sample[sample["label"] == label]
        rows, source = ((in_sample, SAMPLE.name) if len(in_sample) >= MIN_SAMPLE_ROWS
                        else (improved[improved["label"] == label], IMPROVED.name))
        if label == "BENIGN":
            table |= benign_components(rows, source)
        else:
            table[label] = fit(rows, source)
        print(f"{label:<28} {len(rows):>6} rows from {source}")
    with atomic_path(PROFILE_TABLE) as tmp:
        tmp.write_text(json.dumps({"quantities": list(BASE_QUANTITIES), "quantiles": QUANTILES,
                                   "profiles": table}, separators=(",", ":")))
    print(f"wrote {PROFILE_TABLE} ({PROFILE_TABLE.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
