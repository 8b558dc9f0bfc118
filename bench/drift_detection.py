"""Bench the drift check: false alarms on reference-like batches, detections on shifted ones,
and the wall time and memory of monitoring one 500,000-row batch.

    python -m bench.drift_detection                       # defaults, 20 + 20 batches
    python -m bench.drift_detection --source generate --benign-scale 1.5 --skip-reference

The data come from make_reference_and_batches(): --source synthetic (independent heavy-tailed
features per class) or --source generate (nids.data.generate.sample_flows, CICFlowMeter-like).
Figures are printed, never asserted.

Measured 2026-11-22 (2 CPUs, default DriftSettings: log1p, wasserstein 0.1, share 0.3,
jensenshannon 0.1 on predictions, 50,000-row samples; 200,000-row reference, 100,000-row
batches; "drift raised" is DriftDecision.drift_detected):

    source     batches                 raised  drifted share      prediction drift
    synthetic  reference distribution   0/20   0.00 .. 0.00       <= 0.007
    synthetic  benign x2                20/20   0.63 .. 0.69       <= 0.007
    synthetic  benign x1.5               0/10   0.15 .. 0.21
    generate   reference distribution   0/20   0.00 .. 0.00       <= 0.006
    generate   benign x2                20/20   0.47 .. 0.54       <= 0.006
    generate   benign x1.5               0/10   0.26 .. 0.28       (share 0.25 would catch it)
    generate   benign x1.25              0/10   0.12 .. 0.12
    generate   attacks x2 (20% -> 33%)  30/30   0.00 .. 0.05       0.104 .. 0.107 (borderline)
    generate   attacks x1.5              0/10   0.00 .. 0.00       <= 0.060
    generate   sample_rows 5,000: ref    0/20   0.00 .. 0.00       benign x2: 20/20, 0.47 .. 0.58
    generate   labels, reference dist.   macro-F1 0.981 +/- 0.001 (98%-accurate stand-in)

One 500,000-row batch with labels, HTML rendered (6.4 MB): 16.4 s (generate) and 16.7 s
(synthetic) wall; the check allocates at most 355-413 MB (tracemalloc); process peak RSS
1.15-1.34 GB including generating the data. Evidently's time is mostly per column (plotly
widgets), so it hardly grows with the sample size.
"""

from __future__ import annotations

import argparse
import logging
import resource
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd

from nids.data.generate import sample_flows
from nids.data.official import OFFICIAL_FILES
from nids.data.schema import FEATURE_COLUMNS, LABEL_COLUMN, PREDICTION_COLUMN
from nids.monitoring.check import assess_drift
from nids.monitoring.settings import DriftSettings

logger = logging.getLogger("bench.drift_detection")

# All-zero in CICIDS2017.
CONSTANT_COLUMNS = (
    "bwd_psh_flags", "bwd_urg_flags", "fwd_avg_bytes_bulk", "fwd_avg_packets_bulk",
    "fwd_avg_bulk_rate", "bwd_avg_bytes_bulk", "bwd_avg_packets_bulk", "bwd_avg_bulk_rate",
)
FLAG_COLUMNS = (
    "fwd_psh_flags", "fwd_urg_flags", "fin_flag_count", "syn_flag_count", "rst_flag_count",
    "psh_flag_count", "ack_flag_count", "urg_flag_count", "cwe_flag_count", "ece_flag_count",
)
PORTS = np.array([80, 443, 53, 22, 21, 8080, 139, 445, 123, 50000], dtype=np.float32)
# The magnitudes a benign shift scales: everything but flags, ports and constant columns.
CONTINUOUS_COLUMNS = tuple(
    c for c in FEATURE_COLUMNS
    if c not in (*CONSTANT_COLUMNS, *FLAG_COLUMNS, "destination_port", "fwd_header_length_1")
)
LABEL_TOTALS = Counter()
for _official in OFFICIAL_FILES.values():
    LABEL_TOTALS.update(_official.label_counts)
CLASSES = np.array(sorted(LABEL_TOTALS, key=LABEL_TOTALS.get, reverse=True), dtype=object)
PRIORS = np.array([LABEL_TOTALS[c] for c in CLASSES], dtype=float) / sum(LABEL_TOTALS.values())
Flows = Callable[[str, int, np.random.Generator], pd.DataFrame]


def synthetic_flows(seed: int = 7) -> Flows:
    """Independent heavy-tailed (lognormal, zero-inflated) features per class: a crude
    stand-in for nids.data.generate.sample_flows, with the same signature."""
    rng = np.random.default_rng(seed)
    n = len(CONTINUOUS_COLUMNS)
    params = {
        label: (rng.uniform(0, 12, n), rng.uniform(0.8, 2.5, n), rng.uniform(0, 0.3, n),
                rng.uniform(0, 1, len(FLAG_COLUMNS)), rng.dirichlet(np.full(len(PORTS), 0.3)))
        for label in CLASSES
    }

    def flows(label: str, rows: int, rng: np.random.Generator) -> pd.DataFrame:
        mu, sigma, zero, flag, port = params[label]
        values = rng.lognormal(mu, sigma, (rows, n))
        values[rng.random(values.shape) < zero] = 0.0
        frame = pd.DataFrame(0.0, index=range(rows), columns=list(FEATURE_COLUMNS))
        frame[list(CONTINUOUS_COLUMNS)] = values
        frame[list(FLAG_COLUMNS)] = rng.random((rows, len(FLAG_COLUMNS))) < flag
        frame["destination_port"] = rng.choice(PORTS, size=rows, p=port)
        frame["fwd_header_length_1"] = frame["fwd_header_length"]
        frame.loc[rng.random(rows) < 0.001, "flow_bytes_s"] = np.nan
        frame[LABEL_COLUMN] = label
        return frame

    return flows


def _batch(flows: Flows, rows: int, rng: np.random.Generator, benign_scale: float,
           attack_factor: float) -> pd.DataFrame:
    """`rows` flows in CICIDS2017 class shares (attacks x attack_factor), benign magnitudes
    x benign_scale, and the predictions of a 98%-accurate stand-in for the champion."""
    priors = PRIORS * np.where(CLASSES == "BENIGN", 1.0, attack_factor)
    priors /= priors.sum()
    counts = rng.multinomial(rows, priors)
    parts = [flows(label, int(n), rng) for label, n in zip(CLASSES, counts, strict=True) if n]
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=[*FEATURE_COLUMNS, LABEL_COLUMN])
    frame = frame.astype(dict.fromkeys(FEATURE_COLUMNS, np.float32))
    benign = (frame[LABEL_COLUMN] == "BENIGN").to_numpy()
    frame.loc[benign, list(CONTINUOUS_COLUMNS)] *= np.float32(benign_scale)
    frame = frame.sample(frac=1.0, random_state=int(rng.integers(2**31))).reset_index(drop=True)
    predictions = frame[LABEL_COLUMN].to_numpy(dtype=object).copy()
    wrong = rng.random(len(frame)) < 0.02
    predictions[wrong] = rng.choice(CLASSES, size=int(wrong.sum()), p=priors)
    frame[PREDICTION_COLUMN] = predictions
    return frame


def make_reference_and_batches(
    reference_rows: int, batch_rows: int, batches: int, *, source: str = "synthetic",
    benign_scale: float = 1.0, attack_factor: float = 1.0, seed: int = 0,
) -> tuple[pd.DataFrame, Iterator[pd.DataFrame]]:
    """A reference frame and lazily drawn batches from `source` ('synthetic', or 'generate'
    for nids.data.generate.sample_flows); benign_scale multiplies the benign flows' magnitudes,
    attack_factor the attack classes' shares (1 and 1: the reference distribution)."""
    flows = sample_flows if source == "generate" else synthetic_flows()
    reference = _batch(flows, reference_rows, np.random.default_rng(seed), 1.0, 1.0)
    batch_rng = np.random.default_rng(seed + 1)
    return reference, (
        _batch(flows, batch_rows, batch_rng, benign_scale, attack_factor)
        for _ in range(batches)
    )


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def check_batch(
    reference: pd.DataFrame, batch: pd.DataFrame, settings: DriftSettings, labels: bool
) -> tuple[bool, float, float, float | None]:
    """Drift detected?, drifted share, prediction drift score and macro-F1 of one batch."""
    if not labels:
        batch = batch.drop(columns=LABEL_COLUMN)
    drift = assess_drift(reference, batch, list(FEATURE_COLUMNS), settings,
                         champion_macro_f1=None)
    summary = drift.summary
    return drift.decision.drift_detected, summary.drifted_share, \
        summary.prediction_drift.score, summary.macro_f1


def time_one_batch(reference: pd.DataFrame, batch: pd.DataFrame, settings: DriftSettings) -> None:
    """Wall time and memory of checking one batch, labels included, HTML rendered: timed
    first, then run again under tracemalloc for the peak of what the check itself allocates."""
    def check() -> int:
        drift = assess_drift(reference, batch, list(FEATURE_COLUMNS), settings,
                             champion_macro_f1=None)
        return len(drift.snapshot.get_html_str(as_iframe=False))

    start = time.perf_counter()
    html_size = check()
    wall = time.perf_counter() - start
    tracemalloc.start()
    check()
    allocated_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    logger.info(
        "one %d-row batch (labels, HTML %.1f MB): %.1f s wall; the check allocates at most "
        "%.0f MB; process peak RSS %.0f MB (data generation included)", len(batch),
        html_size / 1e6, wall, allocated_peak / 1e6, peak_rss_mb(),
    )


def run_scenario(
    name: str, reference_rows: int, batch_rows: int, batches: int, settings: DriftSettings,
    labels: bool, source: str, **shift: float,
) -> None:
    """Check `batches` batches of one scenario and log how many raised drift."""
    reference, stream = make_reference_and_batches(
        reference_rows, batch_rows, batches, source=source, **shift)
    results = [check_batch(reference, batch, settings, labels) for batch in stream]
    detected = sum(r[0] for r in results)
    shares = [r[1] for r in results]
    scores = [r[2] for r in results]
    f1s = [r[3] for r in results if r[3] is not None]
    f1_text = f", macro-F1 {np.mean(f1s):.3f} +/- {np.std(f1s):.3f}" if f1s else ""
    logger.info(
        "%-28s drift raised %2d/%d | drifted share min/median/max %.2f/%.2f/%.2f | "
        "prediction drift min/median/max %.3f/%.3f/%.3f%s", name, detected, len(results),
        min(shares), float(np.median(shares)), max(shares),
        min(scores), float(np.median(scores)), max(scores), f1_text,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--reference-rows", type=int, default=200_000)
    parser.add_argument("--batch-rows", type=int, default=100_000)
    parser.add_argument("--timed-rows", type=int, default=500_000)
    parser.add_argument("--sample-rows", type=int, default=DriftSettings().sample_rows)
    parser.add_argument("--benign-scale", type=float, default=2.0)
    parser.add_argument("--attack-factor", type=float, default=1.0)
    parser.add_argument("--labels", action="store_true", help="keep labels in the batches")
    parser.add_argument("--skip-timing", action="store_true")
    parser.add_argument("--skip-reference", action="store_true", help="only shifted batches")
    parser.add_argument("--source", choices=["synthetic", "generate"], default="synthetic")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    logging.getLogger("nids").setLevel(logging.WARNING)
    settings = DriftSettings(sample_rows=args.sample_rows)
    logger.info("source %s, settings: %s", args.source, settings.model_dump_json())
    if not args.skip_timing:
        reference, timed = make_reference_and_batches(
            args.reference_rows, args.timed_rows, 1, source=args.source, seed=99)
        time_one_batch(reference, next(timed), settings)
    common = dict(reference_rows=args.reference_rows, batch_rows=args.batch_rows,
                  batches=args.batches, settings=settings, labels=args.labels,
                  source=args.source)
    if not args.skip_reference:
        run_scenario("reference distribution", **common)
    shifted = f"benign x{args.benign_scale:g}, attacks x{args.attack_factor:g}"
    run_scenario(shifted, benign_scale=args.benign_scale, attack_factor=args.attack_factor,
                 **common)


if __name__ == "__main__":
    main()
