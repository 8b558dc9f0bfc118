"""A start line for test processes that must act at the same moment: each marks itself ready
once its imports are done, then waits for the others, so no fixed head start is needed."""

from __future__ import annotations

import os
import time
from pathlib import Path


def wait_for_each_other(folder: Path, parties: int, timeout: float = 300.0) -> None:
    """Mark this process ready in `folder`, then return as soon as `parties` processes are
    (polling every 10 ms, so they leave within milliseconds of each other); TimeoutError if
    they are not all ready within `timeout` seconds."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{os.getpid()}.ready").touch()
    deadline = time.monotonic() + timeout
    while len(list(folder.glob("*.ready"))) < parties:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {len(list(folder.glob('*.ready')))} of {parties} "
                               f"processes were ready in {folder} after {timeout:g} s")
        time.sleep(0.01)
