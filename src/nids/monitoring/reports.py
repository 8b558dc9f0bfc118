"""Drift reports on disk: time-sortable names, JSON entries, and the index.html over them."""

from __future__ import annotations

import fcntl
import html
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from pydantic import AwareDatetime, BaseModel, Field, ValidationError

from nids.io import atomic_path
from nids.monitoring.history import expired

logger = logging.getLogger(__name__)

DRIFT_SUBDIR = "drift"
INDEX_NAME = "index.html"
LOCK_NAME = ".index.lock"


class ReportEntry(BaseModel):
    """The JSON saved next to each drift report: what the index lists about it."""

    created_at: AwareDatetime = Field(description="When the batch was checked.")
    batch: str
    model_name: str
    model_version: str
    verdict: str = Field(description="'retrain', 'drift', 'ok' or 'too small'.")
    crossed: list[str] = Field(default_factory=list, description="Thresholds crossed, in words.")
    report_html: str = Field(description="File name of the HTML report, next to this JSON.")
    summary: dict = Field(default_factory=dict, description="The DriftSummary, as saved.")
    batch_sha256: str | None = Field(
        None, description="SHA-256 of the batch file: the batch's identity, whatever its name."
    )
    health: str | None = Field(None, description="'healthy' or 'degraded' (None: not judged).")
    incident: str | None = Field(None, description="'incident' or 'normal'.")
    drift: str | None = Field(None, description="'drift' or 'ok'.")
    health_crossed: list[str] = Field(default_factory=list)
    labels_asked: list[str] = Field(default_factory=list)
    incident_crossed: list[str] = Field(default_factory=list)

    @property
    def identity(self) -> str:
        """What makes two entries the same batch (entries written before hashes: their own)."""
        return self.batch_sha256 or self.report_html


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


def entry_files(reports_dir: Path) -> dict[Path, ReportEntry]:
    """Each JSON entry under reports_dir/drift/ by path; unreadable ones skipped."""
    entries = {}
    for json_path in sorted((reports_dir / DRIFT_SUBDIR).glob("*.json")):
        try:
            text = json_path.read_text(encoding="utf-8")
            entries[json_path] = ReportEntry.model_validate_json(text)
        except (OSError, ValidationError) as error:
            logger.warning("Skipping %s, not a drift report entry: %s", json_path, error)
    return entries


def read_entries(reports_dir: Path) -> list[ReportEntry]:
    """The report entries under reports_dir/drift/, newest first; unreadable ones skipped."""
    entries = entry_files(reports_dir).values()
    return sorted(entries, key=lambda e: (e.created_at, e.batch), reverse=True)


def latest_per_batch(entries: list[ReportEntry]) -> list[ReportEntry]:
    """The first (newest, in read_entries' order) entry of each batch identity."""
    seen: set[str] = set()
    kept = []
    for entry in entries:
        if entry.identity not in seen:
            seen.add(entry.identity)
            kept.append(entry)
    return kept


def remove_superseded(reports_dir: Path, newest: ReportEntry) -> list[Path]:
    """Delete the older reports of `newest`'s batch (a rerun after a failed run), so each
    batch has one report; returns the JSON entries removed. Older: by time, then name, so
    of two runs reporting the same batch at once, one report stays."""
    removed = []
    newest_key = (newest.created_at, newest.report_html)
    for json_path, entry in entry_files(reports_dir).items():
        if entry.identity == newest.identity and (entry.created_at,
                                                  entry.report_html) < newest_key:
            (json_path.parent / entry.report_html).unlink(missing_ok=True)
            json_path.unlink(missing_ok=True)
            removed.append(json_path)
            logger.info("Replaced the earlier report %s of %s", json_path.name, entry.batch)
    return removed


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
        f'<span class="{html.escape(entry.verdict.replace(" ", "-"))}">'
        f'{html.escape(entry.verdict)}</span>',
        _judgment(entry.health, entry.health_crossed
                  + [f"labels asked: {text}" for text in entry.labels_asked]),
        _judgment(entry.incident, entry.incident_crossed),
        _judgment(entry.drift, []),
        "<br>".join(html.escape(text) for text in entry.crossed) or "&mdash;",
        f'<a href="{html.escape(link, quote=True)}">report</a>',
    ]
    return "<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>"


def _dashboard_line(dashboard_url: str | None) -> str:
    if not dashboard_url:
        return ""
    url = html.escape(dashboard_url, quote=True)
    return (f'<p>Trends over every batch: the <a href="{url}">Evidently dashboard</a> '
            "(<code>make serve</code> starts it).</p>")


def render_index(entries: list[ReportEntry], dashboard_url: str | None = None) -> str:
    """The index page: a link to the dashboard, then one table row per report, in order."""
    rows = "\n".join(_row(entry) for entry in entries)
    empty = '<tr><td colspan="9">No drift reports yet.</td></tr>'
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Drift reports</title>
<style>
body {{ font-family: sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; }}
td, th {{ border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }}
.retrain, .degraded, .incident {{ color: #b00; font-weight: bold; }} .drift {{ color: #b60; }}
.ok, .healthy, .normal {{ color: #070; }} .too-small {{ color: #666; }}
</style></head>
<body><h1>Drift reports</h1>
{_dashboard_line(dashboard_url)}
<table><thead><tr><th>Date</th><th>Batch</th><th>Model</th><th>Verdict</th>
<th>Model health</th><th>Security incident</th><th>Data drift</th>
<th>Drift thresholds crossed</th><th>Report</th></tr></thead>
<tbody>
{rows or empty}
</tbody></table></body></html>
"""


@contextmanager
def index_lock(reports_dir: Path) -> Iterator[None]:
    """One writer of the index at a time (runs of two processes), on a lock file beside it."""
    reports_dir.mkdir(parents=True, exist_ok=True)
    with (reports_dir / LOCK_NAME).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_index(reports_dir: Path, dashboard_url: str | None = None) -> Path:
    """Rebuild reports_dir/index.html from the JSON entries, atomically, one row per batch
    (the newest report of it); return its path."""
    index_path = reports_dir / INDEX_NAME
    with index_lock(reports_dir):  # read and write as one step: no entry lost to a race
        entries = latest_per_batch(read_entries(reports_dir))
        with atomic_path(index_path) as tmp:
            tmp.write_text(render_index(entries, dashboard_url), encoding="utf-8")
    logger.info("Wrote %s listing %d drift reports", index_path, len(entries))
    return index_path


def prune_reports(reports_dir: Path, keep_days: float | None, keep_runs: int | None,
                  dashboard_url: str | None = None) -> list[str]:
    """Delete the reports that `history.expired` drops, model by model (by creation time),
    and rebuild the index; returns the HTML names deleted. An entry goes before its report,
    so the index never links to a missing file; a file that cannot go is logged and kept."""
    folder = reports_dir / DRIFT_SUBDIR
    by_model: dict[str, dict[str, datetime]] = {}
    for entry in read_entries(reports_dir):
        by_model.setdefault(entry.model_name, {})[entry.report_html] = entry.created_at
    deleted = []
    for times in by_model.values():
        for html_name in expired(times, keep_days, keep_runs):
            try:
                (folder / html_name).with_suffix(".json").unlink(missing_ok=True)
                (folder / html_name).unlink(missing_ok=True)
            except OSError as error:
                logger.warning("Could not delete the expired report %s: %s", html_name, error)
                continue
            deleted.append(html_name)
    if deleted:
        logger.info("Deleted %d expired drift reports, e.g. %s", len(deleted), deleted[0])
    write_index(reports_dir, dashboard_url)
    return deleted
