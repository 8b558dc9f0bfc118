"""Benchmark the monitoring: detection over many batches, and one 500,000-row batch.

1. Trains a champion on Monday-Wednesday traffic (generated, in a temporary MLflow store).
2. Detection: N slices of consecutive flows of the reference days and N of a shifted day
   (Friday), in the generated files' time order, each checked exactly as the monitoring flow
   does (same functions, same config/monitoring.yaml settings), with labels and without;
   prints how many got each verdict (health degraded, incident, drift, retrain) and how many
   ask for labels (`surge`: by a port surge alone).
3. Speed: the real monitoring flow on one 500,000-row CSV batch (retraining off), wall time
   and peak memory (this process and its children), against a Prefect server that is already
   up, as a deployment's run finds it (starting a temporary server took another 4-5 s).

    .venv/bin/python -m bench.monitoring [--batches 20] [--batch-rows 2000] [--big-rows 500000]
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

from bench.prefect_server import prefect_server
from bench.rss import RssSampler
from flows.monitoring import monitoring_flow
from flows.training import training_flow
from nids.config import (
    DataSource,
    MonitoringConfig,
    TrainingConfig,
    load_monitoring_config,
    load_training_config,
)
from nids.data.generate import generate_dataset, write_official_csv
from nids.data.incoming import mark_ready
from nids.data.ingest import load_inputs
from nids.data.schema import FEATURE_COLUMNS, LABEL_COLUMN
from nids.monitoring import actions, check, scenario

MODEL = "bench-monitoring"
SHIFTED_DAY = ("Friday",)


def train_champion(folder: Path) -> TrainingConfig:
    """A champion trained on generated Monday-Wednesday traffic, everything under `folder`."""
    config = load_training_config()
    config.data.source = DataSource.GENERATED
    config.data.raw_dir = str(folder / "raw")
    config.data.generated_dir = str(folder / "generated")
    config.data.interim_dir = str(folder / "interim")
    config.data.processed_dir = str(folder / "processed")
    config.data.days = list(scenario.REFERENCE_DAYS)
    config.registry.model_name = MODEL
    config.metrics_file = str(folder / "metrics.json")
    training_flow(config=config, reason="benchmark")
    return config


def consecutive_slices(frame, days: tuple[str, ...], rows: int, count: int):
    """`count` slices of `rows` consecutive flows of the given days (the files' time order),
    spread evenly over them: how hourly batches of one sensor arrive."""
    pool = frame[frame["day"].isin(days)]
    for start in np.linspace(0, len(pool) - rows, count).astype(int):
        yield pool.iloc[start:start + rows][[*FEATURE_COLUMNS, LABEL_COLUMN]]


def detection(frame, champion: check.Champion, config: MonitoringConfig, batches: int,
              rows: int) -> None:
    """Check consecutive slices as the monitoring flow does (check.check_frame, no Prefect),
    with their labels and without: how many got each verdict."""
    for title, days in (("reference days", scenario.REFERENCE_DAYS), ("Friday", SHIFTED_DAY)):
        for labelled in (True, False):
            counts, started = Counter(), time.perf_counter()
            for number, batch in enumerate(consecutive_slices(frame, days, rows, batches)):
                batch = batch if labelled else batch.drop(columns=[LABEL_COLUMN])
                checked = check.check_frame(batch.reset_index(drop=True), f"{title} {number}",
                                            champion, config)
                judged = checked.judgments
                counts.update({"health degraded": judged.health.verdict == "degraded",
                               "incident": judged.incident.verdict == "incident",
                               "drift": judged.drift == "drift", "retrain": checked.retrain,
                               "labels asked": actions.needs_labels(checked, labelled),
                               "surge": bool(judged.health.labels_asked)})
            print(f"{title:<15} {'labelled' if labelled else 'unlabelled':<10} "
                  + "  ".join(f"{name} {counts[name]}/{batches}" for name in
                              ("health degraded", "incident", "drift", "retrain",
                               "labels asked", "surge"))
                  + f"  ({(time.perf_counter() - started) / batches:.1f} s per batch)")


def timed_flow(frame, folder: Path, rows: int, seed: int) -> None:
    """The real monitoring flow on one big CSV batch: wall time and peak memory."""
    incoming = folder / "incoming"
    incoming.mkdir()
    rng = np.random.default_rng(seed)
    days = tuple(frame["day"].astype(str).unique())
    batch = scenario.sample_days(frame, days, rows, rng)
    path = incoming / "big-batch.csv"
    write_official_csv(batch.assign(label=batch[LABEL_COLUMN].astype(str)), path)
    mark_ready(path)  # complete: the run takes it at once
    size = path.stat().st_size   # the run moves it into done/
    config = load_monitoring_config()
    config.model_name = MODEL
    config.incoming_dir = str(incoming)
    config.reports_dir = str(folder / "reports")
    config.retrain.enabled = False
    config.retrain.training_config = load_training_config()   # for its corpus folder:
    config.retrain.training_config.data.corpus.dir = str(folder / "corpus")   # not the project's
    with prefect_server():
        sampler = RssSampler()
        sampler.start()
        started = time.perf_counter()
        [outcome] = monitoring_flow(config=config)
        wall = time.perf_counter() - started
        sampler.running = False
    print(f"monitoring flow on {rows:,} rows ({size / 1e6:.0f} MB CSV): "
          f"{wall:.1f} s wall, peak RSS {sampler.peak() / 1e9:.2f} GB "
          f"(verdict {outcome.verdict})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, default=20, help="0: only the big batch")
    parser.add_argument("--batch-rows", type=int, default=2_000)
    parser.add_argument("--big-rows", type=int, default=500_000)
    parser.add_argument("--seed", type=int, default=31)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{folder / 'mlflow.db'}"
        training = train_champion(folder)
        champion = check.load_champion(MODEL)
        traffic_rows = max(args.big_rows * 2, training.data.generated_rows)
        traffic = generate_dataset(folder / "traffic", traffic_rows, args.seed)
        frame = load_inputs(traffic, folder / "interim", verify=False).frame
        print(f"champion trained on {', '.join(scenario.REFERENCE_DAYS)} "
              f"(test macro-F1 {champion.bundle.test_metric('macro_f1'):.3f}); "
              f"batches of {args.batch_rows:,} rows of new generated traffic")
        if args.batches:
            detection(frame, champion, load_monitoring_config(), args.batches, args.batch_rows)
        timed_flow(frame, folder, args.big_rows, args.seed)


if __name__ == "__main__":
    main()
