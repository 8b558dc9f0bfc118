"""Benchmark: model quality on real rows, the way the model card reports it.

On the real rows of ../shared/cicids2017-improved/ (every class of the corrected re-extraction)
and of ../shared/cicids2017/cicids2017_sample.csv, with the project's training config:
- test macro-F1 with the configured XGBoost settings and with settings searched by Optuna
  (same split, the stated trial budget and time limit), with bootstrap intervals;
- per-class F1 intervals of the configured model;
- on the corrected rows, a day-based evaluation: the day of each row comes from its Timestamp
  (the files are named by class, not by day), train on the earlier days, test on the later
  (Monday-Wednesday against Thursday-Friday as configured, and Monday-Thursday against Friday).
MLflow runs of the search go to a throwaway store.

    .venv/bin/python -m bench.model_quality [--trials 15] [--timeout 240]
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
from pathlib import Path

import optuna
import pandas as pd

from nids.config import SearchConfig, TrainingConfig, XGBoostConfig, load_training_config
from nids.data.ingest import load_inputs
from nids.data.schema import LABEL_COLUMN
from nids.paths import PROJECT_ROOT
from nids.tracking.registry import configure_tracking, predict_classes
from nids.training.day_evaluation import evaluate_by_day
from nids.training.evaluate import evaluate_model
from nids.training.intervals import MACRO_F1, f1_intervals
from nids.training.search import search_params
from nids.training.splits import configured_splits
from nids.training.train import train_on_splits

SHARED = PROJECT_ROOT.parent / "shared"
IMPROVED = SHARED / "cicids2017-improved"
SAMPLE = SHARED / "cicids2017" / "cicids2017_sample.csv"


def days_from_timestamps(frame: pd.DataFrame) -> pd.Series:
    """The weekday of each row of the corrected files, read from their Timestamp column (the
    loader keeps each file's rows in order, so they line up file by file)."""
    days = pd.Series("unknown", index=frame.index, dtype=object)
    for name, rows in frame.groupby("source_file", observed=True).groups.items():
        stamps = pd.read_csv(IMPROVED / str(name), usecols=["Timestamp"])["Timestamp"]
        if len(stamps) != len(rows):
            raise ValueError(f"{name}: {len(stamps)} timestamps for {len(rows)} parsed rows")
        days.loc[rows] = pd.to_datetime(stamps).dt.day_name().to_numpy()
    return days


def score(splits: dict[str, pd.DataFrame], params: XGBoostConfig, resamples: int,
          seed: int) -> tuple[float, pd.DataFrame, float]:
    """(test macro-F1, F1 intervals, seconds to fit) of a model of `params`."""
    started = time.perf_counter()
    trained = train_on_splits(splits, params)
    seconds = time.perf_counter() - started
    names, _ = predict_classes(trained.bundle, splits["test"])
    intervals = f1_intervals(splits["test"][LABEL_COLUMN], names, resamples, 0.95, seed)
    return evaluate_model(trained.bundle, splits["test"]).macro_f1, intervals, seconds


def interval(intervals: pd.DataFrame, name: str = MACRO_F1) -> str:
    row = intervals.loc[name]
    return f"{row.f1:.4f} [{row.low:.4f}, {row.high:.4f}]"


def compare(title: str, frame: pd.DataFrame, config: TrainingConfig,
            search: SearchConfig) -> None:
    """Configured against searched settings on one random split of `frame`."""
    features = config.features
    splits = configured_splits(frame, features)
    print(f"\n== {title}: {len(frame):,} rows, split "
          f"{ {name: len(split) for name, split in splits.items()} }")
    default_f1, default_intervals, seconds = score(splits, config.model, 200, features.seed)
    print(f"configured settings: test macro-F1 {interval(default_intervals)} (fit {seconds:.0f} s)")
    started = time.perf_counter()
    searched = search_params(splits, config.model, search, run_name=f"bench-{title}")
    spent = time.perf_counter() - started
    searched_f1, searched_intervals, _ = score(splits, searched.best, 200, features.seed)
    completed = sum(t.state == "COMPLETE" for t in searched.trials)
    print(f"searched settings:   test macro-F1 {interval(searched_intervals)} "
          f"({len(searched.trials)} trials, {completed} completed, budget {search.n_trials} "
          f"trials / {search.timeout_seconds:.0f} s, search took {spent:.0f} s)")
    print("best:", {k: round(v, 4) if isinstance(v, float) else v
                    for k, v in searched.best.model_dump().items()})
    print("per-class F1 of the configured model, 95% bootstrap intervals (test rows):")
    support = splits["test"][LABEL_COLUMN].value_counts()
    for name in default_intervals.index.drop(MACRO_F1):
        print(f"  {name:<28}{interval(default_intervals, name):>30}  ({support[name]} rows)")


def by_day(frame: pd.DataFrame, config: TrainingConfig) -> None:
    split = config.evaluation.by_day
    started = time.perf_counter()
    result = evaluate_by_day(frame, split, config.features, config.model)
    print(f"\n== day-based, corrected rows: train {split.train_days} "
          f"({result.train_rows:,} rows), test {split.test_days} ({result.test_rows:,} rows), "
          f"{time.perf_counter() - started:.0f} s")
    print(f"day-based macro-F1 {result.macro_f1:.4f}")
    print(result.per_class[["recall", "detected", "precision", "support", "in_training"]].round(4)
          .to_string())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=15)
    parser.add_argument("--timeout", type=float, default=240)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("nids").setLevel(logging.WARNING)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    config = load_training_config()
    search = SearchConfig(enabled=True, n_trials=args.trials, timeout_seconds=args.timeout)
    with tempfile.TemporaryDirectory() as folder:
        os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{folder}/mlflow.db"
        configure_tracking("nids-bench-quality")
        improved = load_inputs(sorted(IMPROVED.glob("*.csv")), Path(folder), verify=False)
        frame = improved.frame
        frame["day"] = days_from_timestamps(frame)
        print("corrected rows per day:", frame["day"].value_counts().to_dict())
        compare("corrected CIC-IDS-2017 rows", frame, config, search)
        by_day(frame, config)
        later = config.model_copy(deep=True)
        later.evaluation.by_day.train_days = ["Monday", "Tuesday", "Wednesday", "Thursday"]
        later.evaluation.by_day.test_days = ["Friday"]
        by_day(frame, later)
        sample = load_inputs([SAMPLE], Path(folder), verify=False).frame
        compare("official CICIDS2017 sample", sample, config, search)


if __name__ == "__main__":
    main()
