"""Drift reports on disk: time-sortable names, JSON entries, and the index.html over them."""

from __future__ import annotations

import html
import logging
import re
from datetime import UTC, datetime
from pathlib import Path

from pydantic import AwareDatetime, BaseModel, Field, ValidationError

from nids.io import atomic_path

logger = logging.getLogger(__name__)

DRIFT_SUBDIR = "drift"
INDEX_NAME = "index.html"


class ReportEntry(BaseModel):
    """The JSON saved next to each drift report: what the index lists about it."""

    created_at: AwareDatetime = Field(description="When the batch was checked.")
    batch: str
    model_name: str
    model_version: str
    verdict: str = Field(description="'retrain', 'drift' or 'ok'.")
    crossed: list[str] = Field(default_factory=list, description="Thresholds crossed, in words.")
    report_html: str = Field(description="File name of the HTML report, next to this JSON.")
    summary: dict = Field(default_factory=dict, description="The DriftSummary, as saved.")
    health: str | None = Field(None, description="'healthy' or 'degraded' (None: not judged).")
    incident: str | None = Field(None, description="'incident' or 'normal'.")
    drift: str | None = Field(None, description="'drift' or 'ok'.")
    health_crossed: list[str] = Field(default_factory=list)
    incident_crossed: list[str] = Field(default_factory=list)


def report_stem(created_at: datetime, batch: str) -> str:
    """'2026-11-22T183000Z_<batch>': sorts by time; the batch name made file-safe."""
    if created_at.tzinfo is None:
        raise ValueError(f"created_at {created_at} has no timezone; pass e.g. datetime.now(UTC)")
    stamp = created_at.astimezone(UTC).strftime("%Y-%m-%dT%H%M%SZ")
    safe_batch = re.sub(r"[^A-Za-z0-9._-]+", "-", batch).strip("-.") or "batch"
    return f"{stamp}_{safe_batch}"


def report_paths(reports_dir: Path, created_at: datetime, batch: str) -> tuple[Path, Path]:
    """The HTML report and JSON entry paths of a batch under reports_dir/drift/."""
    stem = report_stem(created_at, batch)
    folder = reports_dir / DRIFT_SUBDIR
    return folder / f"{stem}.html", folder / f"{stem}.json"


def read_entries(reports_dir: Path) -> list[ReportEntry]:
    """The report entries under reports_dir/drift/, newest first; unreadable ones skipped."""
    entries = []
    for json_path in sorted((reports_dir / DRIFT_SUBDIR).glob("*.json")):
        try:
            entries.append(ReportEntry.model_validate_json(json_path.read_text(encoding="utf-8")))
        except (OSError, ValidationError) as error:
            logger.warning("Skipping %s, not a drift report entry: %s", json_path, error)
    return sorted(entries, key=lambda e: (e.created_at, e.batch), reverse=True)


def _judgment(verdict: str | None, crossed: list[str]) -> str:
    if verdict is None:
        return "&mdash;"
    reasons = "".join(f"<br><small>{html.escape(text)}</small>" for text in crossed)
    return f'<span class="{html.escape(verdict)}">{html.escape(verdict)}</span>{reasons}'


def _row(entry: ReportEntry) -> str:
    link = f"{DRIFT_SUBDIR}/{entry.report_html}"
    cells = [
        entry.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        html.escape(entry.batch),
        html.escape(f"{entry.model_name} v{entry.model_version}"),
        f'<span class="{html.escape(entry.verdict)}">{html.escape(entry.verdict)}</span>',
        _judgment(entry.health, entry.health_crossed),
        _judgment(entry.incident, entry.incident_crossed),
        _judgment(entry.drift, []),
        "<br>".join(html.escape(text) for text in entry.crossed) or "&mdash;",
        f'<a href="{html.escape(link, quote=True)}">report</a>',
    ]
    return "<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>"


def render_index(entries: list[ReportEntry]) -> str:
    """The index page: one table row per report, in the order given."""
    rows = "\n".join(_row(entry) for entry in entries)
    empty = '<tr><td colspan="9">No drift reports yet.</td></tr>'
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Drift reports</title>
<style>
body {{ font-family: sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; }}
td, th {{ border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }}
.retrain, .degraded, .incident {{ color: #b00; font-weight: bold; }} .drift {{ color: #b60; }}
.ok, .healthy, .normal {{ color: #070; }}
</style></head>
<body><h1>Drift reports</h1>
<table><thead><tr><th>Date</th><th>Batch</th><th>Model</th><th>Verdict</th>
<th>Model health</th><th>Security incident</th><th>Data drift</th>
<th>Drift thresholds crossed</th><th>Report</th></tr></thead>
<tbody>
{rows or empty}
</tbody></table></body></html>
"""


def write_index(reports_dir: Path) -> Path:
    """Rebuild reports_dir/index.html from the JSON entries, atomically; return its path."""
    entries = read_entries(reports_dir)
    index_path = reports_dir / INDEX_NAME
    with atomic_path(index_path) as tmp:
        tmp.write_text(render_index(entries), encoding="utf-8")
    logger.info("Wrote %s listing %d drift reports", index_path, len(entries))
    return index_path
