"""Packet captures to flow batches, with the Python `cicflowmeter` package in its own venv.

cicflowmeter 0.2.0 (the newest for Python 3.11) declares numpy<2 and needs scapy 2.5.x (with
scapy 2.8 it writes no flows), while the project pins numpy 2.4.6. Rather than install it
into the project's environment against its declared pins, it gets a virtual environment of
its own (`.state/tools/cicflowmeter`), created on first use with pinned versions; the project
only runs its command and reads the CSV it writes. Reading a pcap needs Debian's `libpcap0.8`
and `tcpdump` (scripts/install_system_packages.sh installs them).

    python -m nids.data.capture [folder]   # every pcap in data/incoming/ without a CSV beside it
"""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

from nids.config import load_monitoring_config, project_path
from nids.data.incoming import known_batch, mark_ready
from nids.io import atomic_path
from nids.paths import STATE_DIR

logger = logging.getLogger(__name__)

TOOL_REQUIREMENTS = ("cicflowmeter==0.2.0", "scapy==2.5.0")
TOOL_DIR = STATE_DIR / "tools" / "cicflowmeter"
PCAP_SUFFIXES = (".pcap", ".pcapng", ".cap")
_MARKER = ".installed"


def tool_python(tool_dir: Path = TOOL_DIR) -> Path:
    return tool_dir / "bin" / "python"


def _run(command: list[str], what: str, timeout: float) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        output = (result.stderr or result.stdout).strip()[-1500:]
        raise RuntimeError(f"{what} failed (exit {result.returncode}):\n{output}")
    return result


def ensure_cicflowmeter(tool_dir: Path = TOOL_DIR) -> Path:
    """The `cicflowmeter` command of the tool environment, installed on first use."""
    command = tool_dir / "bin" / "cicflowmeter"
    marker = tool_dir / _MARKER
    wanted = "\n".join(TOOL_REQUIREMENTS)
    if command.exists() and marker.exists() and marker.read_text() == wanted:
        return command
    logger.info("Installing %s into %s", ", ".join(TOOL_REQUIREMENTS), tool_dir)
    _run([sys.executable, "-m", "venv", "--clear", str(tool_dir)],
         f"creating the virtual environment {tool_dir}", timeout=300)
    _run([str(tool_python(tool_dir)), "-m", "pip", "install", "--quiet",
          "--disable-pip-version-check", *TOOL_REQUIREMENTS],
         f"pip install {' '.join(TOOL_REQUIREMENTS)} (into {tool_dir})", timeout=900)
    marker.write_text(wanted)
    return command


def pcap_to_flows(pcap: Path, target: Path, tool_dir: Path = TOOL_DIR) -> Path:
    """Write the flows of a capture as a cicflowmeter CSV at `target` (atomically)."""
    command = ensure_cicflowmeter(tool_dir)
    with atomic_path(target) as tmp:
        try:
            result = _run([str(command), "-f", str(pcap), "-c", str(tmp)],
                          f"{pcap.name}: cicflowmeter", timeout=3600)
        except RuntimeError as error:
            raise ValueError(f"{error}\nIs it a readable pcap? Reading one needs libpcap0.8 "
                             "and tcpdump (scripts/install_system_packages.sh).") from error
        if tmp.stat().st_size == 0:
            raise ValueError(
                f"{pcap.name}: cicflowmeter wrote no flow ({result.stderr.strip()[-300:]!r}). "
                "It reads IPv4 TCP/UDP packets in Ethernet frames; check the capture with "
                "`tcpdump -r`."
            )
    logger.info("Wrote the flows of %s to %s", pcap.name, target)
    return target


def pending_captures(folder: Path) -> list[Path]:
    """Captures in `folder` whose flow CSV is neither beside them nor claimed, done or
    rejected by the monitoring flow (nids.data.incoming)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")
                  and p.suffix.lower() in PCAP_SUFFIXES
                  and not known_batch(folder, p.with_suffix(".csv").name))


def convert_captures(folder: Path, tool_dir: Path = TOOL_DIR) -> list[Path]:
    """Turn every pending capture in `folder` into a flow batch `<name>.csv` beside it, handed
    over to the monitoring flow with its `.done` marker."""
    converted = []
    for pcap in pending_captures(folder):
        converted.append(pcap_to_flows(pcap, pcap.with_suffix(".csv"), tool_dir))
        mark_ready(converted[-1])
    return converted


def main(argv: list[str] | None = None) -> int:
    """Convert the pending captures of a folder; a bad capture is reported, the rest go on."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0]) if args else project_path(load_monitoring_config().incoming_dir)
    written, failed = 0, 0
    for pcap in pending_captures(folder):
        try:
            pcap_to_flows(pcap, pcap.with_suffix(".csv"))
            written += 1
        except ValueError as error:
            logger.error("%s", error)
            failed += 1
    logger.info("%d capture(s) in %s turned into flow batches, %d failed", written, folder,
                failed)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
