"""A screenshot of a project's dashboard in a running Evidently UI (headless Chromium).

    .venv/bin/python -m bench.dashboard_screenshot http://127.0.0.1:8001 dashboard.png \
        [--project cicids2017-xgboost-scenario] [--width 1400]

Waits until the dashboard shows its panels (drawn from `nids.monitoring.dashboard`), saves a
full-page PNG and prints the browser console's errors; exits 1 when there were any. Without
--project: the UI's only project (an error names them when there are several).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import urllib.request
from pathlib import Path

from tests.support import chromium

WAIT_FOR = ["Drifted-column share", "Most-drifted columns", "Timestamps"]


def project_id(base_url: str, name: str | None) -> str:
    """The id of the project called `name`, or of the only project."""
    with urllib.request.urlopen(f"{base_url}/api/projects", timeout=300) as answer:
        projects = {p["name"]: p["id"] for p in json.loads(answer.read())}
    if name is None and len(projects) == 1:
        return next(iter(projects.values()))
    if name not in projects:
        raise SystemExit(f"{base_url} has projects {sorted(projects)}: pass one as --project")
    return projects[name]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", help="the Evidently UI, e.g. http://127.0.0.1:8001")
    parser.add_argument("png", type=Path, help="where to write the screenshot")
    parser.add_argument("--project", help="project name (default: the only one)")
    parser.add_argument("--width", type=int, default=1400)
    args = parser.parse_args()
    base = args.url.rstrip("/")
    page_url = f"{base}/projects/{project_id(base, args.project)}"
    with tempfile.TemporaryDirectory() as profile:
        page = chromium.visit(page_url, Path(profile), wait_for=WAIT_FOR, width=args.width,
                              timeout=300)
    args.png.write_bytes(page.png)
    missing = [text for text in WAIT_FOR if text not in page.text]
    print(f"{page_url}: {len(page.png) / 1e3:.0f} kB PNG in {args.png}"
          + (f"; not shown: {missing}" if missing else ""))
    for error in page.errors:
        print(f"console error: {error}", file=sys.stderr)
    sys.exit(1 if page.errors or missing else 0)


if __name__ == "__main__":
    main()
