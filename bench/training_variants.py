"""Benchmark: XGBoost and training-set variants on the full-scale splits (issue #13, "Faster").

Builds the splits of the 2,830,743 generated full-scale rows once with the library's calls
(ingest through the Parquet cache, validate, `build_splits` without the per-class cap), saves
them under /tmp/fit13-cache, then, for each variant named on the command line, caps the
training split per class as the flow does (`undersample`, the features seed: the same rows as
`build_splits` with the cap), fits with `train_model` and scores the test split with
`evaluate_model` (the promotion metric's macro-F1). Prints fit seconds, rounds, best iteration,
test macro-F1, accuracy and the classes whose F1 moved most against the baseline of the same
sitting (or of an earlier one, kept in the cache).

    .venv/bin/python -m bench.training_variants baseline max_bin=64 "max_depth=6,rows=50000"

A variant is `baseline` (config/training.yaml as it is) or comma-separated `key=value` pairs:
any XGBoostConfig field, `rows` (features.max_rows_per_class of the training split),
`benign_rows` (features.max_benign_rows, BENIGN's own cap; `none`: BENIGN has `rows`) or
`multi_strategy` (XGBoost's `one_output_per_tree` or `multi_output_tree`, set on the booster
before its first round).
--real also scores each variant on the real rows of ../shared (the official sample and the
corrected release), as bench/model_quality.py does for the configured settings.
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xgboost as xgb

from nids.config import DataSource, TrainingConfig, XGBoostConfig, load_training_config
from nids.data.generate import FULL_SCALE_ROWS
from nids.data.ingest import load_inputs
from nids.data.schema import BENIGN, FEATURE_COLUMNS, LABEL_COLUMN
from nids.data.sources import load_training_data
from nids.data.validate import raise_on_problems, validate_frame
from nids.paths import DATA_DIR, PROJECT_ROOT
from nids.training.evaluate import Evaluation, evaluate_model
from nids.training.features import select_features
from nids.training.splits import (
    build_splits,
    class_order,
    configured_splits,
    load_splits,
    save_splits,
    undersample,
)
from nids.training.train import TrainedModel, train_model

CACHE = Path("/tmp/fit13-cache")
MIN_ROWS = 30   # the test split's 3 rarest classes have 2, 4 and 7 rows: each row moves
#               macro-F1 by up to 1/15 / rows; this one leaves them out
SHARED = PROJECT_ROOT.parent / "shared"
REAL_SETS = {"official sample": [SHARED / "cicids2017" / "cicids2017_sample.csv"],
             "corrected release": sorted((SHARED / "cicids2017-improved").glob("*.csv"))}


class Strategy(xgb.callback.TrainingCallback):
    """Sets XGBoost's multi_strategy on the booster before its first round (train_model does
    not pass it)."""

    def __init__(self, strategy: str) -> None:
        self.strategy = strategy

    def before_training(self, model: xgb.Booster) -> xgb.Booster:
        model.set_param({"multi_strategy": self.strategy})
        return model


@dataclass
class Variant:
    name: str
    params: XGBoostConfig
    rows: int | None
    strategy: str | None
    benign_rows: int | None   # None: BENIGN has the other classes' cap

    @classmethod
    def parse(cls, spec: str, config: TrainingConfig, n_jobs: int) -> Variant:
        settings = {} if spec == "baseline" else dict(p.split("=", 1) for p in spec.split(","))
        rows = settings.pop("rows", config.features.max_rows_per_class)
        strategy = settings.pop("multi_strategy", None)
        benign_rows = settings.pop("benign_rows", config.features.max_benign_rows)
        params = XGBoostConfig.model_validate({**config.model.model_dump(), "n_jobs": n_jobs,
                                               **settings})
        return cls(spec, params, None if rows in (None, "none") else int(rows), strategy,
                   None if benign_rows in (None, "none") else int(benign_rows))


def full_scale_splits(config: TrainingConfig) -> dict[str, pd.DataFrame]:
    """Train (uncapped), validation and test splits of the full-scale rows, cached."""
    folder = CACHE / "splits"
    splits = load_splits(folder)
    if splits is not None:
        return splits
    data = config.data.model_copy(update={
        "source": DataSource.GENERATED, "generated_rows": FULL_SCALE_ROWS,
        "generated_dir": str(DATA_DIR / "generated" / f"bench-{FULL_SCALE_ROWS}"),
        "interim_dir": str(CACHE / "interim")})
    loaded = load_training_data(data)
    raise_on_problems(validate_frame(loaded.frame, config.validation.max_missing_share,
                                     config.validation.max_infinite_share))
    f = config.features
    splits = build_splits(loaded.frame, f.label_grouping, f.validation_share, f.test_share,
                          None, f.seed)
    save_splits(splits, folder)
    return splits


def capped(train: pd.DataFrame, rows: int | None, seed: int,
           benign_rows: int | None) -> pd.DataFrame:
    """The training split as build_splits caps it (same generator, same relative choices)."""
    caps = None if benign_rows is None else {BENIGN: benign_rows}
    if rows is None and caps is None:
        return train
    kept = undersample(np.arange(len(train)), train[LABEL_COLUMN], rows, seed, caps)
    return train.iloc[kept].reset_index(drop=True)


def fit(variant: Variant, splits: dict[str, pd.DataFrame], seed: int,
        ) -> tuple[TrainedModel, float, int]:
    """(model, fit seconds, training rows) of a variant, as train_on_splits fits it."""
    train = capped(splits["train"], variant.rows, seed, variant.benign_rows)
    features, dropped = select_features(train[list(FEATURE_COLUMNS)])
    classes = class_order(train[LABEL_COLUMN])
    callbacks = [Strategy(variant.strategy)] if variant.strategy else None
    started = time.perf_counter()
    model = train_model(train[features], train[LABEL_COLUMN], splits["validation"][features],
                        splits["validation"][LABEL_COLUMN], classes, variant.params, callbacks)
    seconds = time.perf_counter() - started
    return TrainedModel(model, classes, features, dropped), seconds, len(train)


def moved_classes(evaluation: Evaluation, baseline: dict[str, float] | None, top: int = 3) -> str:
    if baseline is None:
        return "(no baseline yet)"
    change = (evaluation.per_class["f1"] - pd.Series(baseline)).dropna()
    moved = change.reindex(change.abs().sort_values(ascending=False).index)[:top]
    per_class = evaluation.per_class
    return ", ".join(f"{name} {per_class.at[name, 'f1']:.4f} ({delta:+.4f}, "
                     f"{per_class.at[name, 'support']} rows)"
                     for name, delta in moved.items() if delta != 0) or "none"


def real_rows(variant: Variant, config: TrainingConfig) -> str:
    """Test macro-F1 of the variant on each real set's random split (configured features)."""
    f, scores = config.features, []
    with tempfile.TemporaryDirectory() as folder:
        for name, paths in REAL_SETS.items():
            frame = load_inputs(paths, Path(folder), verify=False).frame
            splits = configured_splits(frame, f)
            trained, _, _ = fit(variant, splits, f.seed)
            scores.append(f"{name} {evaluate_model(trained.bundle, splits['test']).macro_f1:.4f}")
    return "; ".join(scores)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("variants", nargs="+")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--real", action="store_true", help="also score the real rows")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("nids").setLevel(logging.WARNING)
    config = load_training_config()
    variants = [Variant.parse(spec, config, args.n_jobs) for spec in args.variants]
    started = time.perf_counter()
    splits = full_scale_splits(config)
    print(f"splits ready in {time.perf_counter() - started:.0f} s: "
          f"{ {name: len(frame) for name, frame in splits.items()} }", flush=True)
    stored = CACHE / "baseline_f1.json"
    for variant in variants:
        trained, seconds, rows = fit(variant, splits, config.features.seed)
        evaluation = evaluate_model(trained.bundle, splits["test"])
        baseline = json.loads(stored.read_text()) if stored.exists() else None
        if variant.name == "baseline":
            stored.write_text(json.dumps(evaluation.per_class["f1"].to_dict()))
        booster = trained.model.get_booster()
        print(f"{variant.name:<40} fit {seconds:6.1f} s  rows {rows:,}  rounds "
              f"{booster.num_boosted_rounds()} best {trained.model.best_iteration}  macro-F1 "
              f"{evaluation.macro_f1:.7f}  accuracy {evaluation.accuracy:.5f}", flush=True)
        common = evaluation.per_class.query(f"support >= {MIN_ROWS}")["f1"].mean()
        print(f"    macro-F1 over the {MIN_ROWS}+ row classes {common:.5f}", flush=True)
        print(f"    moved most: {moved_classes(evaluation, baseline)}", flush=True)
        if args.real:
            print(f"    real rows, test macro-F1: {real_rows(variant, config)}", flush=True)


if __name__ == "__main__":
    main()
