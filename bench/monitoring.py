"""Benchmark the monitoring: detection over many batches, and one 500,000-row batch.

1. Trains a champion on Monday-Wednesday traffic (generated, in a temporary MLflow store).
2. Detection: N batches drawn from the reference days and N from a shifted day (Friday), each
   scored by the champion and checked exactly as the monitoring flow does (same functions,
   same config/monitoring.yaml settings); prints false alarms and detections.
3. Speed: the real monitoring flow on one 500,000-row CSV batch (retraining off), wall time
   and peak memory (this process and its children).

    .venv/bin/python bench/monitoring.py [--batches 20] [--batch-rows 20000] [--big-rows 500000]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from nids.config import load_monitoring_config, load_training_config
from nids.data.generate import generate_dataset, write_official_csv
from nids.data.ingest import load_inputs
from nids.monitoring import frames as monitor
from nids.monitoring import scenario
from nids.monitoring.decision import decide
from nids.monitoring.drift import run_drift_report, summarize_snapshot
from nids.paths import PROJECT_ROOT
from nids.tracking import registry
from nids.training.features import clean_features

sys.path.insert(0, str(PROJECT_ROOT))  # for `flows` and `bench`

from bench.rss import RssSampler  # noqa: E402

MODEL = "bench-monitoring"
SHIFTED_DAY = ("Friday",)


def train_champion(folder: Path):
    from flows.training import training_flow

    config = load_training_config()
    config.data.raw_dir = str(folder / "raw")
    config.data.generated_dir = str(folder / "generated")
    config.data.interim_dir = str(folder / "interim")
    config.data.processed_dir = str(folder / "processed")
    config.data.days = list(scenario.REFERENCE_DAYS)
    config.registry.model_name = MODEL
    config.metrics_file = str(folder / "metrics.json")
    training_flow(config=config, reason="benchmark")
    return config


def check_batch(batch, champion, reference, settings):
    """The monitoring flow's scoring and drift check of one batch, without Prefect."""
    names, _ = registry.predict_classes(champion, clean_features(batch, champion.features))
    features = monitor.drift_features(champion.features)
    current = monitor.current_frame(batch, names, features)
    summary = summarize_snapshot(run_drift_report(reference, current, features, settings))
    return decide(summary, settings, champion.test_metric("macro_f1")), summary


def detection(frame, champion, reference, settings, batches: int, rows: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for title, days in (("reference days", scenario.REFERENCE_DAYS), ("Friday", SHIFTED_DAY)):
        alarms, retrains, shares, started = 0, 0, [], time.perf_counter()
        for _ in range(batches):
            batch = scenario.sample_days(frame, days, rows, rng)
            decision, summary = check_batch(batch, champion, reference, settings)
            alarms += decision.drift_detected
            retrains += decision.retrain
            shares.append(summary.drifted_share)
        print(f"{title:<16} batches {batches}  drift raised {alarms}/{batches}  "
              f"retrain {retrains}/{batches}  drifted share {min(shares):.2f}..{max(shares):.2f}"
              f"  ({(time.perf_counter() - started) / batches:.1f} s per batch)")


def timed_flow(frame, folder: Path, rows: int, seed: int) -> None:
    from flows.monitoring import monitoring_flow

    incoming = folder / "incoming"
    incoming.mkdir()
    rng = np.random.default_rng(seed)
    days = tuple(frame["day"].astype(str).unique())
    batch = scenario.sample_days(frame, days, rows, rng)
    path = incoming / "big-batch.csv"
    write_official_csv(batch.assign(label=batch["label"].astype(str)), path)
    config = load_monitoring_config()
    config.model_name = MODEL
    config.incoming_dir = str(incoming)
    config.reports_dir = str(folder / "reports")
    config.retrain.enabled = False
    sampler = RssSampler()
    sampler.start()
    started = time.perf_counter()
    [outcome] = monitoring_flow(config=config)
    wall = time.perf_counter() - started
    sampler.running = False
    print(f"monitoring flow on {rows:,} rows ({path.stat().st_size / 1e6:.0f} MB CSV): "
          f"{wall:.1f} s wall, peak RSS {sampler.peak() / 1e9:.2f} GB "
          f"(verdict {outcome['verdict']})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--batch-rows", type=int, default=20_000)
    parser.add_argument("--big-rows", type=int, default=500_000)
    parser.add_argument("--seed", type=int, default=31)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{folder / 'mlflow.db'}"
        training = train_champion(folder)
        champion = registry.load_bundle(MODEL)
        reference_sample = registry.download_reference(champion.run_id, folder / "ref")
        reference = monitor.reference_frame(reference_sample,
                                            monitor.drift_features(champion.features))
        traffic_rows = max(args.big_rows * 2, training.data.generated_rows)
        traffic = generate_dataset(folder / "traffic", traffic_rows, args.seed)
        frame = load_inputs(traffic, folder / "interim", verify=False).frame
        settings = load_monitoring_config().drift
        print(f"champion trained on {', '.join(scenario.REFERENCE_DAYS)} "
              f"(test macro-F1 {champion.test_metric('macro_f1'):.3f}); "
              f"batches of {args.batch_rows:,} rows of new generated traffic")
        detection(frame, champion, reference, settings, args.batches, args.batch_rows,
                  args.seed)
        timed_flow(frame, folder, args.big_rows, args.seed)


if __name__ == "__main__":
    main()
