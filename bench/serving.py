"""The scoring API on loopback: latency, sustained throughput and the cost of explanations.

Trains a champion on the real rows of ../shared/cicids2017/cicids2017_sample.csv with the
project's XGBoost settings (config/training.yaml) into a throwaway SQLite MLflow store, starts
`python -m nids.serving` on a free loopback port (as `make serve` does, batches written to a
temporary folder) and posts real rows to it. Every loop is bounded; nothing leaves loopback.

    python bench/serving.py            # about 3-5 minutes on 2 cores
    python bench/serving.py --quick    # fewer repetitions
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import tempfile
import threading
import time
from pathlib import Path

import httpx
import mlflow
import numpy as np
import orjson
import pandas as pd
import psutil
import xgboost as xgb

from nids.config import LabelGrouping, load_training_config
from nids.data.ingest import read_input
from nids.data.schema import FEATURE_COLUMNS, LABEL_COLUMN
from nids.paths import PROJECT_ROOT
from nids.services import free_ports, isolated_layout
from nids.services.commands import scoring_spec
from nids.services.probes import http_status, wait_until
from nids.services.processes import is_alive, start_process, stop_groups
from nids.serving.explain import build_explainer
from nids.tracking import registry
from nids.training.features import clean_features
from nids.training.splits import build_splits
from nids.training.train import train_on_splits

SAMPLE = PROJECT_ROOT.parent / "shared" / "cicids2017" / "cicids2017_sample.csv"
MODEL = "bench-serving"
logger = logging.getLogger("bench.serving")


def train_champion(frame: pd.DataFrame) -> registry.ModelBundle:
    """Train with the project's settings on the real rows, register, alias champion."""
    started = time.perf_counter()
    splits = build_splits(frame, LabelGrouping.LABELS, 0.1, 0.2, None, seed=42)
    trained = train_on_splits(splits, load_training_config().model)
    model, order, features = trained.model, trained.classes, trained.features
    registry.configure_tracking("bench-serving")
    with mlflow.start_run():
        uri = registry.log_model(model, splits["test"][features].head(50), order, features)
    version = registry.register_version(uri, MODEL, {"reason": "bench"})
    registry.set_alias(MODEL, registry.CHAMPION, version.version)
    bundle = registry.load_bundle(MODEL)
    print(f"champion: {len(order)} classes, {len(features)} features, "
          f"{bundle.model.best_iteration + 1} rounds (early stopping), trained and registered "
          f"in {time.perf_counter() - started:.0f} s")
    return bundle


def rate(flows: int, seconds: float) -> str:
    return f"{flows / seconds:>10,.0f} flows/s  ({1e6 * seconds / flows:>8.1f} us/flow)"


def median_seconds(work, repeats: int = 7) -> float:
    """Median wall time of `repeats` runs (a single run is at the mercy of other processes)."""
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        timings.append(time.perf_counter() - started)
    return float(np.median(timings))


def explanation_costs(bundle: registry.ModelBundle, frame: pd.DataFrame, rng) -> None:
    """In-process: plain scoring and each way of computing contributions, per flow."""
    values = clean_features(frame.sample(10_000, random_state=int(rng.integers(1 << 31))),
                            bundle.features)
    seconds = median_seconds(lambda: registry.predict_classes(bundle, values))
    print(f"  plain scoring, 10,000 flows         {rate(10_000, seconds)}")
    names, _ = registry.predict_classes(bundle, values)
    flagged = values.to_numpy()[names != "BENIGN"]
    codes = pd.Categorical(names[names != "BENIGN"], categories=bundle.classes).codes
    explainer = build_explainer(bundle.model, bundle.features, len(bundle.classes))
    full = dataclasses.replace(explainer, class_boosters=None)
    for label, which, exact, rows, repeats in [
        ("approx, per-class boosters (served)", explainer, False, len(flagged), 7),
        ("approx, full model", full, False, len(flagged), 3),
        ("exact, per-class boosters (served)", explainer, True, 500, 3),
        ("exact, full model", full, True, 100, 3),
    ]:
        seconds = median_seconds(
            lambda w=which, e=exact, n=rows: w.contributions(flagged[:n], codes[:n], e), repeats)
        print(f"  {label:<35} {rate(min(rows, len(flagged)), seconds)}")
    print(f"  ({len(flagged):,} of the 10,000 flows flagged as attacks)")


def csv_body(frame: pd.DataFrame) -> bytes:
    return frame[list(FEATURE_COLUMNS)].to_csv(index=False).encode()


def json_body(frame: pd.DataFrame) -> bytes:
    values = frame[list(FEATURE_COLUMNS)].astype(float).replace([np.inf, -np.inf], np.nan)
    return orjson.dumps(values.astype(object).where(values.notna(), None).to_dict("records"))


def bodies(frame: pd.DataFrame, size: int, count: int, kind: str, rng) -> list[bytes]:
    """`count` request bodies of `size` distinct real rows each (a CICFlowMeter-style CSV
    with canonical names, or JSON records)."""
    encode = csv_body if kind == "csv" else json_body
    return [encode(frame.iloc[rng.choice(len(frame), size, replace=False)])
            for _ in range(count)]


def latencies(client: httpx.Client, url: str, payloads: list[bytes], kind: str,
              query: str = "") -> np.ndarray:
    content_type = "text/csv" if kind == "csv" else "application/json"
    seconds = []
    for payload in payloads:
        started = time.perf_counter()
        response = client.post(f"{url}/predict{query}", content=payload,
                               headers={"content-type": content_type})
        seconds.append(time.perf_counter() - started)
        response.raise_for_status()
    return np.asarray(seconds)


def report_latency(label: str, seconds: np.ndarray, flows: int) -> None:
    p50, p99 = np.percentile(seconds, [50, 99]) * 1000
    print(f"  {label:<38} n={len(seconds):<4} p50 {p50:8.1f} ms   p99 {p99:8.1f} ms   "
          f"{flows * len(seconds) / seconds.sum():>9,.0f} flows/s")


def sustained(url: str, payloads: list[bytes], clients: int, requests_each: int,
              server: psutil.Process) -> tuple[float, float, float]:
    """(flows/s, server and client CPU seconds per 10,000 flows) with `clients` clients."""
    def work(offset: int) -> None:
        with httpx.Client(timeout=120) as client:
            for number in range(requests_each):
                client.post(f"{url}/predict", content=payloads[(offset + number) % len(payloads)],
                            headers={"content-type": "text/csv"}).raise_for_status()

    def cpu(process: psutil.Process) -> float:
        times = process.cpu_times()
        return times.user + times.system

    threads = [threading.Thread(target=work, args=(i,)) for i in range(clients)]
    me = psutil.Process()
    server_before, client_before, started = cpu(server), cpu(me), time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    per_10k = 10_000 / (clients * requests_each * 10_000)
    return (clients * requests_each * 10_000 / elapsed, (cpu(server) - server_before) * per_10k,
            (cpu(me) - client_before) * per_10k)


def measure_api(url: str, frame: pd.DataFrame, server: psutil.Process, reps: int, rng) -> None:
    attacks = (frame[LABEL_COLUMN].astype(str) != "BENIGN").mean()
    print(f"\nLatency on loopback (client wall time; rows drawn from the real sample, "
          f"{attacks:.1%} attacks; flagged flows explained, contributions=auto):")
    with httpx.Client(timeout=120) as client:
        latencies(client, url, bodies(frame, 100, 5, "csv", rng), "csv")  # warm-up
        for size, kind, count in [(1, "json", 60 * reps), (1, "csv", 60 * reps),
                                  (100, "json", 20 * reps), (100, "csv", 20 * reps),
                                  (10_000, "csv", 4 * reps), (10_000, "json", reps)]:
            seconds = latencies(client, url, bodies(frame, size, count, kind, rng), kind)
            report_latency(f"{size:>6,} flow(s) per request, {kind}", seconds, size)
        big = bodies(frame, 10_000, 2 * reps, "csv", rng)
        for query, label in [("?explain=none", "explain=none"),
                             ("?explain=all", "explain=all (approx)")]:
            report_latency(f"10,000 flows, csv, {label}",
                           latencies(client, url, big, "csv", query), 10_000)
        small = bodies(frame, 100, 10 * reps, "csv", rng)
        for query in ["?explain=all&contributions=approx", "?explain=all&contributions=exact"]:
            report_latency(f"100 flows, csv, {query.split('&')[1]}, all",
                           latencies(client, url, small, "csv", query), 100)
    print("\nSustained, batches of 10,000 real flows (CSV), flagged flows explained:")
    payloads = bodies(frame, 10_000, 8, "csv", rng)
    for clients in (1, 2, 4):
        flows_per_second, server_cpu, client_cpu = sustained(
            url, payloads, clients, max(2, 4 * reps // clients), server)
        print(f"  {clients} client(s): {flows_per_second:>9,.0f} flows/s   CPU per 10,000 flows:"
              f" server {server_cpu:.2f} s, benchmark's clients {client_cpu:.2f} s")


def start_service(folder: Path, tracking_uri: str) -> tuple[str, psutil.Process, int]:
    [port] = free_ports(1)
    layout = dataclasses.replace(isolated_layout(folder / "state", 1, 1), scoring_port=port)
    env = dict(os.environ) | {"NIDS_SCORING_MODEL_NAME": MODEL,
                              "NIDS_SCORING_INCOMING_DIR": str(folder / "incoming")}
    spec = scoring_spec(layout, env, tracking_uri=tracking_uri)
    process = start_process(spec)
    wait_until(lambda: http_status(spec.health_url) == 200, what="scoring API", timeout=180,
               log_path=spec.log_path, still_running=lambda: is_alive(process.pid))
    return spec.url, psutil.Process(process.pid), process.pid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    reps, rng = (1 if args.quick else 3), np.random.default_rng(0)
    if not SAMPLE.is_file():
        raise SystemExit(f"{SAMPLE} not found: the benchmark needs the real CICIDS2017 rows")
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    frame = read_input(SAMPLE, verify=False)[0]
    with tempfile.TemporaryDirectory(prefix="bench-serving-") as temporary:
        folder = Path(temporary)
        tracking_uri = f"sqlite:///{folder / 'mlflow.db'}"
        os.environ["MLFLOW_TRACKING_URI"] = tracking_uri
        bundle = train_champion(frame)
        print("\nPer-flow cost, in process (the flagged flows of 10,000 real rows):")
        explanation_costs(bundle, frame, rng)
        url, server, pid = start_service(folder, tracking_uri)
        try:
            measure_api(url, frame, server, reps, rng)
        finally:
            stop_groups({pid: 15.0})
        batches = sorted((folder / "incoming").glob("flows-*.parquet"))
        rows = sum(len(pd.read_parquet(path, columns=["prediction"])) for path in batches)
        print(f"\nbatches written on shutdown: {len(batches)} file(s), {rows:,} scored flows")
    print(f"load average after: {os.getloadavg()[0]:.2f}; xgboost {xgb.__version__}")


if __name__ == "__main__":
    main()
