"""The flow CSV formats users bring, told apart by their header, mapped to the 2017 features.

The same CICFlowMeter features reach users under four sets of names: the 2017 release
(MachineLearningCVE and TrafficLabelling), CICFlowMeter-V4 (the corrected CIC-IDS-2017 of
Engelen et al.), CSE-CIC-IDS2018 (CICFlowMeter-V3's abbreviations), and the Python
`cicflowmeter` package (snake_case). `FEATURE_NAMES` is the one table of them. Durations and
inter-arrival times are microseconds in every Java CICFlowMeter format; the Python package's
0.1.9 and 0.2.0 write microseconds too, but captures of other versions hold seconds, so for
that format the unit is read off the rates of each file.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from nids.data.schema import FEATURE_COLUMNS, canonical_name

logger = logging.getLogger(__name__)

# canonical feature: (2017 release, CICFlowMeter-V4 / corrected CIC-IDS-2017, CSE-CIC-IDS2018,
# Python cicflowmeter 0.1.9 and 0.2.0). Only the 2017 files hold fwd_header_length twice.
FEATURE_NAMES: dict[str, tuple[str, str, str, str]] = {
    "destination_port": ("Destination Port", "Dst Port", "Dst Port", "dst_port"),
    "flow_duration": ("Flow Duration", "Flow Duration", "Flow Duration", "flow_duration"),
    "total_fwd_packets": ("Total Fwd Packets", "Total Fwd Packet", "Tot Fwd Pkts", "tot_fwd_pkts"),
    "total_backward_packets": ("Total Backward Packets", "Total Bwd packets",
                               "Tot Bwd Pkts", "tot_bwd_pkts"),
    "total_length_of_fwd_packets": ("Total Length of Fwd Packets", "Total Length of Fwd Packet",
                                    "TotLen Fwd Pkts", "totlen_fwd_pkts"),
    "total_length_of_bwd_packets": ("Total Length of Bwd Packets", "Total Length of Bwd Packet",
                                    "TotLen Bwd Pkts", "totlen_bwd_pkts"),
    "fwd_packet_length_max": ("Fwd Packet Length Max", "Fwd Packet Length Max",
                              "Fwd Pkt Len Max", "fwd_pkt_len_max"),
    "fwd_packet_length_min": ("Fwd Packet Length Min", "Fwd Packet Length Min",
                              "Fwd Pkt Len Min", "fwd_pkt_len_min"),
    "fwd_packet_length_mean": ("Fwd Packet Length Mean", "Fwd Packet Length Mean",
                               "Fwd Pkt Len Mean", "fwd_pkt_len_mean"),
    "fwd_packet_length_std": ("Fwd Packet Length Std", "Fwd Packet Length Std",
                              "Fwd Pkt Len Std", "fwd_pkt_len_std"),
    "bwd_packet_length_max": ("Bwd Packet Length Max", "Bwd Packet Length Max",
                              "Bwd Pkt Len Max", "bwd_pkt_len_max"),
    "bwd_packet_length_min": ("Bwd Packet Length Min", "Bwd Packet Length Min",
                              "Bwd Pkt Len Min", "bwd_pkt_len_min"),
    "bwd_packet_length_mean": ("Bwd Packet Length Mean", "Bwd Packet Length Mean",
                               "Bwd Pkt Len Mean", "bwd_pkt_len_mean"),
    "bwd_packet_length_std": ("Bwd Packet Length Std", "Bwd Packet Length Std",
                              "Bwd Pkt Len Std", "bwd_pkt_len_std"),
    "flow_bytes_s": ("Flow Bytes/s", "Flow Bytes/s", "Flow Byts/s", "flow_byts_s"),
    "flow_packets_s": ("Flow Packets/s", "Flow Packets/s", "Flow Pkts/s", "flow_pkts_s"),
    "flow_iat_mean": ("Flow IAT Mean", "Flow IAT Mean", "Flow IAT Mean", "flow_iat_mean"),
    "flow_iat_std": ("Flow IAT Std", "Flow IAT Std", "Flow IAT Std", "flow_iat_std"),
    "flow_iat_max": ("Flow IAT Max", "Flow IAT Max", "Flow IAT Max", "flow_iat_max"),
    "flow_iat_min": ("Flow IAT Min", "Flow IAT Min", "Flow IAT Min", "flow_iat_min"),
    "fwd_iat_total": ("Fwd IAT Total", "Fwd IAT Total", "Fwd IAT Tot", "fwd_iat_tot"),
    "fwd_iat_mean": ("Fwd IAT Mean", "Fwd IAT Mean", "Fwd IAT Mean", "fwd_iat_mean"),
    "fwd_iat_std": ("Fwd IAT Std", "Fwd IAT Std", "Fwd IAT Std", "fwd_iat_std"),
    "fwd_iat_max": ("Fwd IAT Max", "Fwd IAT Max", "Fwd IAT Max", "fwd_iat_max"),
    "fwd_iat_min": ("Fwd IAT Min", "Fwd IAT Min", "Fwd IAT Min", "fwd_iat_min"),
    "bwd_iat_total": ("Bwd IAT Total", "Bwd IAT Total", "Bwd IAT Tot", "bwd_iat_tot"),
    "bwd_iat_mean": ("Bwd IAT Mean", "Bwd IAT Mean", "Bwd IAT Mean", "bwd_iat_mean"),
    "bwd_iat_std": ("Bwd IAT Std", "Bwd IAT Std", "Bwd IAT Std", "bwd_iat_std"),
    "bwd_iat_max": ("Bwd IAT Max", "Bwd IAT Max", "Bwd IAT Max", "bwd_iat_max"),
    "bwd_iat_min": ("Bwd IAT Min", "Bwd IAT Min", "Bwd IAT Min", "bwd_iat_min"),
    "fwd_psh_flags": ("Fwd PSH Flags", "Fwd PSH Flags", "Fwd PSH Flags", "fwd_psh_flags"),
    "bwd_psh_flags": ("Bwd PSH Flags", "Bwd PSH Flags", "Bwd PSH Flags", "bwd_psh_flags"),
    "fwd_urg_flags": ("Fwd URG Flags", "Fwd URG Flags", "Fwd URG Flags", "fwd_urg_flags"),
    "bwd_urg_flags": ("Bwd URG Flags", "Bwd URG Flags", "Bwd URG Flags", "bwd_urg_flags"),
    "fwd_header_length": ("Fwd Header Length", "Fwd Header Length",
                          "Fwd Header Len", "fwd_header_len"),
    "bwd_header_length": ("Bwd Header Length", "Bwd Header Length",
                          "Bwd Header Len", "bwd_header_len"),
    "fwd_packets_s": ("Fwd Packets/s", "Fwd Packets/s", "Fwd Pkts/s", "fwd_pkts_s"),
    "bwd_packets_s": ("Bwd Packets/s", "Bwd Packets/s", "Bwd Pkts/s", "bwd_pkts_s"),
    "min_packet_length": ("Min Packet Length", "Packet Length Min", "Pkt Len Min", "pkt_len_min"),
    "max_packet_length": ("Max Packet Length", "Packet Length Max", "Pkt Len Max", "pkt_len_max"),
    "packet_length_mean": ("Packet Length Mean", "Packet Length Mean",
                           "Pkt Len Mean", "pkt_len_mean"),
    "packet_length_std": ("Packet Length Std", "Packet Length Std", "Pkt Len Std", "pkt_len_std"),
    "packet_length_variance": ("Packet Length Variance", "Packet Length Variance",
                               "Pkt Len Var", "pkt_len_var"),
    "fin_flag_count": ("FIN Flag Count", "FIN Flag Count", "FIN Flag Cnt", "fin_flag_cnt"),
    "syn_flag_count": ("SYN Flag Count", "SYN Flag Count", "SYN Flag Cnt", "syn_flag_cnt"),
    "rst_flag_count": ("RST Flag Count", "RST Flag Count", "RST Flag Cnt", "rst_flag_cnt"),
    "psh_flag_count": ("PSH Flag Count", "PSH Flag Count", "PSH Flag Cnt", "psh_flag_cnt"),
    "ack_flag_count": ("ACK Flag Count", "ACK Flag Count", "ACK Flag Cnt", "ack_flag_cnt"),
    "urg_flag_count": ("URG Flag Count", "URG Flag Count", "URG Flag Cnt", "urg_flag_cnt"),
    "cwe_flag_count": ("CWE Flag Count", "CWR Flag Count", "CWE Flag Count", "cwr_flag_count"),
    "ece_flag_count": ("ECE Flag Count", "ECE Flag Count", "ECE Flag Cnt", "ece_flag_cnt"),
    "down_up_ratio": ("Down/Up Ratio", "Down/Up Ratio", "Down/Up Ratio", "down_up_ratio"),
    "average_packet_size": ("Average Packet Size", "Average Packet Size",
                            "Pkt Size Avg", "pkt_size_avg"),
    "avg_fwd_segment_size": ("Avg Fwd Segment Size", "Fwd Segment Size Avg",
                             "Fwd Seg Size Avg", "fwd_seg_size_avg"),
    "avg_bwd_segment_size": ("Avg Bwd Segment Size", "Bwd Segment Size Avg",
                             "Bwd Seg Size Avg", "bwd_seg_size_avg"),
    "fwd_header_length_1": ("Fwd Header Length", "Fwd Header Length",
                            "Fwd Header Len", "fwd_header_len"),
    "fwd_avg_bytes_bulk": ("Fwd Avg Bytes/Bulk", "Fwd Bytes/Bulk Avg",
                           "Fwd Byts/b Avg", "fwd_byts_b_avg"),
    "fwd_avg_packets_bulk": ("Fwd Avg Packets/Bulk", "Fwd Packet/Bulk Avg",
                             "Fwd Pkts/b Avg", "fwd_pkts_b_avg"),
    "fwd_avg_bulk_rate": ("Fwd Avg Bulk Rate", "Fwd Bulk Rate Avg",
                          "Fwd Blk Rate Avg", "fwd_blk_rate_avg"),
    "bwd_avg_bytes_bulk": ("Bwd Avg Bytes/Bulk", "Bwd Bytes/Bulk Avg",
                           "Bwd Byts/b Avg", "bwd_byts_b_avg"),
    "bwd_avg_packets_bulk": ("Bwd Avg Packets/Bulk", "Bwd Packet/Bulk Avg",
                             "Bwd Pkts/b Avg", "bwd_pkts_b_avg"),
    "bwd_avg_bulk_rate": ("Bwd Avg Bulk Rate", "Bwd Bulk Rate Avg",
                          "Bwd Blk Rate Avg", "bwd_blk_rate_avg"),
    "subflow_fwd_packets": ("Subflow Fwd Packets", "Subflow Fwd Packets",
                            "Subflow Fwd Pkts", "subflow_fwd_pkts"),
    "subflow_fwd_bytes": ("Subflow Fwd Bytes", "Subflow Fwd Bytes",
                          "Subflow Fwd Byts", "subflow_fwd_byts"),
    "subflow_bwd_packets": ("Subflow Bwd Packets", "Subflow Bwd Packets",
                            "Subflow Bwd Pkts", "subflow_bwd_pkts"),
    "subflow_bwd_bytes": ("Subflow Bwd Bytes", "Subflow Bwd Bytes",
                          "Subflow Bwd Byts", "subflow_bwd_byts"),
    "init_win_bytes_forward": ("Init_Win_bytes_forward", "FWD Init Win Bytes",
                               "Init Fwd Win Byts", "init_fwd_win_byts"),
    "init_win_bytes_backward": ("Init_Win_bytes_backward", "Bwd Init Win Bytes",
                                "Init Bwd Win Byts", "init_bwd_win_byts"),
    "act_data_pkt_fwd": ("act_data_pkt_fwd", "Fwd Act Data Pkts",
                         "Fwd Act Data Pkts", "fwd_act_data_pkts"),
    "min_seg_size_forward": ("min_seg_size_forward", "Fwd Seg Size Min",
                             "Fwd Seg Size Min", "fwd_seg_size_min"),
    "active_mean": ("Active Mean", "Active Mean", "Active Mean", "active_mean"),
    "active_std": ("Active Std", "Active Std", "Active Std", "active_std"),
    "active_max": ("Active Max", "Active Max", "Active Max", "active_max"),
    "active_min": ("Active Min", "Active Min", "Active Min", "active_min"),
    "idle_mean": ("Idle Mean", "Idle Mean", "Idle Mean", "idle_mean"),
    "idle_std": ("Idle Std", "Idle Std", "Idle Std", "idle_std"),
    "idle_max": ("Idle Max", "Idle Max", "Idle Max", "idle_max"),
    "idle_min": ("Idle Min", "Idle Min", "Idle Min", "idle_min"),
}
# Durations and inter-arrival times: the columns whose unit differs between writers.
TIME_COLUMNS: tuple[str, ...] = tuple(
    c for c in FEATURE_COLUMNS
    if c == "flow_duration" or "_iat_" in c or c.startswith(("active_", "idle_"))
)
LABEL_KEYS = ("label", "labels")
ATTEMPTED_KEY = "attempted_category"
_UNITS = {6: ("microseconds", 1.0), 3: ("milliseconds", 1e3), 0: ("seconds", 1e6)}


@dataclass(frozen=True)
class FlowFormat:
    """One writer's header: where each 2017 feature is, and what else it holds."""

    title: str
    names: dict[str, str]              # canonical feature -> header name
    identifiers: tuple[str, ...]       # never features
    detect_unit: bool = False          # True: times may be seconds; read them off the rates

    def key(self, feature: str) -> str:
        """The feature's header name as `schema.canonical_header` spells it."""
        return feature if self is CICIDS2017 else canonical_name(self.names[feature])


def _names(position: int) -> dict[str, str]:
    return {feature: names[position] for feature, names in FEATURE_NAMES.items()}


CICIDS2017 = FlowFormat(
    "CICIDS2017 (MachineLearningCVE / TrafficLabelling)", _names(0),
    ("Flow ID", "Source IP", "Source Port", "Destination IP", "Protocol", "Timestamp"),
)
CICFLOWMETER_V4 = FlowFormat(
    "CICFlowMeter-V4 (corrected CIC-IDS-2017)", _names(1),
    ("id", "Flow ID", "Src IP", "Src Port", "Dst IP", "Protocol", "Timestamp"),
)
CSE_CIC_IDS2018 = FlowFormat(
    "CSE-CIC-IDS2018 (CICFlowMeter-V3)", _names(2),
    ("Flow ID", "Src IP", "Src Port", "Dst IP", "Protocol", "Timestamp"),
)
CICFLOWMETER_PYTHON = FlowFormat(
    "cicflowmeter (Python package)", _names(3),
    ("src_ip", "dst_ip", "src_port", "protocol", "timestamp"), detect_unit=True,
)
FORMATS = (CICIDS2017, CICFLOWMETER_V4, CSE_CIC_IDS2018, CICFLOWMETER_PYTHON)
_IDENTIFIER_KEYS = {canonical_name(n) for f in FORMATS for n in f.identifiers}


@dataclass(frozen=True)
class HeaderMatch:
    """A header read as `format`: the header key of each feature, label and extra columns."""

    format: FlowFormat
    columns: dict[str, str]            # canonical feature -> header key
    label: str | None                  # header key of the label column
    attempted: str | None              # header key of "Attempted Category"
    ignored: tuple[str, ...]           # header cells that are neither features nor labels
    missing: tuple[str, ...] = ()      # features the format names that the header lacks


def _match(fmt: FlowFormat, keys: list[str], header: list[str]) -> HeaderMatch:
    present = set(keys)
    columns = {f: fmt.key(f) for f in FEATURE_COLUMNS if fmt.key(f) in present}
    optional = {"fwd_header_length_1"} if fmt is CICIDS2017 else set()
    missing = tuple(f for f in FEATURE_COLUMNS if f not in columns and f not in optional)
    label = next((k for k in keys if k in LABEL_KEYS), None)
    attempted = ATTEMPTED_KEY if ATTEMPTED_KEY in present else None
    used = {*columns.values(), label, attempted, *_IDENTIFIER_KEYS}
    ignored = tuple(cell.strip() for cell, key in zip(header, keys, strict=True)
                    if key not in used)
    return HeaderMatch(fmt, columns, label, attempted, ignored, missing)


def match_header(header: list[str], keys: list[str], name: str) -> HeaderMatch:
    """The format whose every 2017 feature the header holds; an error names the closest."""
    matches = sorted((_match(fmt, keys, header) for fmt in FORMATS),
                     key=lambda m: len(m.missing))
    best = matches[0]
    if best.missing:
        lacking = [f"{f} ({best.format.names[f]!r})" for f in best.missing]
        shown = ", ".join(lacking[:8]) + (" ..." if len(lacking) > 8 else "")
        raise ValueError(
            f"{name}: {len(lacking)} expected column(s) missing: {shown}. The header matches "
            f"no known flow format; the closest is {best.format.title}. Known formats: "
            + "; ".join(f.title for f in FORMATS) + ". Export the file with all CICFlowMeter "
            "features, or rename its columns to one of these formats."
        )
    return best


def detect_time_unit(table: pa.Table) -> tuple[str, float] | None:
    """(unit, factor to microseconds) of the times, read off `flow_packets_s`.

    A rate is packets over the duration in seconds, so duration / (packets / rate) is 1e6
    for microseconds and 1 for seconds. None when no flow has a duration and a rate.
    """
    def values(column: str) -> np.ndarray:
        return table[column].to_numpy().astype(np.float64)

    duration, rate = values("flow_duration"), values("flow_packets_s")
    packets = values("total_fwd_packets") + values("total_backward_packets")
    with np.errstate(invalid="ignore"):
        usable = (duration > 0) & (rate > 0) & np.isfinite(rate) & (packets > 0)
    if not usable.any():
        return None
    exponent = float(np.median(np.log10(duration[usable] * rate[usable] / packets[usable])))
    nearest = min(_UNITS, key=lambda e: abs(e - exponent))
    return _UNITS[nearest] if abs(nearest - exponent) < 0.5 else None


def convert_times(table: pa.Table, factor: float) -> pa.Table:
    """The table with its time columns scaled by `factor` (to microseconds)."""
    for column in TIME_COLUMNS:
        position = table.schema.get_field_index(column)
        scaled = pc.multiply(table[column], pa.scalar(factor, pa.float32()))
        table = table.set_column(position, column, scaled)
    return table


def normalize_units(table: pa.Table, fmt: FlowFormat, name: str) -> tuple[pa.Table, str]:
    """The table with times in microseconds where its format may differ; the unit read."""
    if not fmt.detect_unit:
        return table, "microseconds"
    detected = detect_time_unit(table)
    if detected is None:
        logger.warning("%s: the time unit cannot be read off the rates (no flow with a duration "
                       "and a packet rate); assuming microseconds, as cicflowmeter 0.2.0 writes",
                       name)
        return table, "microseconds (assumed)"
    unit, factor = detected
    if factor == 1.0:
        return table, unit
    return convert_times(table, factor), f"{unit}, converted to microseconds"
