"""The CICIDS2017 CSV schema: official headers, canonical column names, the labels of every
release and the policies that turn them into classes."""

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
BENIGN = "BENIGN"   # the class of benign flows, by label and by family

# The 15 labels of the official CICIDS2017 files.
CICIDS2017_LABELS: tuple[str, ...] = (
    "BENIGN", "DoS Hulk", "PortScan", "DDoS", "DoS GoldenEye", "FTP-Patator", "SSH-Patator",
    "DoS slowloris", "DoS Slowhttptest", "Bot", "Web Attack - Brute Force", "Web Attack - XSS",
    "Web Attack - Sql Injection", "Infiltration", "Heartbleed",
)
# Classes only the corrected CIC-IDS-2017 (Engelen et al., 2021) gives rise to, under the
# `own_class` policies of `label_class`: the port scan run from the infiltrated host, and
# attacks that never reached their target ("<label> - Attempted").
INFILTRATION_PORTSCAN = "Infiltration - Portscan"
ATTEMPTED = "Attempted"
LABELS: tuple[str, ...] = (*CICIDS2017_LABELS, INFILTRATION_PORTSCAN, ATTEMPTED)
# The attack families a config option may group the labels into.
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
    "Infiltration": "Infiltration", INFILTRATION_PORTSCAN: "Infiltration",
    ATTEMPTED: "Attempted",
}
# Other releases' names of the same attacks (differences of case and spacing need no entry).
LABEL_ALIASES: dict[str, str] = {
    # corrected CIC-IDS-2017 (Portscan, DoS Slowloris, Web Attack - SQL Injection: case only)
    "Botnet": "Bot",
    # CSE-CIC-IDS2018: the same attack tools two years later
    "Infilteration": "Infiltration",
    "Brute Force -Web": "Web Attack - Brute Force", "Brute Force -XSS": "Web Attack - XSS",
    "SQL Injection": "Web Attack - Sql Injection",
    "FTP-BruteForce": "FTP-Patator", "SSH-Bruteforce": "SSH-Patator",
    "DoS attacks-Hulk": "DoS Hulk", "DoS attacks-GoldenEye": "DoS GoldenEye",
    "DoS attacks-Slowloris": "DoS slowloris", "DoS attacks-SlowHTTPTest": "DoS Slowhttptest",
    "DDoS attacks-LOIC-HTTP": "DDoS", "DDOS attack-HOIC": "DDoS", "DDOS attack-LOIC-UDP": "DDoS",
}
# Label policies (nids.config.LabelPolicy): a row keeps its own class, counts as BENIGN, is
# dropped, or (attempts only) takes the label of the attack attempted.
OWN_CLASS, AS_BENIGN, DROP, AS_ATTACK = "own_class", "benign", "drop", "attack"

# Every spelling of the web-attack dash seen in the wild: U+FFFD (MachineLearningCVE),
# cp1252 0x96 read as cp1252 (U+2013) or as latin-1 (U+0096, also what UTF-8 "\xc2\x96" decodes
# to), and en/em dashes from re-saving tools.
_DASHES = "\ufffd\u2013\u2014\u0096"


def _normalized(raw: str) -> str:
    text = unicodedata.normalize("NFC", raw)
    text = re.sub(f"[{_DASHES}]", "-", text)
    return re.sub(r"\s+", " ", text).strip()


def _key(text: str) -> str:
    return re.sub(r"\s+", "", text).casefold()


_LABEL_KEYS = {_key(label): label for label in LABELS if label != ATTEMPTED} | {
    _key(alias): label for alias, label in LABEL_ALIASES.items()
}


def decode_label(raw: bytes) -> str:
    """Decode label bytes: UTF-8 where valid, cp1252 otherwise (TrafficLabelling's 0x96)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def parse_label(raw: str) -> tuple[str, bool] | None:
    """(canonical label, whether the row is an attempt) of a raw spelling; None if unknown.

    The corrected re-release marks attacks that never reached their target
    "<label> - Attempted"; the label returned is then the attack's.
    """
    text = _normalized(raw)
    attempted = re.fullmatch(r"(.+?) ?- ?Attempted", text, flags=re.IGNORECASE)
    label = _LABEL_KEYS.get(_key(attempted.group(1) if attempted else text))
    return None if label is None else (label, attempted is not None)


def label_class(label: str, attempted: bool, infiltration_portscan: str = OWN_CLASS,
                attempted_policy: str = AS_BENIGN) -> str | None:
    """The class a row of `label` counts as under the label policies; None: drop the row.

    `infiltration_portscan` is own_class, drop, or the label to count it as;
    `attempted_policy` is own_class (class "Attempted"), benign, attack or drop.
    """
    if attempted and attempted_policy != AS_ATTACK:
        return {OWN_CLASS: ATTEMPTED, AS_BENIGN: "BENIGN", DROP: None}[attempted_policy]
    if label == INFILTRATION_PORTSCAN and infiltration_portscan != OWN_CLASS:
        return None if infiltration_portscan == DROP else infiltration_portscan
    return label


def canonical_label(raw: str) -> str | None:
    """The class of a raw label spelling under the default policies; None when unknown."""
    parsed = parse_label(raw)
    return None if parsed is None else label_class(*parsed)
