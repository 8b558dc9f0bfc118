"""Benchmark: parse CICIDS2017 CSVs into the canonical frame; wall time and peak memory (RSS).

Times the loader alone (`nids.data.ingest.load_inputs`, no cache reuse) on a folder of CSVs,
by default full-scale generated data: 2,830,743 rows in the eight official files. Generating
them takes minutes, so point it at a folder generated once:

    .venv/bin/python bench/ingest.py --folder /tmp/fullscale      # generates it when absent
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

from nids.data.generate import FULL_SCALE_ROWS, generate_dataset
from nids.data.ingest import find_input_files, load_inputs
from nids.paths import PROJECT_ROOT

sys.path.insert(0, str(PROJECT_ROOT))  # for `bench`

from bench.rss import RssSampler  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folder", type=Path, default=Path("/tmp/fullscale"))
    parser.add_argument("--rows", type=int, default=FULL_SCALE_ROWS,
                        help="rows to generate when the folder holds no CSV")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    paths = find_input_files(args.folder)
    if not paths:
        print(f"generating {args.rows:,} rows into {args.folder} (once) ...")
        paths = generate_dataset(args.folder, args.rows, seed=2017)
    size = sum(p.stat().st_size for p in paths)
    sampler = RssSampler()
    sampler.start()
    time.sleep(0.3)
    baseline = sampler.peak()
    started, cpu_started = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory() as cache:
        loaded = load_inputs(paths, Path(cache), verify=False)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    sampler.running = False
    frame_bytes = loaded.frame.memory_usage(deep=True).sum()
    print(f"files: {len(paths)}, {size / 1e9:.2f} GB of CSV; rows: {len(loaded.frame):,}")
    print(f"ingest wall time: {seconds:.1f} s, CPU time {cpu:.1f} s (parse + Parquet cache "
          "write; wall time depends on what else runs)")
    print(f"peak RSS: {sampler.peak() / 1e9:.2f} GB (process before ingest: "
          f"{baseline / 1e9:.2f} GB); resulting frame: {frame_bytes / 1e9:.2f} GB")


if __name__ == "__main__":
    main()
