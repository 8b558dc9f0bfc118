"""Benchmark: generated data against real rows, for the model and for monitoring slices.

1. The project's pipeline (config/training.yaml: build_splits, train_on_splits,
   evaluate_model on the test split) on generated data (--rows, default 200,000, all days)
   and on the real stratified sample ../shared/cicids2017/cicids2017_sample.csv: macro-F1
   and per-class F1 of both.
2. Exact-duplicate column pairs (non-constant) in each.
3. Consecutive 2,000-row slices, in file order: per slice the attack share and the median
   flow_duration of benign flows; their spread across slices and from one slice to the
   next, for the real time-ordered Friday and Thursday files in ../shared/cicids2017 and
   for the generated day files.
4. Generation speed (rows/s).

    PYTHONPATH=src .venv/bin/python bench/generated_vs_real.py [--rows 200000]
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from nids.config import load_training_config
from nids.data.generate import generate_dataset
from nids.data.ingest import read_input
from nids.data.schema import FEATURE_COLUMNS, LABEL_COLUMN
from nids.paths import PROJECT_ROOT
from nids.training.evaluate import evaluate_model
from nids.training.splits import configured_splits
from nids.training.train import train_on_splits

REAL = PROJECT_ROOT.parent / "shared" / "cicids2017"
SLICE = 2000
MIN_TEST_ROWS = 5


def load(path: Path) -> pd.DataFrame:
    frame = read_input(path, verify=False)[0]
    frame[LABEL_COLUMN] = frame[LABEL_COLUMN].astype(str)
    return frame


def score(frame: pd.DataFrame) -> pd.DataFrame:
    config = load_training_config()
    splits = configured_splits(frame, config.features)
    trained = train_on_splits(splits, config.model)
    result = evaluate_model(trained.bundle, splits["test"])
    return result.per_class.loc[result.per_class["support"] > 0, ["f1", "support"]]


def duplicate_pairs(frame: pd.DataFrame) -> list[str]:
    arrays = {c: frame[c].to_numpy(np.float64) for c in FEATURE_COLUMNS}
    pairs = []
    for i, a in enumerate(FEATURE_COLUMNS):
        for b in FEATURE_COLUMNS[i + 1:]:
            if np.nanstd(arrays[a]) > 0 and np.array_equal(arrays[a], arrays[b], equal_nan=True):
                pairs.append(f"{a}={b}")
    return pairs


def slice_figures(frame: pd.DataFrame, size: int = SLICE) -> pd.DataFrame:
    rows = []
    for start in range(0, len(frame) - size + 1, size):
        part = frame.iloc[start:start + size]
        benign = part[part[LABEL_COLUMN] == "BENIGN"]
        rows.append({"attack_share": 1 - len(benign) / len(part),
                     "benign_duration_median": benign["flow_duration"].median()})
    return pd.DataFrame(rows)


def print_slices(name: str, slices: pd.DataFrame) -> None:
    logs = np.log10(slices["benign_duration_median"].clip(lower=1))
    step = logs.diff().abs().mean() if len(logs) > 1 else float("nan")
    print(f"{name:<62}{len(slices):>5}  attack share {slices['attack_share'].min():.3f}-"
          f"{slices['attack_share'].max():.3f}  benign duration median "
          f"{slices['benign_duration_median'].min():>10,.0f}-"
          f"{slices['benign_duration_median'].max():>11,.0f} us  sd(log10) {logs.std():.2f}"
          f"  mean |step| {step:.2f}")


def compare_models(sample: pd.DataFrame, generated: pd.DataFrame) -> None:
    print("\n1. pipeline macro-F1 (test split) and per-class F1 (test rows)")
    real, gen = score(sample), score(generated)
    table = pd.DataFrame({"real F1": real["f1"], "real rows": real["support"],
                          "generated F1": gen["f1"], "generated rows": gen["support"]})
    print(table.round(3).to_string(na_rep="-"))
    both = table.dropna()
    supported = both[both[["real rows", "generated rows"]].min(axis=1) >= MIN_TEST_ROWS]
    print(f"macro-F1: real sample {real['f1'].mean():.4f} ({len(real)} classes), generated "
          f"{gen['f1'].mean():.4f} ({len(gen)} classes)")
    print(f"over the {len(both)} classes both hold: real {both['real F1'].mean():.4f}, "
          f"generated {both['generated F1'].mean():.4f}; over the {len(supported)} with >= "
          f"{MIN_TEST_ROWS} test rows in both: real {supported['real F1'].mean():.4f}, "
          f"generated {supported['generated F1'].mean():.4f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=2017)
    parser.add_argument("--skip-training", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        paths = generate_dataset(Path(folder), args.rows, args.seed)
        seconds = time.perf_counter() - started
        days = {p.name: load(p) for p in paths}
    generated = pd.concat(days.values(), ignore_index=True)
    print(f"generated {len(generated):,} rows in {seconds:.1f} s "
          f"({len(generated) / seconds:,.0f} rows/s, CSV writing included)")
    sample = load(REAL / "cicids2017_sample.csv")

    if not args.skip_training:
        compare_models(sample, generated)
    print("\n2. exact-duplicate column pairs (non-constant)")
    real_pairs, gen_pairs = set(duplicate_pairs(sample)), set(duplicate_pairs(generated))
    print(f"real sample ({len(real_pairs)}): {sorted(real_pairs)}")
    print(f"generated ({len(gen_pairs)}): only generated {sorted(gen_pairs - real_pairs)}, "
          f"only real {sorted(real_pairs - gen_pairs)}")

    print(f"\n3. consecutive {SLICE:,}-row slices, in file order")
    for name in ("Friday-WorkingHours-Afternoon-DDos.pcap_ISCX.csv",
                 "Thursday-WorkingHours-Morning-WebAttacks.pcap_ISCX.csv"):
        real = load(REAL / name)
        size = min(SLICE, len(real) // 2)
        print_slices(f"real {name[:-14]} ({len(real):,} rows, {size:,}-row slices)",
                     slice_figures(real, size))
    for name, frame in days.items():
        print_slices(f"generated {name[:-14]}", slice_figures(frame))


if __name__ == "__main__":
    main()
