"""Measurement: retraining that learns from the traffic that called for it (issue 12).

On real rows (../shared/cicids2017/, read in place): a champion is trained on the CICIDS2017
sample without its DDoS and PortScan rows. Then, through the real flows:

1. a labelled batch (half of the sample's DDoS rows mixed into 2,000 real benign rows of the
   Friday file) is monitored: it joins the corpus and the retrain it starts trains on raw plus
   corpus;
2. an unlabelled batch (half of the PortScan rows in 2,000 other Friday rows) gets a label
   request; the request, labelled from the rows' true labels as an analyst would, is dropped
   into the labels folder and the labels flow retrains;
3. a retrain asked for once more: skipped (the champion's exact data).

Prints each class's recall on the other half of its rows (never trained on) before and after,
the promotion of each retrain, the corpus growth of a day of hourly labelled batches (rows
and disk), and what versioning each new partition with DVC costs (data/corpus.dvc).
Everything (MLflow store, data, reports) lives in a temporary folder.

    .venv/bin/python -m bench.corpus_learning [--training-time] [--corpus-only]
    (project root; 4 min, +5 with --training-time; --corpus-only: the corpus growth and its
    DVC versioning alone, a minute)
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from mlflow import MlflowClient  # noqa: E402

from flows.labels import labels_flow  # noqa: E402
from flows.monitoring import monitoring_flow  # noqa: E402
from flows.training import training_flow  # noqa: E402
from nids.config import (  # noqa: E402
    MonitoringConfig,
    TrainingConfig,
    load_monitoring_config,
    load_training_config,
)
from nids.data import corpus  # noqa: E402
from nids.data.generate import write_official_csv  # noqa: E402
from nids.data.ingest import read_input  # noqa: E402
from nids.data.schema import FEATURE_COLUMNS, LABEL_COLUMN  # noqa: E402
from nids.monitoring import retrain  # noqa: E402
from nids.monitoring.label_requests import write_label_request  # noqa: E402
from nids.paths import PROJECT_ROOT  # noqa: E402
from nids.tracking import registry  # noqa: E402

SHARED = PROJECT_ROOT.parent / "shared" / "cicids2017"
SAMPLE = SHARED / "cicids2017_sample.csv"
FRIDAY = SHARED / "Friday-WorkingHours-Afternoon-DDos.pcap_ISCX.csv"
MODEL = "corpus-learning"
LEFT_OUT = ("DDoS", "PortScan")
BENIGN_ROWS = 2_000


def load(path: Path) -> pd.DataFrame:
    frame, _ = read_input(path, verify=False)
    frame[LABEL_COLUMN] = frame[LABEL_COLUMN].astype(str)
    return frame[[*FEATURE_COLUMNS, LABEL_COLUMN]]


def configs(folder: Path) -> tuple[TrainingConfig, MonitoringConfig]:
    training = load_training_config()
    training.data.raw_dir = str(folder / "raw")
    training.data.interim_dir = str(folder / "interim")
    training.data.processed_dir = str(folder / "processed")
    training.data.corpus.dir = str(folder / "corpus")
    training.registry.model_name = MODEL
    training.metrics_file = str(folder / "metrics.json")
    monitoring = load_monitoring_config()
    monitoring.model_name = MODEL
    monitoring.incoming_dir = str(folder / "incoming")
    monitoring.reports_dir = str(folder / "reports")
    monitoring.history.workspace_dir = str(folder / "reports" / "workspace")
    monitoring.retrain.cooldown_hours = 0
    monitoring.retrain.training_config = training
    monitoring.labels.requests_dir = str(folder / "label_requests")
    monitoring.labels.labels_dir = str(folder / "labels")
    return training, monitoring


def recall(frame: pd.DataFrame, alias: str = registry.CHAMPION) -> float:
    """Share of the rows (all of one class) the model with `alias` puts in their class."""
    model = registry.load_bundle(MODEL, alias)
    if model is None:
        return float("nan")
    names, _ = registry.predict_classes(model, frame)
    return float(np.mean(names == frame[LABEL_COLUMN].to_numpy()))


def promotion_of(version: int | str) -> str:
    """The alias a version got, and why (the training run's promotion tag)."""
    found = MlflowClient().get_model_version(MODEL, str(version))
    run = MlflowClient().get_run(found.run_id)
    return f"v{version} {found.aliases or 'no alias'}: {run.data.tags.get('promotion')}"


def halves(rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    shuffled = rows.sample(frac=1.0, random_state=7).reset_index(drop=True)
    middle = len(shuffled) // 2
    return shuffled.iloc[:middle], shuffled.iloc[middle:].reset_index(drop=True)


def versions_line() -> str:
    champion = registry.version_by_alias(MODEL, registry.CHAMPION)
    return f"champion v{champion.version if champion else '-'}"


def labelled_step(batch: pd.DataFrame, held: pd.DataFrame, monitoring: MonitoringConfig) -> None:
    path = Path(monitoring.incoming_dir) / "friday-ddos-2026-11-29T18-00.csv"
    write_official_csv(batch, path)
    before, started = recall(held), time.perf_counter()
    [outcome] = monitoring_flow(config=monitoring, batch=str(path))
    retrained = outcome.retrain
    print(f"1. labelled DDoS batch ({len(batch)} rows): verdict {outcome.verdict}; corpus "
          f"partition {outcome.corpus_partition}; retrain "
          f"{retrained.state if retrained and retrained.started else retrained and retrained.why}"
          f" ({time.perf_counter() - started:.0f} s)")
    print(f"   DDoS recall on {len(held)} held-out rows: champion {before:.3f} -> "
          f"{recall(held):.3f}, challenger {recall(held, registry.CHALLENGER):.3f}; "
          f"{versions_line()}; {promotion_of(2)}")


def unlabelled_step(batch: pd.DataFrame, held: pd.DataFrame, monitoring: MonitoringConfig,
                    ddos_held: pd.DataFrame) -> None:
    champion = registry.load_bundle(MODEL)
    names, probability = registry.predict_classes(champion, batch)
    request = write_label_request(batch[list(FEATURE_COLUMNS)], names, probability,
                                  "friday-portscan.csv", Path(monitoring.labels.requests_dir),
                                  champion.version, max_rows=len(batch))
    answers = pd.read_csv(request.path, keep_default_na=False)
    truth = dict(zip(corpus.flow_keys("friday-portscan.csv", len(batch)),
                     batch[LABEL_COLUMN], strict=True))
    answers[LABEL_COLUMN] = answers["flow_key"].map(truth)   # the analyst's verdicts
    labels_dir = Path(monitoring.labels.labels_dir)
    labels_dir.mkdir(parents=True, exist_ok=True)
    answers.to_csv(labels_dir / "portscan-answers.csv", index=False)
    before, started = recall(held), time.perf_counter()
    outcome = labels_flow(config=monitoring)
    print(f"2. unlabelled PortScan batch ({len(batch)} rows): request {request.path.name} "
          f"({request.flows} flows, lowest probability {request.least_probability:.3f}); "
          f"labels flow retrain: {outcome.state if outcome.started else outcome.why} "
          f"({time.perf_counter() - started:.0f} s)")
    print(f"   PortScan recall on {len(held)} held-out rows: champion {before:.3f} -> "
          f"{recall(held):.3f}, challenger {recall(held, registry.CHALLENGER):.3f}; "
          f"{versions_line()}; {promotion_of(3)}")
    print(f"   DDoS recall of the new champion: {recall(ddos_held):.3f}")
    again = retrain.retrain_single_flight("bench: the same data again", monitoring.retrain,
                                          run_locally=training_flow)
    print(f"3. a retrain asked for afterwards, nothing new labelled: "
          f"{'skipped: ' + again.why if again.unchanged_data else again.state or again.why}")


def corpus_growth(friday: pd.DataFrame, folder: Path) -> None:
    """A day of hourly labelled batches of real Friday traffic appended to a fresh corpus."""
    target = folder / "growth"
    start = datetime(2026, 11, 30, tzinfo=UTC)
    hourly = [friday.iloc[rows] for rows in np.array_split(np.arange(len(friday)), 24)]
    started = time.perf_counter()
    for hour, rows in enumerate(hourly):
        corpus.append_batch(rows.reset_index(drop=True), f"hour-{hour:02d}.csv",
                            start + timedelta(hours=hour), target)
    seconds = time.perf_counter() - started
    partitions = corpus.list_partitions(target)
    size = sum(p.path.stat().st_size for p in partitions)
    rows = sum(len(r) for r in hourly)
    print(f"Corpus growth, a day of 24 hourly batches ({rows} real rows): {len(partitions)} "
          f"partitions, {size / 1e6:.2f} MB on disk ({size / rows:.0f} bytes/row), appended in "
          f"{seconds:.1f} s; at 30 days: {30 * size / 1e6:.0f} MB per {rows} rows/day")


def versioning_cost(friday: pd.DataFrame, folder: Path) -> None:
    """The same day of hourly batches appended to data/corpus of a fresh DVC repository that
    tracks it: each append also updates data/corpus.dvc (`dvc add`, DVC's Python API)."""
    from dvc.repo import Repo

    root = folder / "dvc-repo"
    target = root / "data" / "corpus"
    target.mkdir(parents=True)
    Repo.init(str(root), no_scm=True).close()
    with Repo(str(root)) as repo:
        repo.add([str(target)])
    start = datetime(2026, 11, 30, tzinfo=UTC)
    hourly = [friday.iloc[rows] for rows in np.array_split(np.arange(len(friday)), 24)]
    seconds = []
    for hour, rows in enumerate(hourly):
        started = time.perf_counter()
        corpus.append_batch(rows.reset_index(drop=True), f"hour-{hour:02d}.csv",
                            start + timedelta(hours=hour), target)
        seconds.append(time.perf_counter() - started)
    cache = sum(p.stat().st_size for p in (root / ".dvc" / "cache").rglob("*") if p.is_file())
    print(f"Versioned with DVC (data/corpus.dvc updated per batch): {sum(seconds):.1f} s for the "
          f"day; per batch first {seconds[0]:.2f} s, median {float(np.median(seconds)):.2f} s, "
          f"24th {seconds[-1]:.2f} s; DVC cache {cache / 1e6:.2f} MB (a copy of the partitions)")


def training_time(friday: pd.DataFrame, training: TrainingConfig, folder: Path) -> None:
    """Training on raw plus a corpus of 1 and of 30 days of hourly labelled batches."""
    grown = folder / "grown"
    hourly = [friday.iloc[rows] for rows in np.array_split(np.arange(len(friday)), 24)]
    start = datetime(2026, 10, 1, tzinfo=UTC)
    for day in range(30):
        for hour, rows in enumerate(hourly):
            corpus.append_batch(rows.reset_index(drop=True), f"day{day:02d}-hour-{hour:02d}.csv",
                                start + timedelta(days=day, hours=hour), grown)
    for days in (1, 30):
        config = training.model_copy(deep=True)
        config.data.corpus.dir, config.data.corpus.window_days = str(grown), None
        config.data.corpus.window_partitions = 24 * days
        started = time.perf_counter()
        result = training_flow(config=config, reason=f"bench: corpus of {days} day(s)")
        print(f"Training on raw + {days} day(s) of corpus ({24 * days} partitions, "
              f"{len(friday) * days} rows before the cap of "
              f"{config.data.corpus.max_rows_per_class} per class): "
              f"{time.perf_counter() - started:.0f} s, macro-F1 {result.macro_f1:.4f}")


def learning_steps(sample: pd.DataFrame, friday: pd.DataFrame, folder: Path) -> None:
    """A champion without DDoS and PortScan; a labelled batch, then an unlabelled one."""
    training, monitoring = configs(folder)
    kept = sample[~sample[LABEL_COLUMN].isin(LEFT_OUT)]
    write_official_csv(kept.reset_index(drop=True), folder / "raw" / "sample-without-two.csv")
    started = time.perf_counter()
    first = training_flow(config=training, reason="bench: champion without DDoS and PortScan")
    print(f"Champion v{first.version} on {len(kept)} sample rows without {LEFT_OUT}: macro-F1 "
          f"{first.macro_f1:.4f} ({time.perf_counter() - started:.0f} s)")
    benign = friday.sample(frac=1.0, random_state=3).reset_index(drop=True)
    ddos_batch, ddos_held = halves(sample[sample[LABEL_COLUMN] == "DDoS"])
    scan_batch, scan_held = halves(sample[sample[LABEL_COLUMN] == "PortScan"])
    labelled_step(pd.concat([benign[:BENIGN_ROWS], ddos_batch], ignore_index=True), ddos_held,
                  monitoring)
    unlabelled_step(pd.concat([benign[BENIGN_ROWS:2 * BENIGN_ROWS], scan_batch],
                              ignore_index=True), scan_held, monitoring, ddos_held)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--training-time", action="store_true",
                        help="also train on 1 and 30 days of hourly batches (~5 min more)")
    parser.add_argument("--corpus-only", action="store_true",
                        help="only the corpus growth and its DVC versioning (no training)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    for path in (SAMPLE, FRIDAY):
        if not path.is_file():
            raise SystemExit(f"{path} is absent: nothing to measure")
    folder = Path(tempfile.mkdtemp(prefix="corpus-learning-"))
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{folder / 'mlflow.db'}"
    sample, friday = load(SAMPLE), load(FRIDAY)
    if not args.corpus_only:
        learning_steps(sample, friday, folder)
    corpus_growth(friday, folder)
    versioning_cost(friday, folder)
    if args.training_time:
        training_time(friday, configs(folder)[0], folder)
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
