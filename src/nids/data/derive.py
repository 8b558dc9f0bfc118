"""Derive all 78 CICFlowMeter features of generated flows from their base quantities.

The base quantities (duration, packets and bytes each way, packet length extremes, the
longest and shortest gap) come from a class profile; every other column follows from them
the way CICFlowMeter computes it (means are totals over counts, the 2017 Packet Length Mean
divides by one packet more than there are, idle periods are the gaps over the 5 s activity
timeout), so the columns keep their real relations. Columns the 2017 files hold twice
(Fwd PSH Flags = SYN Flag Count, Fwd URG Flags = CWE Flag Count, RST = ECE, the subflow
and segment-size copies) are copies here too, and no others.
"""

from __future__ import annotations

import numpy as np

from nids.data.profiles import ClassProfile

ACTIVITY_TIMEOUT = 5e6  # microseconds


def spread(mean: np.ndarray, low: np.ndarray, high: np.ndarray, n: np.ndarray,
           rng: np.random.Generator) -> np.ndarray:
    """A sample std of n values between low and high with this mean (at most the two-point one)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        two_point = np.sqrt(np.clip((mean - low) * (high - mean), 0, None) * n / (n - 1))
    return np.where(n > 1, two_point * rng.uniform(0.5, 1, len(n)), 0.0)


def lengths(n: np.ndarray, total: np.ndarray, high: np.ndarray, low: np.ndarray,
            rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Max, min, mean and std of one direction's packet lengths, consistent with its total."""
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(n > 0, total / n, 0.0)
    top = np.clip(np.round(high), np.ceil(mean), total)
    rest = np.where(n > 1, (total - top) / np.maximum(n - 1, 1), top)
    bottom = np.clip(np.round(low), 0, np.floor(np.minimum(mean, rest)))
    bottom = np.where(n == 1, total, bottom)
    return {"max": top, "min": bottom, "mean": mean, "std": spread(mean, bottom, top, n, rng)}


def gaps(total: np.ndarray, count: np.ndarray, high: np.ndarray, low: np.ndarray,
         rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Mean, std, max and min of `count` gaps that add up to `total` microseconds."""
    mean = np.where(count > 0, total / np.maximum(count, 1), 0.0)
    top = np.where(count > 1, np.clip(np.round(high), np.ceil(mean), total), mean)
    bottom = np.where(count > 1, np.clip(np.round(low), 0, np.floor(mean)), mean)
    std = spread(mean, bottom, top, count, rng)
    return {"total": total, "mean": mean, "std": std, "max": top, "min": bottom}


def direction_gaps(duration: np.ndarray, n: np.ndarray, flow: dict[str, np.ndarray],
                   rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Gaps between one direction's packets: a share of the flow's span, gaps no shorter."""
    total = np.round(duration * (n > 1) * rng.uniform(0.6, 1, len(n)))
    low = flow["min"] * (1 + rng.exponential(2, len(n)))
    return gaps(total, n - 1, np.maximum(flow["max"] * rng.uniform(0.5, 1, len(n)), low), low,
                rng)


def activity(duration: np.ndarray, longest_gap: np.ndarray,
             rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Idle periods (gaps over the activity timeout) and the active periods between them."""
    n = len(duration)
    idle_max = np.where(longest_gap > ACTIVITY_TIMEOUT, longest_gap, 0.0)
    idle_min = np.maximum(idle_max * rng.uniform(0.3, 1, n), ACTIVITY_TIMEOUT * (idle_max > 0))
    idle_min = np.minimum(idle_min, idle_max)
    active_mean = np.clip(duration - idle_max, 0, None) * rng.uniform(0.01, 0.5, n) * (idle_max > 0)
    return {
        "idle_mean": (idle_max + idle_min) / 2, "idle_std": (idle_max - idle_min) / 2,
        "idle_max": idle_max, "idle_min": idle_min,
        "active_mean": active_mean, "active_std": active_mean * rng.uniform(0, 0.5, n),
        "active_max": active_mean * rng.uniform(1, 2, n),
        "active_min": active_mean * rng.uniform(0, 1, n),
    }


def _rates(duration: np.ndarray, total_bytes: np.ndarray, packets: np.ndarray,
           fwd_n: np.ndarray, bwd_n: np.ndarray) -> dict[str, np.ndarray]:
    seconds = duration / 1e6
    with np.errstate(divide="ignore", invalid="ignore"):
        rates = {"flow_bytes_s": total_bytes / seconds, "flow_packets_s": packets / seconds,
                 "fwd_packets_s": fwd_n / seconds, "bwd_packets_s": bwd_n / seconds}
    for column in ("fwd_packets_s", "bwd_packets_s"):  # the tool writes 0 here
        rates[column][duration == 0] = 0
    return rates


def _packets(fwd: dict[str, np.ndarray], bwd: dict[str, np.ndarray], fwd_n: np.ndarray,
             bwd_n: np.ndarray, total_bytes: np.ndarray) -> dict[str, np.ndarray]:
    """Both directions together; the 2017 Packet Length Mean divides by packets + 1."""
    packets = fwd_n + bwd_n
    mean = total_bytes / packets
    pooled = (fwd_n * (fwd["std"] ** 2 + (fwd["mean"] - mean) ** 2)
              + bwd_n * (bwd["std"] ** 2 + (bwd["mean"] - mean) ** 2)) / packets
    return {
        "min_packet_length": np.where(bwd_n > 0, np.minimum(fwd["min"], bwd["min"]), fwd["min"]),
        "max_packet_length": np.maximum(fwd["max"], bwd["max"]),
        "packet_length_mean": total_bytes / (packets + 1), "packet_length_std": np.sqrt(pooled),
        "packet_length_variance": pooled, "average_packet_size": mean,
    }


def derive_features(base: dict[str, np.ndarray], profile: ClassProfile,
                    rng: np.random.Generator) -> dict[str, np.ndarray]:
    """All 78 features (canonical names) from the base quantities of `n` flows."""
    n = len(base["flow_duration"])
    fwd_n = np.maximum(np.round(base["total_fwd_packets"]), 1)
    bwd_n = np.round(base["total_backward_packets"])
    duration = np.round(base["flow_duration"]) * (fwd_n + bwd_n > 1)  # one packet spans 0 us
    fwd_bytes = np.round(base["total_length_of_fwd_packets"])
    bwd_bytes = np.round(base["total_length_of_bwd_packets"]) * (bwd_n > 0)
    fwd = lengths(fwd_n, fwd_bytes, base["fwd_packet_length_max"],
                  base["fwd_packet_length_min"], rng)
    bwd = lengths(bwd_n, bwd_bytes, base["bwd_packet_length_max"],
                  base["bwd_packet_length_min"], rng)
    flow = gaps(duration, fwd_n + bwd_n - 1, base["flow_iat_max"], base["flow_iat_min"], rng)
    fwd_iat = direction_gaps(duration, fwd_n, flow, rng)
    bwd_iat = direction_gaps(duration, bwd_n, flow, rng)
    flags = {flag: (rng.random(n) < share).astype(np.int64)
             for flag, share in profile.flags.items()}
    segment = profile.min_seg.draw(rng, n)
    data_packets = rng.binomial(fwd_n.astype(np.int64), profile.data_packet_share) * (fwd_bytes > 0)
    columns = {
        "flow_duration": duration, "total_fwd_packets": fwd_n, "total_backward_packets": bwd_n,
        "total_length_of_fwd_packets": fwd_bytes, "total_length_of_bwd_packets": bwd_bytes,
        **{f"fwd_packet_length_{k}": v for k, v in fwd.items()},
        **{f"bwd_packet_length_{k}": v for k, v in bwd.items()},
        **{f"flow_iat_{k}": v for k, v in flow.items() if k != "total"},
        **{f"fwd_iat_{k}": v for k, v in fwd_iat.items()},
        **{f"bwd_iat_{k}": v for k, v in bwd_iat.items()},
        **_rates(duration, fwd_bytes + bwd_bytes, fwd_n + bwd_n, fwd_n, bwd_n),
        **_packets(fwd, bwd, fwd_n, bwd_n, fwd_bytes + bwd_bytes),
        **flags, "fwd_psh_flags": flags["syn_flag_count"], "fwd_urg_flags": flags["cwe_flag_count"],
        "ece_flag_count": flags["rst_flag_count"], "bwd_psh_flags": 0, "bwd_urg_flags": 0,
        "fwd_header_length": fwd_n * segment, "bwd_header_length": bwd_n * segment,
        "fwd_header_length_1": fwd_n * segment, "down_up_ratio": bwd_n // fwd_n,
        "avg_fwd_segment_size": fwd["mean"], "avg_bwd_segment_size": bwd["mean"],
        "subflow_fwd_packets": fwd_n, "subflow_fwd_bytes": fwd_bytes,
        "subflow_bwd_packets": bwd_n, "subflow_bwd_bytes": bwd_bytes,
        "init_win_bytes_forward": profile.win_fwd.draw(rng, n),
        "init_win_bytes_backward": profile.win_bwd.draw(rng, n),
        "act_data_pkt_fwd": data_packets, "min_seg_size_forward": segment,
        **activity(duration, flow["max"], rng),
    }
    for bulk in ("fwd_avg_bytes_bulk", "fwd_avg_packets_bulk", "fwd_avg_bulk_rate",
                 "bwd_avg_bytes_bulk", "bwd_avg_packets_bulk", "bwd_avg_bulk_rate"):
        columns[bulk] = 0
    return columns
