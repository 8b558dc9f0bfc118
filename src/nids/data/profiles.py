"""The per-class profiles of generated flows: fitted statistics of real rows, and sampling.

`class_profiles.json` (written by scripts/fit_class_profiles.py from the real rows in
../shared/) holds, per class, the quantiles of log1p of a few base quantities, the correlation
of their normal scores, and the shares of ports, window sizes and flags. Base quantities are
drawn through a Gaussian copula: correlated normals, mapped to uniforms, then through each
quantity's fitted quantile function, so marginals and rank correlations follow the real rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from scipy.special import ndtr

PROFILE_TABLE = Path(__file__).with_name("class_profiles.json")
BASE_QUANTITIES: tuple[str, ...] = (
    "flow_duration", "total_fwd_packets", "total_backward_packets",
    "total_length_of_fwd_packets", "total_length_of_bwd_packets",
    "fwd_packet_length_max", "fwd_packet_length_min",
    "bwd_packet_length_max", "bwd_packet_length_min", "flow_iat_max", "flow_iat_min",
)
QUANTILES: list[float] = [0, 0.01, 0.025, 0.05, *np.round(np.arange(0.1, 0.91, 0.05), 2).tolist(),
                          0.95, 0.975, 0.99, 1]
FLAGS: tuple[str, ...] = ("fin_flag_count", "syn_flag_count", "rst_flag_count", "psh_flag_count",
                          "ack_flag_count", "urg_flag_count", "cwe_flag_count")


@dataclass(frozen=True)
class Choice:
    """A discrete column: values and their shares."""

    values: np.ndarray
    shares: np.ndarray

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.choice(self.values, n, p=self.shares / self.shares.sum())


@dataclass(frozen=True)
class ClassProfile:
    """Fitted statistics of one class (or one component of BENIGN)."""

    quantiles: np.ndarray        # base quantity x QUANTILES, log1p values
    cholesky: np.ndarray         # of the normal-score correlation
    ports: Choice
    other_ports: float           # share of ports outside `ports` (drawn at random)
    win_fwd: Choice
    win_bwd: Choice
    min_seg: Choice
    flags: dict[str, float]
    data_packet_share: float
    share: float = 1.0           # of its class (BENIGN components only)


def _choice(entry: dict) -> Choice:
    return Choice(np.array(entry["values"], dtype=np.float64), np.array(entry["shares"]))


def _profile(entry: dict) -> ClassProfile:
    return ClassProfile(
        quantiles=np.array(entry["quantiles"]),
        cholesky=np.linalg.cholesky(np.array(entry["correlation"])),
        ports=_choice(entry["ports"]), other_ports=entry["ports"]["other"],
        win_fwd=_choice(entry["init_win_bytes_forward"]),
        win_bwd=_choice(entry["init_win_bytes_backward"]),
        min_seg=_choice(entry["min_seg_size_forward"]), flags=entry["flags"],
        data_packet_share=entry["data_packet_share"], share=entry.get("share", 1.0),
    )


@cache
def load_profiles(path: Path = PROFILE_TABLE) -> dict[str, ClassProfile]:
    """Profiles by class name; BENIGN's components are named `BENIGN:<component>`."""
    try:
        table = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ValueError(f"Cannot read the class profile table {path}: {error}; "
                         "rebuild it with scripts/fit_class_profiles.py.") from error
    if tuple(table["quantities"]) != BASE_QUANTITIES or table["quantiles"] != QUANTILES:
        raise ValueError(f"{path} was fitted for other base quantities or quantiles; "
                         "rebuild it with scripts/fit_class_profiles.py.")
    return {name: _profile(entry) for name, entry in table["profiles"].items()}


def sample_base(profile: ClassProfile, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """`n` draws of the base quantities (non-negative, unrounded) through the copula."""
    normals = rng.standard_normal((n, len(BASE_QUANTITIES))) @ profile.cholesky.T
    uniforms = ndtr(normals)
    grid = np.array(QUANTILES)
    return {name: np.expm1(np.interp(uniforms[:, i], grid, profile.quantiles[i]))
            for i, name in enumerate(BASE_QUANTITIES)}


def sample_ports(profile: ClassProfile, n: int, rng: np.random.Generator) -> np.ndarray:
    """Fitted ports, and a random port for the share of the rest."""
    random_ports = rng.integers(1, 65536, n)
    if not len(profile.ports.values):  # e.g. PortScan: no port holds 1 % of the flows
        return random_ports
    other = rng.random(n) < profile.other_ports
    return np.where(other, random_ports, profile.ports.draw(rng, n))
