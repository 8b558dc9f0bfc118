"""Starting process groups and stopping them with everything they spawned.

Each service runs in its own session (process group), so one signal reaches the server and
its helpers. Prefect's process worker starts flow runs in sessions of their own, so stopping
also collects the descendants of a group before signalling it.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from nids.services.commands import ServiceSpec

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProcessRow:
    pid: int
    ppid: int
    pgid: int


def start_process(spec: ServiceSpec) -> subprocess.Popen[bytes]:
    """Start `spec` in a new session with stdout and stderr going to its log file."""
    spec.log_path.parent.mkdir(parents=True, exist_ok=True)
    with spec.log_path.open("wb") as log:
        process = subprocess.Popen(spec.command, env=spec.env, cwd=spec.cwd, stdout=log,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
    logger.info("Started %s (pid %d), log %s", spec.name, process.pid, spec.log_path)
    return process


def run_to_log(command: list[str], env: dict[str, str], cwd: Path, log_path: Path,
               timeout: float) -> int:
    """Run a short command, appending its output to `log_path`; returns its exit code."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        log.write(f"$ {' '.join(command)}\n".encode())
        log.flush()
        completed = subprocess.run(command, env=env, cwd=cwd, stdout=log,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   timeout=timeout, check=False)
    return completed.returncode


def process_table() -> list[ProcessRow]:
    """Every process of the machine with its parent and group (POSIX `ps`)."""
    output = subprocess.run(["ps", "-A", "-o", "pid=,ppid=,pgid="], capture_output=True,
                            text=True, check=True).stdout
    return [ProcessRow(*map(int, line.split())) for line in output.splitlines() if line.strip()]


def group_and_descendants(pgid: int, table: Iterable[ProcessRow]) -> set[int]:
    """Pids in group `pgid` plus every process descending from one of them."""
    rows = list(table)
    found = {row.pid for row in rows if row.pgid == pgid}
    children: dict[int, list[int]] = {}
    for row in rows:
        children.setdefault(row.ppid, []).append(row.pid)
    pending = list(found)
    while pending:
        for child in children.get(pending.pop(), []):
            if child not in found:
                found.add(child)
                pending.append(child)
    return found


def start_time(pid: int) -> str | None:
    """When `pid` started, as `ps` prints it; tells a reused pid from our process."""
    result = subprocess.run(["ps", "-o", "lstart=", "-p", str(pid)], capture_output=True,
                            text=True, check=False)
    return result.stdout.strip() or None


def is_alive(pid: int) -> bool:
    """True while `pid` runs; a zombie counts as gone (and is reaped if it is our child)."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    if stat.exists():
        try:
            return stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"
        except (OSError, IndexError):
            return False
    result = subprocess.run(["ps", "-o", "stat=", "-p", str(pid)], capture_output=True,
                            text=True, check=False)
    return result.stdout.strip().startswith("Z")


def _signal_all(pgid: int, pids: Iterable[int], signum: signal.Signals) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass
    for pid in pids:
        try:
            os.kill(pid, signum)
        except (ProcessLookupError, PermissionError):
            pass


def _wait_gone(pids: set[int], deadline: float) -> set[int]:
    alive = {pid for pid in pids if is_alive(pid)}
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = {pid for pid in alive if is_alive(pid)}
    return alive


def stop_groups(grace_by_pgid: dict[int, float]) -> set[int]:
    """SIGTERM the groups and their descendants, wait each one's grace, SIGKILL what is left.

    Returns the pids that still ran after SIGKILL (empty when all went away).
    """
    table = process_table()
    targets = {pgid: group_and_descendants(pgid, table) for pgid in grace_by_pgid}
    for pgid, pids in targets.items():
        _signal_all(pgid, pids, signal.SIGTERM)
    started = time.monotonic()
    survivors: set[int] = set()
    for pgid, pids in sorted(targets.items(), key=lambda item: grace_by_pgid[item[0]]):
        alive = _wait_gone(pids, started + grace_by_pgid[pgid])
        if alive:
            logger.warning("pids %s still ran %.0f s after SIGTERM; sending SIGKILL",
                           sorted(alive), grace_by_pgid[pgid])
            _signal_all(pgid, alive, signal.SIGKILL)
            survivors |= _wait_gone(alive, time.monotonic() + 5)
    return survivors
