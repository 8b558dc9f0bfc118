"""Benchmark: the training flow on generated data at full CICIDS2017 scale.

Generates 2,830,743 rows with the real class proportions (once, in a child process, so that
what it leaves on the heap does not count as the flow's; reused afterwards), then runs the real
training flow on them and prints the wall time and peak memory (RSS) of each stage.

    .venv/bin/python -m bench.training_full_scale [--rows N] [--cold]   (from the project root)

--cold parses the CSVs and builds the splits again (empty Parquet caches in a temporary folder),
as the first run on new data does; without it a later run reuses them. The flow runs against a
Prefect server already up, as a deployment's run finds it; the server's start is printed apart.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing
import tempfile
import time
from pathlib import Path

from prefect import get_client

from bench.prefect_server import prefect_server
from bench.rss import RssSampler
from flows.training import training_flow
from nids.config import DataSource, load_training_config
from nids.data.generate import FULL_SCALE_ROWS, generate_dataset
from nids.paths import DATA_DIR

logger = logging.getLogger("bench")


async def task_runs(flow_run_id):
    async with get_client() as client:
        runs = await client.read_task_runs()
        return sorted((r for r in runs if r.flow_run_id == flow_run_id),
                      key=lambda r: r.start_time)


def generate_apart(folder: Path, rows: int) -> None:
    """The full-scale files, generated in a child process: the flow's peak is its own, not the
    generator's freed memory still held by this process (0.2 GB more on a first run)."""
    child = multiprocessing.get_context("spawn").Process(
        target=generate_dataset, args=(folder, rows), kwargs={"seed": 2017})
    child.start()
    child.join()
    if child.exitcode != 0:
        raise SystemExit(f"Generating {rows:,} rows into {folder} failed (exit code "
                         f"{child.exitcode}); its error is above.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=FULL_SCALE_ROWS)
    parser.add_argument("--cold", action="store_true", help="no parse or split caches")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    folder = DATA_DIR / "generated" / f"bench-{args.rows}"
    started = time.perf_counter()
    generate_apart(folder, args.rows)
    generation = time.perf_counter() - started
    config = load_training_config()
    config.data.source = DataSource.GENERATED   # asked for: the folder generated above
    config.data.generated_dir = str(folder)
    config.data.generated_rows = args.rows
    config.registry.experiment_name = "nids-bench"
    config.registry.model_name = "cicids2017-xgboost-bench"
    caches = tempfile.TemporaryDirectory(dir=DATA_DIR) if args.cold else None
    if caches is not None:
        config.data.interim_dir = f"{caches.name}/interim"
        config.data.processed_dir = f"{caches.name}/processed"
    with prefect_server() as server_start:
        sampler = RssSampler()
        sampler.start()
        started = time.perf_counter()
        state = training_flow(config=config, reason="benchmark", return_state=True)
        total = time.perf_counter() - started
        sampler.running = False
        runs = asyncio.run(task_runs(state.state_details.flow_run_id))
    print(f"rows: {args.rows:,}; generation (not in the flow): {generation:.1f} s; "
          f"Prefect server start (not in the flow): {server_start:.1f} s")
    print(f"{'stage':<20}{'wall s':>10}{'peak RSS GB':>14}")
    for run in runs:
        seconds = (run.end_time - run.start_time).total_seconds()
        peak = sampler.peak(run.start_time, run.end_time) / 1e9
        print(f"{run.task_key.split('-')[0] if run.task_key else run.name:<20}"
              f"{seconds:>10.1f}{peak:>14.2f}")
    overall = sampler.peak() / 1e9
    print(f"{'whole flow':<20}{total:>10.1f}{overall:>14.2f}")
    print(f"result: {state.result()}")


if __name__ == "__main__":
    main()
