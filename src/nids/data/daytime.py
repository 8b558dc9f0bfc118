"""When generated flows happen: the working day of each file, benign volume, attack windows.

The attack windows are the CICIDS2017 schedule (Sharafaldin et al., ICISSP 2018, and the
dataset's page at UNB), in local hours. Benign volume follows a working-day curve (quiet
start, lunch dip, quiet end) with a seeded ten-minute modulation, and the mix of BENIGN's
components (DNS, web, other) drifts from one ten-minute bin to the next, so consecutive
slices of a generated day differ the way consecutive slices of a real day do.
"""

from __future__ import annotations

import numpy as np

BIN_HOURS = 1 / 6  # ten minutes
MORNING, AFTERNOON, WHOLE_DAY = (8.9, 12.1), (12.5, 17.1), (8.9, 17.1)
FILE_HOURS: dict[str, tuple[float, float]] = {
    "Monday-WorkingHours.pcap_ISCX.csv": WHOLE_DAY,
    "Tuesday-WorkingHours.pcap_ISCX.csv": WHOLE_DAY,
    "Wednesday-workingHours.pcap_ISCX.csv": WHOLE_DAY,
    "Thursday-WorkingHours-Morning-WebAttacks.pcap_ISCX.csv": MORNING,
    "Thursday-WorkingHours-Afternoon-Infilteration.pcap_ISCX.csv": AFTERNOON,
    "Friday-WorkingHours-Morning.pcap_ISCX.csv": MORNING,
    "Friday-WorkingHours-Afternoon-PortScan.pcap_ISCX.csv": AFTERNOON,
    "Friday-WorkingHours-Afternoon-DDos.pcap_ISCX.csv": AFTERNOON,
}


def _h(hour: int, minute: int) -> float:
    return hour + minute / 60


ATTACK_WINDOWS: dict[str, tuple[tuple[float, float], ...]] = {
    "FTP-Patator": ((_h(9, 20), _h(10, 20)),),
    "SSH-Patator": ((_h(14, 0), _h(15, 0)),),
    "DoS slowloris": ((_h(9, 47), _h(10, 10)),),
    "DoS Slowhttptest": ((_h(10, 14), _h(10, 35)),),
    "DoS Hulk": ((_h(10, 43), _h(11, 0)),),
    "DoS GoldenEye": ((_h(11, 10), _h(11, 23)),),
    "Heartbleed": ((_h(15, 12), _h(15, 32)),),
    "Web Attack - Brute Force": ((_h(9, 20), _h(10, 0)),),
    "Web Attack - XSS": ((_h(10, 15), _h(10, 35)),),
    "Web Attack - Sql Injection": ((_h(10, 40), _h(10, 42)),),
    "Infiltration": ((_h(14, 19), _h(14, 21)), (_h(14, 33), _h(14, 35)),
                     (_h(14, 53), _h(15, 0)), (_h(15, 4), _h(15, 45))),
    "Bot": ((_h(10, 2), _h(11, 2)),),
    "PortScan": ((_h(13, 55), _h(14, 35)),),
    "DDoS": ((_h(15, 56), _h(16, 16)),),
}
# Relative benign volume by hour of day (index 8 = 8:00-9:00).
HOURLY_VOLUME = np.array([0.0] * 8 + [0.5, 0.9, 1.0, 1.0, 0.7, 0.8, 1.0, 0.95, 0.8, 0.4]
                         + [0.0] * 6)


def bins_of(hours: tuple[float, float]) -> np.ndarray:
    """Start hours of the ten-minute bins covering `hours`."""
    return np.arange(hours[0], hours[1], BIN_HOURS)


def benign_times(n: int, hours: tuple[float, float], rng: np.random.Generator) -> np.ndarray:
    """`n` hours of day drawn from the working-day volume curve with a seeded modulation."""
    starts = bins_of(hours)
    volume = HOURLY_VOLUME[starts.astype(int)] * rng.lognormal(0, 0.25, len(starts))
    chosen = rng.choice(len(starts), n, p=volume / volume.sum())
    ends = np.minimum(starts + BIN_HOURS, hours[1])
    return starts[chosen] + rng.random(n) * (ends - starts)[chosen]


def attack_times(label: str, n: int, hours: tuple[float, float],
                 rng: np.random.Generator) -> np.ndarray:
    """`n` hours of day inside the attack's real windows (the file's hours if it has none)."""
    windows = np.array(ATTACK_WINDOWS.get(label, (hours,)))
    lengths = windows[:, 1] - windows[:, 0]
    chosen = rng.choice(len(windows), n, p=lengths / lengths.sum())
    return windows[chosen, 0] + rng.random(n) * lengths[chosen]


def component_weights(shares: np.ndarray, bins: int, rng: np.random.Generator) -> np.ndarray:
    """Per bin, the mix of BENIGN's components: the fitted shares, drifting (bins x components)."""
    steps = rng.normal(0, 0.35, (bins, len(shares)))
    walk = np.zeros_like(steps)
    for i in range(1, bins):  # mean-reverting random walk in log space
        walk[i] = 0.8 * walk[i - 1] + steps[i]
    weights = shares * np.exp(walk)
    return weights / weights.sum(axis=1, keepdims=True)


def choose_components(times: np.ndarray, hours: tuple[float, float], shares: np.ndarray,
                      rng: np.random.Generator) -> np.ndarray:
    """The component index of each benign flow, by the mix of its ten-minute bin."""
    bins = len(bins_of(hours))
    weights = component_weights(shares, bins, rng)
    row_bin = np.clip(((times - hours[0]) / BIN_HOURS).astype(int), 0, bins - 1)
    cumulative = weights.cumsum(axis=1)[row_bin]
    return (rng.random(len(times))[:, None] > cumulative[:, :-1]).sum(axis=1)
