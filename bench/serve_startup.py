"""Time from `python -m nids.services up` to a worker the server lists as online.

Runs `up` in a temporary state folder on free ports (never the project's `.state/`), polls
the work pool's workers list on its own, then runs `down`. The first run starts from empty
databases; later runs reuse them, like a second `make serve`.

    python bench/serve_startup.py --runs 3
"""

from __future__ import annotations

import argparse
import logging
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from nids.paths import PROJECT_ROOT
from nids.services import WORK_POOL, free_ports, online_workers
from nids.services.commands import state_file
from nids.services.state import read_state

logger = logging.getLogger("bench.serve_startup")


@dataclass(frozen=True)
class Timing:
    worker_online: float   # `up` launched -> a worker is ONLINE in the pool
    up_returned: float     # `up` launched -> `up` exited
    down: float            # `down` launched -> `down` exited


def services_cli(state_dir: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "nids.services", "--state-dir", str(state_dir), *args]


def up_arguments(state_dir: Path, ports: list[int], deploy: bool) -> list[str]:
    return ["up", "--prefect-port", str(ports[0]), "--mlflow-port", str(ports[1]),
            "--mlflow-db", str(state_dir / "mlflow.db"),
            "--artifacts-dir", str(state_dir / "mlartifacts"),
            *([] if deploy else ["--no-deploy"])]


def measure_once(state_dir: Path, deploy: bool, timeout: float) -> Timing:
    ports = free_ports(2)
    api_url = f"http://127.0.0.1:{ports[0]}/api"
    started = time.monotonic()
    up = subprocess.Popen(services_cli(state_dir, *up_arguments(state_dir, ports, deploy)),
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        worker_online, up_returned = wait_for_worker(up, state_dir, api_url, started, timeout)
    finally:
        up.wait()
        down_started = time.monotonic()
        subprocess.run(services_cli(state_dir, "down"), check=True, capture_output=True)
    return Timing(worker_online, up_returned, time.monotonic() - down_started)


def this_worker_online(state_dir: Path, api_url: str) -> bool:
    """Whether the worker this `up` started is online; earlier runs' workers stay listed
    as online for a while after they stopped, so any online worker is not enough."""
    state = read_state(state_file(state_dir))
    return bool(state and state.worker_name in online_workers(api_url, WORK_POOL))


def wait_for_worker(up: subprocess.Popen[str], state_dir: Path, api_url: str, started: float,
                    timeout: float) -> tuple[float, float]:
    """Seconds until a worker is online and until `up` exited, both from `started`."""
    worker_online = up_returned = None
    while worker_online is None or up_returned is None:
        now = time.monotonic() - started
        if up_returned is None and up.poll() is not None:
            up_returned = now
            if up.returncode != 0:
                raise RuntimeError(f"`up` failed:\n{up.stderr.read() if up.stderr else ''}")
        if worker_online is None and this_worker_online(state_dir, api_url):
            worker_online = now
        if now > timeout:
            up.kill()
            raise TimeoutError(f"no online worker after {timeout:.0f} s")
        time.sleep(0.05)
    return worker_online, up_returned


def report(deploy: bool, timings: list[Timing]) -> None:
    lines = [f"serve startup ({'with' if deploy else 'without'} `prefect deploy --all`)",
             f"{'run':<10}{'worker online':>15}{'up returned':>14}{'down':>8}"]
    for index, timing in enumerate(timings, start=1):
        label = "1 (cold)" if index == 1 else f"{index} (warm)"
        lines.append(f"{label:<10}{timing.worker_online:>14.1f}s{timing.up_returned:>13.1f}s"
                     f"{timing.down:>7.1f}s")
    warm = timings[1:] or timings
    lines.append(f"median warm: worker online "
                 f"{statistics.median(t.worker_online for t in warm):.1f} s")
    print("\n".join(lines))  # noqa: T201 - a bench script prints its figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-deploy", dest="deploy", action="store_false")
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    missing = [name for name in ("training", "monitoring")
               if not (PROJECT_ROOT / "flows" / f"{name}.py").exists()]
    if args.deploy and missing:
        parser.error(f"flows {missing} are not written yet; run with --no-deploy")
    with tempfile.TemporaryDirectory(prefix="nids-bench-") as folder:
        timings = []
        for run in range(1, args.runs + 1):
            timings.append(measure_once(Path(folder), args.deploy, args.timeout))
            logger.info("run %d: worker online after %.1f s", run, timings[-1].worker_online)
    report(args.deploy, timings)


if __name__ == "__main__":
    main()
