"""Peak resident memory of this process over a stretch of time, sampled every 100 ms."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import psutil


class RssSampler(threading.Thread):
    """Samples this process's resident memory (children included) until stopped."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[tuple[datetime, int]] = []
        self.running = True

    def run(self) -> None:
        process = psutil.Process()
        while self.running:
            rss = process.memory_info().rss
            rss += sum(child.memory_info().rss for child in process.children(recursive=True))
            self.samples.append((datetime.now(UTC), rss))
            time.sleep(0.1)

    def peak(self, start: datetime | None = None, end: datetime | None = None) -> int:
        within = [rss for at, rss in self.samples
                  if (start is None or start <= at) and (end is None or at <= end)]
        return max(within, default=0)
