"""Benchmark: the corrected CIC-IDS-2017 and the 2017 release, each model scoring the other.

Real rows beside the project (../shared): every file of cicids2017-improved/ (CICFlowMeter-V4
names, read through nids.data.formats) and the stratified 2017 sample
cicids2017/cicids2017_sample.csv. Each is split and trained on with the project's functions
and settings (config/training.yaml: features.build_splits, train_model, evaluate), then:

1. the improved model on its own test split: precision, recall, F1 per class, macro-F1 over
   the classes with at least 30 test rows;
2. the improved model scoring the whole 2017 sample, and the 2017 model scoring every improved
   row: the cross-release figures, per class and as macro-F1 over the classes both models
   know with at least 30 rows.

    .venv/bin/python bench/cross_release.py
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from nids.config import TrainingConfig, load_training_config
from nids.data.ingest import read_input
from nids.data.schema import FEATURE_COLUMNS, LABEL_COLUMN
from nids.paths import PROJECT_ROOT
from nids.training.evaluate import Evaluation, evaluate_model
from nids.training.features import clean_features
from nids.training.splits import configured_splits
from nids.training.train import TrainedModel, train_on_splits

SHARED = PROJECT_ROOT.parent / "shared"
IMPROVED = SHARED / "cicids2017-improved"
SAMPLE = SHARED / "cicids2017" / "cicids2017_sample.csv"
MIN_ROWS = 30


@dataclass
class Trained:
    model: TrainedModel
    test: pd.DataFrame

    @property
    def order(self) -> list[str]:
        return self.model.classes


def load(paths: list[Path]) -> pd.DataFrame:
    frames = [read_input(path, verify=False)[0] for path in paths]
    return pd.concat(frames, ignore_index=True).drop(columns=["source_file", "day"])


def train(frame: pd.DataFrame, config: TrainingConfig) -> Trained:
    splits = configured_splits(frame, config.features)
    return Trained(train_on_splits(splits, config.model), splits["test"])


def score(trained: Trained, frame: pd.DataFrame) -> Evaluation:
    """Evaluate on `frame` (cleaned like training data; `label` holds the true class)."""
    cleaned = clean_features(frame, FEATURE_COLUMNS)
    cleaned[LABEL_COLUMN] = frame[LABEL_COLUMN].astype(str).to_numpy()
    return evaluate_model(trained.model.bundle, cleaned)


def macro_f1(result: Evaluation, classes: list[str]) -> float:
    return float(result.per_class.loc[classes, "f1"].mean()) if classes else float("nan")


def report(title: str, result: Evaluation, known: list[str]) -> None:
    """Per-class scores of the true classes; macro-F1 over known classes with >= 30 rows."""
    table = result.per_class[result.per_class["support"] > 0]
    counted = [c for c in table.index if c in known and table.loc[c, "support"] >= MIN_ROWS]
    print(f"\n{title}")
    print(f"{'class':<28}{'precision':>10}{'recall':>8}{'f1':>8}{'rows':>8}")
    for name, row in table.sort_values("support", ascending=False).iterrows():
        mark = "" if name in known else "  (class unknown to the model)"
        print(f"{name:<28}{row.precision:>10.3f}{row.recall:>8.3f}{row.f1:>8.3f}"
              f"{int(row.support):>8}{mark}")
    print(f"accuracy {result.accuracy:.4f}; macro-F1 over the {len(counted)} classes with "
          f">= {MIN_ROWS} rows the model knows: {macro_f1(result, counted):.4f}")


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    config = load_training_config()
    started = time.perf_counter()
    improved = load(sorted(IMPROVED.glob("*.csv")))
    sample = load([SAMPLE])
    print(f"improved rows: {len(improved):,} in {len(list(IMPROVED.glob('*.csv')))} files; "
          f"2017 sample rows: {len(sample):,}")
    on_improved = train(improved, config)
    on_sample = train(sample, config)
    print(f"trained both models in {time.perf_counter() - started:.0f} s "
          f"(n_estimators <= {config.model.n_estimators}, early stopping)")
    report("1. improved model, improved test split", score(on_improved, on_improved.test),
           on_improved.order)
    report("2017 model, 2017 test split (for reference)", score(on_sample, on_sample.test),
           on_sample.order)
    report("2a. improved model scoring the whole 2017 sample", score(on_improved, sample),
           on_improved.order)
    report("2b. 2017 model scoring every improved row", score(on_sample, improved),
           on_sample.order)


if __name__ == "__main__":
    main()
