"""Measurement: incoming batches are read complete, and exactly once (issue 10).

A champion is trained on the real CICIDS2017 sample (../shared/cicids2017/, read in place).
1. A ~200 MB batch of real rows (the official Friday DDoS file's rows, repeated) is written
   line by line into the incoming folder by a writer that follows no hand-over, while the
   monitoring flow runs every minute. Prints what each run took, the rows on disk at that
   moment, and at the end whether every written row was scored exactly once.
2. Two monitoring processes started together on five batches of real rows: prints the reports,
   the index rows and where each batch went.
3. Two processes 0.2 s apart asking for a retrain against one Prefect server, first through the
   unguarded gate (check, then start), then through `retrain_single_flight`: training runs
   started by each.
Everything (MLflow store, Prefect database, batches) lives in a temporary folder.

    .venv/bin/python -m bench.handover [--batch-mb 200] [--interval 60] [--writer-seconds 150]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import pandas as pd
from prefect import get_client
from prefect.client.schemas.filters import FlowFilter, FlowFilterName
from prefect.testing.utilities import prefect_test_harness

from flows.monitoring import monitoring_flow
from flows.training import training_flow
from nids.config import MonitoringConfig, load_monitoring_config, load_training_config
from nids.data.incoming import mark_ready
from nids.paths import PROJECT_ROOT

SHARED = PROJECT_ROOT.parent / "shared" / "cicids2017"
SAMPLE = SHARED / "cicids2017_sample.csv"
FRIDAY = SHARED / "Friday-WorkingHours-Afternoon-DDos.pcap_ISCX.csv"
MODEL = "bench-handover"


def train_champion(folder: Path) -> None:
    config = load_training_config()
    (folder / "raw").mkdir()
    (folder / "raw" / SAMPLE.name).symlink_to(SAMPLE)
    config.data.raw_dir = str(folder / "raw")
    config.data.interim_dir = str(folder / "interim")
    config.data.processed_dir = str(folder / "processed")
    config.model.n_estimators = 100
    config.registry.model_name = MODEL
    config.metrics_file = str(folder / "metrics.json")
    training_flow(config=config, reason="benchmark")


def monitoring_config(folder: Path) -> MonitoringConfig:
    config = load_monitoring_config()
    config.model_name = MODEL
    config.incoming_dir = str(folder / "incoming")
    config.reports_dir = str(folder / "reports")
    config.retrain.enabled = False
    config.retrain.training_config = load_training_config()   # for its corpus folder:
    config.retrain.training_config.data.corpus.dir = str(folder / "corpus")   # not the project's
    return config


class LineWriter(threading.Thread):
    """Writes `target` line by line (header once, then the rows again and again) until it
    holds `size` bytes, spread over `seconds`; counts the rows written."""

    def __init__(self, source: Path, target: Path, size: int, seconds: float) -> None:
        super().__init__(daemon=True)
        header, *rows = source.read_bytes().splitlines(keepends=True)
        self.header, self.rows = header, rows
        self.target, self.size, self.seconds = target, size, seconds
        self.written = 0

    def run(self) -> None:
        started, written_bytes = time.monotonic(), 0
        with self.target.open("wb") as handle:
            handle.write(self.header)
            while written_bytes < self.size:
                line = self.rows[self.written % len(self.rows)]
                handle.write(line)
                handle.flush()
                written_bytes += len(line)
                self.written += 1
                ahead = started + self.seconds * written_bytes / self.size - time.monotonic()
                if ahead > 0.05:
                    time.sleep(ahead)


def growing_batch(folder: Path, megabytes: int, interval: float, writer_seconds: float) -> None:
    config = monitoring_config(folder)
    incoming = folder / "incoming"
    incoming.mkdir()
    writer = LineWriter(FRIDAY, incoming / "friday-growing.csv", megabytes * 1_000_000,
                        writer_seconds)
    writer.start()
    started, scored = time.monotonic(), []
    for tick in range(100):
        rows_on_disk, at = writer.written, time.monotonic() - started
        outcomes = monitoring_flow(config=config)
        took = [(o.batch, o.status) for o in outcomes]
        print(f"  run {tick} started at {at:4.0f} s: {rows_on_disk:>9,} rows "
              f"written so far (writer {'done' if not writer.is_alive() else 'busy'}); took "
              f"{took or 'nothing'}", flush=True)
        scored += outcomes
        if scored and not writer.is_alive():
            break
        time.sleep(max(0.0, started + (tick + 1) * interval - time.monotonic()))
    predictions = pd.read_parquet(incoming / "done" / "friday-growing.predictions.parquet")
    size = (incoming / "done" / "friday-growing.csv").stat().st_size
    print(f"  written: {writer.written:,} rows ({size / 1e6:.0f} MB); scored: "
          f"{len(predictions):,} rows in {len(scored)} run(s); reports "
          f"{len(list((folder / 'reports' / 'drift').glob('*.json')))}; every row once: "
          f"{len(predictions) == writer.written and len(scored) == 1}")


RUN_MONITORING = textwrap.dedent("""
    import json, sys, time
    from flows.monitoring import monitoring_flow
    from nids.config import MonitoringConfig
    config = MonitoringConfig.model_validate_json(open(sys.argv[1]).read())
    time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
    print("OUTCOMES", json.dumps([o.batch for o in monitoring_flow(config=config)]))
""")


def subprocess_env(api_url: str, folder: Path) -> dict[str, str]:
    return {**os.environ, "PREFECT_API_URL": api_url, "PYTHONPATH": str(PROJECT_ROOT),
            "PREFECT_HOME": str(folder / "prefect-home")}


def run_together(script: Path, arguments: list[list[str]], env: dict[str, str],
                 delays: tuple[float, ...]) -> list[str]:
    """Start one process per argument list, released at the same moment (plus delay)."""
    start_at = time.time() + 30
    processes = [subprocess.Popen([sys.executable, str(script), *args, str(start_at + delay)],
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for args, delay in zip(arguments, delays, strict=True)]
    outputs = [process.communicate(timeout=1800) for process in processes]
    for process, (_, stderr) in zip(processes, outputs, strict=True):
        if process.returncode:
            raise RuntimeError(stderr[-3000:])
    return [stdout for stdout, _ in outputs]


def two_runs(folder: Path, api_url: str) -> None:
    folder = folder / "two-runs"
    config = monitoring_config(folder)
    header, *rows = SAMPLE.read_text(encoding="utf-8").splitlines(keepends=True)
    for number in range(5):
        path = folder / "incoming" / f"{number:02d}-real.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join([header, *rows[number * 2400:(number + 1) * 2400]]))
        mark_ready(path)
    (folder / "config.json").write_text(config.model_dump_json())
    (folder / "run.py").write_text(RUN_MONITORING)
    config_path = str(folder / "config.json")
    outputs = run_together(folder / "run.py", [[config_path], [config_path]],
                           subprocess_env(api_url, folder), (0.0, 0.0))
    taken = [json.loads(line.split(" ", 1)[1]) for out in outputs for line in out.splitlines()
             if line.startswith("OUTCOMES ")]
    index = (folder / "reports" / "index.html").read_text(encoding="utf-8")
    index_rows = len(re.findall(r"<td>\d\d-real\.csv</td>", index))
    print(f"  run 1 took {taken[0]}, run 2 took {taken[1]}; reports "
          f"{len(list((folder / 'reports' / 'drift').glob('*.html')))}, index rows "
          f"{index_rows}, in done/ "
          f"{len(list((folder / 'incoming' / 'done').glob('*-real.csv')))}")


RETRAIN = textwrap.dedent("""
    import sys, time
    from prefect import flow
    from nids.config import RetrainConfig
    from nids.monitoring import retrain

    @flow(name=retrain.TRAINING_FLOW_NAME)
    def training(reason: str) -> None:
        time.sleep(2)

    config = RetrainConfig(cooldown_hours=1)
    time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
    if sys.argv[1] == "unguarded":  # the gate as it was: check, then start
        outcome = retrain.retrain_if_allowed(retrain.current_gate(config), "drift", config,
                                             run_locally=training)
    else:
        outcome = retrain.retrain_single_flight("drift", config, run_locally=training)
    print("STARTED", outcome.started)
""")


def training_runs() -> int:
    with get_client(sync_client=True) as client:
        return len(client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(
            any_=["training"]))))


def single_flight(folder: Path) -> None:
    (folder / "retrain.py").write_text(RETRAIN)
    for mode in ("unguarded", "single_flight"):
        for attempt in range(2):
            with prefect_test_harness(server_startup_timeout=180):
                from prefect.settings import PREFECT_API_URL
                before = training_runs()
                outputs = run_together(folder / "retrain.py", [[mode], [mode]],
                                       subprocess_env(PREFECT_API_URL.value(), folder),
                                       (0.0, 0.2))
                started = [line for out in outputs for line in out.splitlines()
                           if line.startswith("STARTED ")]
                print(f"  {mode:<13} attempt {attempt + 1}: {started}; training runs "
                      f"{training_runs() - before}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch-mb", type=int, default=200)
    parser.add_argument("--interval", type=float, default=60)
    parser.add_argument("--writer-seconds", type=float, default=150)
    parser.add_argument("--skip", nargs="*", default=[], choices=["growing", "two", "retrain"])
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if not SAMPLE.is_file():
        raise SystemExit(f"{SAMPLE} is absent: nothing to measure")
    folder = Path(tempfile.mkdtemp(prefix="handover-"))
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{folder / 'mlflow.db'}"
    print(f"working in {folder}")
    with prefect_test_harness(server_startup_timeout=180):
        from prefect.settings import PREFECT_API_URL
        train_champion(folder)
        if "growing" not in args.skip:
            print(f"1. a {args.batch_mb} MB batch written line by line over "
                  f"{args.writer_seconds:.0f} s, monitoring every {args.interval:.0f} s")
            growing_batch(folder, args.batch_mb, args.interval, args.writer_seconds)
        if "two" not in args.skip:
            print("2. two monitoring processes started together on five batches")
            two_runs(folder, PREFECT_API_URL.value())
    if "retrain" not in args.skip:
        print("3. two processes 0.2 s apart asking for a retrain (one Prefect server each try)")
        single_flight(folder)


if __name__ == "__main__":
    main()
