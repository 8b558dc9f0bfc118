"""The CICIDS2017 CSV schema: official headers, canonical column names and the 15 labels."""

from __future__ import annotations

import re
import unicodedata

# The MachineLearningCVE header exactly as UNB ships it (leading spaces and the duplicate
# " Fwd Header Length" included). Both official variants share these 78 features.
OFFICIAL_FEATURE_HEADER: tuple[str, ...] = (
    " Destination Port", " Flow Duration", " Total Fwd Packets", " Total Backward Packets",
    "Total Length of Fwd Packets", " Total Length of Bwd Packets", " Fwd Packet Length Max",
    " Fwd Packet Length Min", " Fwd Packet Length Mean", " Fwd Packet Length Std",
    "Bwd Packet Length Max", " Bwd Packet Length Min", " Bwd Packet Length Mean",
    " Bwd Packet Length Std", "Flow Bytes/s", " Flow Packets/s", " Flow IAT Mean",
    " Flow IAT Std", " Flow IAT Max", " Flow IAT Min", "Fwd IAT Total", " Fwd IAT Mean",
    " Fwd IAT Std", " Fwd IAT Max", " Fwd IAT Min", "Bwd IAT Total", " Bwd IAT Mean",
    " Bwd IAT Std", " Bwd IAT Max", " Bwd IAT Min", "Fwd PSH Flags", " Bwd PSH Flags",
    " Fwd URG Flags", " Bwd URG Flags", " Fwd Header Length", " Bwd Header Length",
    "Fwd Packets/s", " Bwd Packets/s", " Min Packet Length", " Max Packet Length",
    " Packet Length Mean", " Packet Length Std", " Packet Length Variance", "FIN Flag Count",
    " SYN Flag Count", " RST Flag Count", " PSH Flag Count", " ACK Flag Count",
    " URG Flag Count", " CWE Flag Count", " ECE Flag Count", " Down/Up Ratio",
    " Average Packet Size", " Avg Fwd Segment Size", " Avg Bwd Segment Size",
    " Fwd Header Length", "Fwd Avg Bytes/Bulk", " Fwd Avg Packets/Bulk", " Fwd Avg Bulk Rate",
    " Bwd Avg Bytes/Bulk", " Bwd Avg Packets/Bulk", "Bwd Avg Bulk Rate", "Subflow Fwd Packets",
    " Subflow Fwd Bytes", " Subflow Bwd Packets", " Subflow Bwd Bytes", "Init_Win_bytes_forward",
    " Init_Win_bytes_backward", " act_data_pkt_fwd", " min_seg_size_forward", "Active Mean",
    " Active Std", " Active Max", " Active Min", "Idle Mean", " Idle Std", " Idle Max",
    " Idle Min",
)
LABEL_HEADER = " Label"
MACHINE_LEARNING_HEADER: tuple[str, ...] = (*OFFICIAL_FEATURE_HEADER, LABEL_HEADER)
# GeneratedLabelledFlows/TrafficLabelling: identifiers around " Destination Port".
TRAFFIC_LABELLING_HEADER: tuple[str, ...] = (
    "Flow ID", " Source IP", " Source Port", " Destination IP", " Destination Port",
    " Protocol", " Timestamp", *OFFICIAL_FEATURE_HEADER[1:], LABEL_HEADER,
)


def canonical_name(raw: str) -> str:
    """Snake-case a CICIDS2017 header cell: ' Flow Bytes/s' -> 'flow_bytes_s'."""
    name = raw.strip().lower()
    name = re.sub(r"\.(\d+)$", r"_\1", name)  # pandas' renamed duplicate "X.1" -> "x_1"
    return re.sub(r"[^0-9a-z]+", "_", name).strip("_")


def canonical_header(raw_header: list[str] | tuple[str, ...]) -> list[str]:
    """Canonical names for a header, numbering repeats the way pandas does ('x', 'x_1')."""
    seen: dict[str, int] = {}
    names = []
    for cell in raw_header:
        name = canonical_name(cell)
        count = seen.get(name, 0)
        seen[name] = count + 1
        names.append(name if count == 0 else f"{name}_{count}")
    return names


FEATURE_COLUMNS: tuple[str, ...] = tuple(canonical_header(OFFICIAL_FEATURE_HEADER))
LABEL_COLUMN = "label"
PREDICTION_COLUMN = "prediction"  # the predicted class, in scored frames and saved scores

LABELS: tuple[str, ...] = (
    "BENIGN", "DoS Hulk", "PortScan", "DDoS", "DoS GoldenEye", "FTP-Patator", "SSH-Patator",
    "DoS slowloris", "DoS Slowhttptest", "Bot", "Web Attack - Brute Force", "Web Attack - XSS",
    "Web Attack - Sql Injection", "Infiltration", "Heartbleed",
)
# The attack families a config option may group the 15 labels into.
LABEL_FAMILIES: dict[str, str] = {
    "BENIGN": "BENIGN",
    "DoS Hulk": "DoS", "DoS GoldenEye": "DoS", "DoS slowloris": "DoS",
    "DoS Slowhttptest": "DoS", "Heartbleed": "DoS",
    "DDoS": "DDoS",
    "PortScan": "PortScan",
    "FTP-Patator": "Brute Force", "SSH-Patator": "Brute Force",
    "Bot": "Bot",
    "Web Attack - Brute Force": "Web Attack", "Web Attack - XSS": "Web Attack",
    "Web Attack - Sql Injection": "Web Attack",
    "Infiltration": "Infiltration",
}

# Every spelling of the web-attack dash seen in the wild: U+FFFD (MachineLearningCVE),
# cp1252 0x96 read as cp1252 (U+2013) or as latin-1 (U+0096, also what UTF-8 "\xc2\x96" decodes
# to), and en/em dashes from re-saving tools.
_DASHES = "\ufffd\u2013\u2014\u0096"
_LABEL_KEYS = {re.sub(r"\s+", " ", label).casefold(): label for label in LABELS}


def decode_label(raw: bytes) -> str:
    """Decode label bytes: UTF-8 where valid, cp1252 otherwise (TrafficLabelling's 0x96)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def canonical_label(raw: str) -> str | None:
    """The canonical label for a raw spelling, or None when it is not a CICIDS2017 label.

    The corrected re-release (Engelen et al., 2021) marks attacks that never reached their
    target "<label> - Attempted"; their flows carry no attack, so they count as BENIGN.
    """
    text = unicodedata.normalize("NFC", raw)
    text = re.sub(f"[{_DASHES}]", "-", text)
    text = re.sub(r"\s+", " ", text).strip()
    attempted = re.fullmatch(r"(.+?) ?- ?Attempted", text, flags=re.IGNORECASE)
    if attempted and attempted.group(1).casefold() in _LABEL_KEYS:
        return "BENIGN"
    return _LABEL_KEYS.get(text.casefold())
