"""The official CICIDS2017 files UNB publishes, and the weekday each file name starts with.

One table (from ../shared/cicids2017/README.md): the eight MachineLearningCVE day files with
their size, sha256 and label counts (the generator reproduces the counts, the loader checks
the checksums), and the two zip archives they come in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")


@dataclass(frozen=True)
class OfficialFile:
    size: int
    sha256: str
    label_counts: dict[str, int] = field(default_factory=dict)  # empty for the zips

    @property
    def rows(self) -> int:
        return sum(self.label_counts.values())


OFFICIAL_FILES: dict[str, OfficialFile] = {
    "Monday-WorkingHours.pcap_ISCX.csv": OfficialFile(
        176927918, "852c4beb34eda186f32561fa79df7a0747e92e1a6535b01270820dd9ffe17f34",
        {"BENIGN": 529918}),
    "Tuesday-WorkingHours.pcap_ISCX.csv": OfficialFile(
        135078995, "52b8692ae8c7d2ed04671fe2b98335693c0a92c7ab157d8c8b534d6523080851",
        {"BENIGN": 432074, "FTP-Patator": 7938, "SSH-Patator": 5897}),
    "Wednesday-workingHours.pcap_ISCX.csv": OfficialFile(
        225166395, "893c27dc968bf7a8adef1689f90be55ca4a4dc3088fb63d6ff247ac56856df2a",
        {"BENIGN": 440031, "DoS Hulk": 231073, "DoS GoldenEye": 10293, "DoS slowloris": 5796,
         "DoS Slowhttptest": 5499, "Heartbleed": 11}),
    "Thursday-WorkingHours-Morning-WebAttacks.pcap_ISCX.csv": OfficialFile(
        52023263, "d67066211fb1689c78406f1506f4c44704ecb92088353d5c96d96d6474eb819d",
        {"BENIGN": 168186, "Web Attack - Brute Force": 1507, "Web Attack - XSS": 652,
         "Web Attack - Sql Injection": 21}),
    "Thursday-WorkingHours-Afternoon-Infilteration.pcap_ISCX.csv": OfficialFile(
        83102436, "6bcda3857c2504676034e3ea57762d38393cc734cb377a726bd5cb153961b1b5",
        {"BENIGN": 288566, "Infiltration": 36}),
    "Friday-WorkingHours-Morning.pcap_ISCX.csv": OfficialFile(
        58316725, "53a41c24d570ea83b7ac55b2e94df94e7a8216aeb80a2af0246b6bc8bb543000",
        {"BENIGN": 189067, "Bot": 1966}),
    "Friday-WorkingHours-Afternoon-PortScan.pcap_ISCX.csv": OfficialFile(
        76906168, "ca1824c51bfbb7b3c72290a11be04366ba8815878c6a1cc5c44cb1cee269e99b",
        {"BENIGN": 127537, "PortScan": 158930}),
    "Friday-WorkingHours-Afternoon-DDos.pcap_ISCX.csv": OfficialFile(
        77123859, "6ff1580f5f81c0ae28a26f7631721018577f5f7c5e0feac28b795fcfe7b411ee",
        {"BENIGN": 97718, "DDoS": 128027}),
}
OFFICIAL_ARCHIVES: dict[str, OfficialFile] = {
    "MachineLearningCSV.zip": OfficialFile(
        235102953, "c3f26274b36c837ccf28ffd2dbf4582941c30b3ee70a635c6e5b2f87c4727928"),
    "GeneratedLabelledFlows.zip": OfficialFile(
        283876488, "7bdbef286f8893f31c6db12105fa097fa5c2dcc6733179037a08129d150ea27a"),
}


def checksum_warning(name: str, size: int, sha256: str) -> str | None:
    """A warning when an official file name does not match UNB's size and sha256."""
    official = OFFICIAL_FILES.get(name) or OFFICIAL_ARCHIVES.get(name)
    if official is None or (official.size == size and official.sha256 == sha256):
        return None
    return (
        f"{name}: size {size} / sha256 {sha256[:12]}... differ from the official file "
        f"({official.size} bytes, sha256 {official.sha256[:12]}...). It may be a corrected "
        "re-release or an edited copy; it is loaded anyway."
    )


def day_of(name: str) -> str:
    """The weekday a CICIDS2017 file name starts with, or 'unknown'."""
    first = re.split(r"[-_. ]", Path(name).name, maxsplit=1)[0].capitalize()
    return first if first in DAYS else "unknown"


def day_names(days: Iterable[str] | None) -> set[str]:
    """The weekdays a config names, spelled as `day_of` returns them (empty: no filter)."""
    return {day.capitalize() for day in days or []}
