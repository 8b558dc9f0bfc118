"""Generate CICIDS2017 traffic in the exact official CSV format, deterministic by seed.

Each class has its own distribution of a few flow quantities (duration, packet counts and
sizes, port, TCP window, flags); the other features are derived from them the way
CICFlowMeter derives them, so the columns keep their real relations. Days carry the attacks
they carry in the real dataset, in the real proportions, with rare classes kept rare.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from nids.data.official import OFFICIAL_FILES, day_names, day_of
from nids.data.schema import FEATURE_COLUMNS, MACHINE_LEARNING_HEADER
from nids.io import atomic_path

logger = logging.getLogger(__name__)

FULL_SCALE_ROWS = sum(f.rows for f in OFFICIAL_FILES.values())  # 2,830,743
MIN_CLASS_ROWS = 12  # so that a rare class still lands in train, validation and test


@dataclass(frozen=True)
class Profile:
    """Distribution of the base quantities of one class's flows."""

    ports: tuple[int, ...]          # typical destination ports; 0 means a random port
    duration: tuple[float, float]   # lognormal (mean, sigma) of microseconds
    fwd_packets: tuple[float, float]
    bwd_packets: tuple[float, float]
    fwd_size: tuple[float, float]   # mean, sd of forward payload bytes per packet
    bwd_size: tuple[float, float]
    win_fwd: tuple[int, ...]        # typical Init_Win_bytes_forward, -1 = not seen
    win_bwd: tuple[int, ...]
    syn: float = 0.05               # probability of the flag counts
    fin: float = 0.1
    psh: float = 0.3
    ack: float = 0.3
    zero_duration: float = 0.01     # share of zero-duration flows (rates become Infinity)


PROFILES: dict[str, Profile] = {
    "BENIGN": Profile((53, 443, 80, 0, 0), (10.0, 3.0), (1.0, 1.1), (0.9, 1.2),
                      (120, 160), (400, 500), (-1, 8192, 29200, 65535, 251),
                      (-1, 0, 235, 65535, 28960), zero_duration=0.02),
    "DoS Hulk": Profile((80,), (11.0, 2.2), (1.2, 0.6), (1.0, 0.7), (60, 80), (1500, 900),
                        (29200, 251, 229), (235, -1), psh=0.6, ack=0.8, fin=0.4),
    "DoS GoldenEye": Profile((80,), (15.0, 1.2), (1.8, 0.4), (1.6, 0.4), (70, 60),
                             (1300, 700), (29200, 229), (235, 243), psh=0.7, ack=0.6),
    "DoS slowloris": Profile((80,), (16.5, 1.5), (1.4, 0.5), (0.6, 0.6), (30, 30), (0, 5),
                             (29200, 229), (-1, 235), psh=0.4, fin=0.05),
    "DoS Slowhttptest": Profile((80,), (16.0, 1.8), (1.0, 0.6), (0.4, 0.6), (20, 30), (0, 5),
                                (29200, 229), (-1, 235), psh=0.3),
    "Heartbleed": Profile((444,), (18.3, 0.1), (7.9, 0.1), (8.6, 0.1), (30, 10),
                          (6000, 200), (290,), (235,), psh=1.0, ack=1.0),
    "DDoS": Profile((80,), (13.5, 2.5), (1.2, 0.5), (0.9, 0.6), (7, 8), (1900, 1500),
                    (8192, 256), (229, -1), psh=0.2, ack=0.7),
    "PortScan": Profile((0,), (3.5, 1.5), (0.1, 0.3), (0.1, 0.3), (0.5, 1), (1, 2),
                        (1024, 29200), (0, -1), syn=0.4, psh=0.05, ack=0.1,
                        zero_duration=0.05),
    "FTP-Patator": Profile((21,), (15.0, 1.8), (2.2, 0.3), (2.3, 0.3), (10, 5), (30, 10),
                           (29200,), (227,), psh=0.9, fin=0.5),
    "SSH-Patator": Profile((22,), (13.0, 1.5), (2.8, 0.3), (2.9, 0.3), (60, 30),
                           (70, 40), (29200,), (247,), psh=0.9, fin=0.5),
    "Bot": Profile((8080, 0), (11.0, 2.5), (1.3, 0.6), (1.0, 0.7), (80, 60), (120, 90),
                   (8192, 237), (-1, 2053), psh=0.4, ack=0.5),
    "Web Attack - Brute Force": Profile((80,), (15.5, 1.0), (1.6, 0.4), (1.4, 0.4),
                                        (90, 60), (500, 400), (29200,), (235,), psh=0.7),
    "Web Attack - XSS": Profile((80,), (15.5, 1.0), (1.7, 0.4), (1.4, 0.4), (140, 80),
                                (500, 400), (29200,), (235,), psh=0.7),
    "Web Attack - Sql Injection": Profile((80,), (14.5, 1.2), (1.5, 0.4), (1.2, 0.4),
                                          (110, 50), (600, 300), (29200,), (235,), psh=0.8),
    "Infiltration": Profile((444, 0), (14.0, 3.0), (1.5, 1.2), (1.3, 1.3), (200, 300),
                            (600, 800), (8192, -1), (-1, 65535), psh=0.5),
}


def class_counts(rows: int, days: list[str] | None = None) -> dict[str, dict[str, int]]:
    """Rows per file and label for `rows` in total, with the real proportions."""
    wanted = day_names(days)
    files = {name: official.label_counts for name, official in OFFICIAL_FILES.items()
             if not wanted or day_of(name) in wanted}
    if not files:
        raise ValueError(f"No CICIDS2017 day matches {days!r}; use Monday ... Friday.")
    total = sum(sum(c.values()) for c in files.values())
    return {
        name: {
            label: max(MIN_CLASS_ROWS, round(rows * count / total))
            for label, count in counts.items()
        }
        for name, counts in files.items()
    }


def _lognormal(rng: np.random.Generator, params: tuple[float, float], n: int) -> np.ndarray:
    return rng.lognormal(params[0], params[1], n)


def _packets(rng: np.random.Generator, params: tuple[float, float], n: int) -> np.ndarray:
    return np.floor(_lognormal(rng, params, n)).astype(np.int64)


def _sizes(rng: np.random.Generator, params: tuple[float, float], n: int) -> np.ndarray:
    return np.clip(rng.normal(params[0], params[1], n), 0, 1460)


def _ports(rng: np.random.Generator, ports: tuple[int, ...], n: int) -> np.ndarray:
    chosen = rng.choice(np.array(ports), n)
    random_ports = rng.integers(1, 65536, n)
    return np.where(chosen == 0, random_ports, chosen)


def sample_flows(label: str, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """`n` flows of one class with all 78 features, in canonical column names."""
    p = PROFILES[label]
    duration = np.round(_lognormal(rng, p.duration, n))
    duration[rng.random(n) < p.zero_duration] = 0
    fwd_n = 1 + _packets(rng, p.fwd_packets, n)
    bwd_n = _packets(rng, p.bwd_packets, n)
    fwd_mean, bwd_mean = _sizes(rng, p.fwd_size, n), _sizes(rng, p.bwd_size, n)
    bwd_mean[bwd_n == 0] = 0
    fwd_std = fwd_mean * rng.uniform(0, 0.8, n) * (fwd_n > 1)
    bwd_std = bwd_mean * rng.uniform(0, 0.8, n) * (bwd_n > 1)
    fwd_bytes, bwd_bytes = np.round(fwd_n * fwd_mean), np.round(bwd_n * bwd_mean)
    packets, total_bytes = fwd_n + bwd_n, fwd_bytes + bwd_bytes
    seconds = duration / 1e6
    with np.errstate(divide="ignore", invalid="ignore"):
        bytes_rate, packets_rate = total_bytes / seconds, packets / seconds
        fwd_rate, bwd_rate = fwd_n / seconds, bwd_n / seconds
    fwd_rate[duration == 0], bwd_rate[duration == 0] = 0, 0  # the tool writes 0 here
    iat_mean = duration / np.maximum(packets - 1, 1)
    iat_std = iat_mean * rng.uniform(0, 2, n)
    iat_min = np.minimum(iat_mean, rng.uniform(0, 5, n) * (packets > 1))
    fwd_iat_total = duration * (fwd_n > 1) * rng.uniform(0.5, 1, n)
    bwd_iat_total = duration * (bwd_n > 1) * rng.uniform(0.3, 1, n)
    pkt_max = np.maximum(fwd_mean + fwd_std, bwd_mean + bwd_std)
    pkt_min = np.minimum(np.maximum(fwd_mean - fwd_std, 0), np.where(bwd_n > 0, bwd_mean, 1e9))
    pkt_mean = total_bytes / packets
    pkt_std = (fwd_std + bwd_std) / 2
    active = _lognormal(rng, (p.duration[0] - 2, 1.0), n) * (duration > 1e6)
    idle = duration * rng.uniform(0.2, 0.9, n) * (duration > 5e6)
    flags = {f: (rng.random(n) < prob).astype(np.int64)
             for f, prob in (("syn", p.syn), ("fin", p.fin), ("psh", p.psh), ("ack", p.ack))}
    columns = {
        "destination_port": _ports(rng, p.ports, n), "flow_duration": duration,
        "total_fwd_packets": fwd_n, "total_backward_packets": bwd_n,
        "total_length_of_fwd_packets": fwd_bytes, "total_length_of_bwd_packets": bwd_bytes,
        "fwd_packet_length_max": np.round(fwd_mean + fwd_std),
        "fwd_packet_length_min": np.round(np.maximum(fwd_mean - fwd_std, 0)),
        "fwd_packet_length_mean": fwd_mean, "fwd_packet_length_std": fwd_std,
        "bwd_packet_length_max": np.round(bwd_mean + bwd_std),
        "bwd_packet_length_min": np.round(np.maximum(bwd_mean - bwd_std, 0)),
        "bwd_packet_length_mean": bwd_mean, "bwd_packet_length_std": bwd_std,
        "flow_bytes_s": bytes_rate, "flow_packets_s": packets_rate,
        "flow_iat_mean": iat_mean, "flow_iat_std": iat_std,
        "flow_iat_max": np.minimum(duration, iat_mean + iat_std), "flow_iat_min": iat_min,
        "fwd_iat_total": fwd_iat_total, "fwd_iat_mean": fwd_iat_total / np.maximum(fwd_n - 1, 1),
        "fwd_iat_std": fwd_iat_total * rng.uniform(0, 0.5, n),
        "fwd_iat_max": fwd_iat_total * rng.uniform(0.5, 1, n), "fwd_iat_min": iat_min,
        "bwd_iat_total": bwd_iat_total, "bwd_iat_mean": bwd_iat_total / np.maximum(bwd_n - 1, 1),
        "bwd_iat_std": bwd_iat_total * rng.uniform(0, 0.5, n),
        "bwd_iat_max": bwd_iat_total * rng.uniform(0.5, 1, n), "bwd_iat_min": iat_min,
        "fwd_psh_flags": flags["psh"] * (rng.random(n) < 0.3), "bwd_psh_flags": 0,
        "fwd_urg_flags": 0, "bwd_urg_flags": 0,
        "fwd_header_length": fwd_n * 32, "bwd_header_length": bwd_n * 32,
        "fwd_packets_s": fwd_rate, "bwd_packets_s": bwd_rate,
        "min_packet_length": np.round(pkt_min), "max_packet_length": np.round(pkt_max),
        "packet_length_mean": pkt_mean, "packet_length_std": pkt_std,
        "packet_length_variance": pkt_std**2,
        "fin_flag_count": flags["fin"], "syn_flag_count": flags["syn"],
        "rst_flag_count": (rng.random(n) < 0.01).astype(np.int64),
        "psh_flag_count": flags["psh"], "ack_flag_count": flags["ack"],
        "urg_flag_count": (rng.random(n) < 0.05).astype(np.int64), "cwe_flag_count": 0,
        "ece_flag_count": (rng.random(n) < 0.01).astype(np.int64),
        "down_up_ratio": bwd_n // fwd_n, "average_packet_size": pkt_mean * packets / fwd_n,
        "avg_fwd_segment_size": fwd_mean, "avg_bwd_segment_size": bwd_mean,
        "fwd_header_length_1": fwd_n * 32,
        "fwd_avg_bytes_bulk": 0, "fwd_avg_packets_bulk": 0, "fwd_avg_bulk_rate": 0,
        "bwd_avg_bytes_bulk": 0, "bwd_avg_packets_bulk": 0, "bwd_avg_bulk_rate": 0,
        "subflow_fwd_packets": fwd_n, "subflow_fwd_bytes": fwd_bytes,
        "subflow_bwd_packets": bwd_n, "subflow_bwd_bytes": bwd_bytes,
        "init_win_bytes_forward": rng.choice(np.array(p.win_fwd), n),
        "init_win_bytes_backward": rng.choice(np.array(p.win_bwd), n),
        "act_data_pkt_fwd": np.floor(fwd_n * rng.uniform(0, 1, n) * (fwd_mean > 0)),
        "min_seg_size_forward": rng.choice(np.array([20, 32, 32, 40]), n),
        "active_mean": active, "active_std": active * rng.uniform(0, 0.3, n),
        "active_max": active * 1.2, "active_min": active * 0.8,
        "idle_mean": idle, "idle_std": idle * rng.uniform(0, 0.2, n),
        "idle_max": idle * 1.1, "idle_min": idle * 0.9,
    }
    frame = pd.DataFrame({c: np.broadcast_to(columns[c], n) for c in FEATURE_COLUMNS})
    frame["label"] = label
    return frame


def generate_day(counts: dict[str, int], rng: np.random.Generator) -> pd.DataFrame:
    """One day file's flows, shuffled, with the quirks of the official export."""
    frame = pd.concat([sample_flows(label, n, rng) for label, n in counts.items()])
    frame = frame.sample(frac=1, random_state=rng.integers(2**32)).reset_index(drop=True)
    # Real quirks: rows with Flow Duration -1 and negative IAT minimums.
    glitch = rng.random(len(frame)) < 0.0005
    frame.loc[glitch, "flow_duration"] = -1
    frame.loc[glitch, "flow_iat_min"] = -1
    return frame


def write_official_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write flows exactly as UNB's MachineLearningCVE files: names, Infinity, U+FFFD, CRLF."""
    out = frame.copy()
    for column in ("flow_bytes_s", "flow_packets_s"):
        values = out[column].astype(object)
        values[np.isposinf(out[column].to_numpy())] = "Infinity"
        out[column] = values
    out["label"] = out["label"].str.replace(" - ", " \ufffd ", regex=False)
    out.columns = list(MACHINE_LEARNING_HEADER)
    with atomic_path(path) as tmp:
        out.to_csv(tmp, index=False, na_rep="NaN", lineterminator="\r\n", float_format="%.10g")


COMPLETE_MARKER_PREFIX = ".complete-"


def written_by_generator(path: Path) -> bool:
    """Whether a file (or the file a symlink points at) was written by `generate_dataset`:
    it sits beside the generator's completion marker."""
    return any(path.resolve().parent.glob(f"{COMPLETE_MARKER_PREFIX}*"))


def generate_dataset(
    folder: Path, rows: int, seed: int, days: list[str] | None = None
) -> list[Path]:
    """Write one official-format CSV per day into `folder`; reuse files of the same request."""
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / f"{COMPLETE_MARKER_PREFIX}{rows}-{seed}-{'-'.join(days or ['all'])}"
    plan = class_counts(rows, days)
    paths = [folder / name for name in plan]
    if marker.exists() and all(p.exists() for p in paths):
        logger.info("Reusing generated data in %s", folder)
        return paths
    for stale in folder.glob(f"{COMPLETE_MARKER_PREFIX}*"):
        stale.unlink()
    rng = np.random.default_rng(seed)
    for path, counts in zip(paths, plan.values(), strict=True):
        logger.info("Generating %s (%d rows)", path.name, sum(counts.values()))
        write_official_csv(generate_day(counts, rng), path)
    marker.touch()
    return paths

