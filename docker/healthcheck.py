"""Container health probe: exit 0 when an HTTP GET of the given URL answers 2xx.

The slim base image has no curl, so the compose health checks call this instead:
    python /app/docker/healthcheck.py http://127.0.0.1:4200/api/health
"""

import sys
import urllib.error
import urllib.request

TIMEOUT_SECONDS = 5


def probe(url: str) -> str | None:
    """Return None when the URL answers 2xx, else a one-line reason."""
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
            status = response.status
    except (urllib.error.URLError, OSError) as error:
        return f"{url}: {error}"
    return None if 200 <= status < 300 else f"{url}: HTTP {status}"


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        sys.stderr.write("usage: healthcheck.py URL\n")
        return 2
    reason = probe(argv[1])
    if reason:
        sys.stderr.write(f"unhealthy: {reason}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
