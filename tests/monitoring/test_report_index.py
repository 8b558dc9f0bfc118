"""Report names, the JSON entries and the index page over them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from nids.io import atomic_path
from nids.monitoring.reports import (
    ReportEntry,
    read_entries,
    remove_superseded,
    render_index,
    report_paths,
    report_stem,
    write_index,
)

NOON = datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC)


def save_entry(reports_dir: Path, created_at: datetime, batch: str, verdict: str = "ok",
               crossed: tuple[str, ...] = (), sha256: str | None = None) -> ReportEntry:
    """Write an entry JSON (and a stand-in HTML report) as the monitoring flow does."""
    html_path, json_path = report_paths(reports_dir, created_at, batch)
    entry = ReportEntry(created_at=created_at, batch=batch, model_name="cicids2017-xgboost",
                        model_version="3", verdict=verdict, crossed=list(crossed),
                        report_html=html_path.name, summary={"drifted_share": 0.1},
                        batch_sha256=sha256)
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text("<html>report</html>")
    json_path.write_text(entry.model_dump_json())
    return entry


@pytest.mark.parametrize(("batch", "stem"), [
    ("friday-ddos", "2026-11-22T120000Z_friday-ddos"),
    ("Friday DDoS.csv", "2026-11-22T120000Z_Friday-DDoS.csv"),
    ("../../etc/passwd", "2026-11-22T120000Z_etc-passwd"),
    ("lundi/été", "2026-11-22T120000Z_lundi-t"),
    ("///", "2026-11-22T120000Z_batch"),
])
def test_report_stem_is_file_safe(batch: str, stem: str):
    assert report_stem(NOON, batch) == stem


def test_report_stem_is_in_utc():
    paris = datetime(2026, 11, 22, 13, 0, 0, tzinfo=timezone(timedelta(hours=1)))
    assert report_stem(paris, "b") == report_stem(NOON, "b")


def test_naive_time_is_rejected():
    with pytest.raises(ValueError, match="no timezone"):
        report_stem(datetime(2026, 11, 22, 12), "b")


def test_names_sort_by_time(tmp_path: Path):
    times = [NOON + timedelta(seconds=s) for s in (0, 9, 10, 3600 * 24 * 40)]
    names = [report_paths(tmp_path, t, "b")[0].name for t in times]
    assert names == sorted(names)


def test_paths_live_under_drift(tmp_path: Path):
    html_path, json_path = report_paths(tmp_path, NOON, "b")
    assert html_path == tmp_path / "drift" / "2026-11-22T120000Z_b.html"
    assert json_path == html_path.with_suffix(".json")


def test_index_lists_newest_first_with_relative_links(tmp_path: Path):
    save_entry(tmp_path, NOON, "monday")
    save_entry(tmp_path, NOON + timedelta(days=2), "wednesday", "retrain",
               ("drifted-column share 0.62 >= 0.30 (+0.32)",))
    save_entry(tmp_path, NOON + timedelta(days=1), "tuesday", "drift")
    index = write_index(tmp_path)
    assert index == tmp_path / "index.html"
    page = index.read_text(encoding="utf-8")
    assert re.findall(r"<td>(monday|tuesday|wednesday)</td>", page) == [
        "wednesday", "tuesday", "monday"]
    assert '<a href="drift/2026-11-24T120000Z_wednesday.html">report</a>' in page
    assert "drifted-column share 0.62 &gt;= 0.30 (+0.32)" in page
    assert "cicids2017-xgboost v3" in page
    for link in re.findall(r'href="([^"]+)"', page):
        assert (tmp_path / link).is_file()


def test_the_health_column_says_when_labels_are_asked_without_degraded_health(tmp_path: Path):
    html_path, _ = report_paths(tmp_path, NOON, "ssh")
    entry = ReportEntry(created_at=NOON, batch="ssh.csv", model_name="m", model_version="1",
                        verdict="drift", report_html=html_path.name, health="healthy",
                        labels_asked=["called benign on a surging port: surge share 0.500 > "
                                      "normal 0.020 (port 22 1000 flows)"])
    page = render_index([entry])
    assert ('<span class="healthy">healthy</span><br><small>labels asked: called benign on a '
            "surging port: surge share 0.500 &gt; normal 0.020 (port 22 1000 flows)</small>"
            ) in page


def test_index_escapes_what_it_shows(tmp_path: Path):
    save_entry(tmp_path, NOON, "<script>alert(1)</script>")
    page = write_index(tmp_path).read_text(encoding="utf-8")
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_index_of_no_reports(tmp_path: Path):
    assert "No drift reports yet." in write_index(tmp_path).read_text(encoding="utf-8")


def test_unreadable_entries_are_skipped(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    save_entry(tmp_path, NOON, "good")
    (tmp_path / "drift" / "2026-11-23T000000Z_broken.json").write_text("{not json")
    (tmp_path / "drift" / "notes.json").write_text('{"something": "else"}')
    assert [e.batch for e in read_entries(tmp_path)] == ["good"]
    assert caplog.text.count("Skipping") == 2


def test_rewriting_the_index_replaces_it_and_leaves_no_temporary_file(tmp_path: Path):
    save_entry(tmp_path, NOON, "one")
    write_index(tmp_path)
    save_entry(tmp_path, NOON + timedelta(hours=1), "two")
    page = write_index(tmp_path).read_text(encoding="utf-8")
    assert "<td>one</td>" in page and "<td>two</td>" in page
    assert sorted(p.name for p in tmp_path.iterdir()) == [".index.lock", "drift", "index.html"]


def test_render_index_keeps_the_given_order():
    entries = [ReportEntry(created_at=NOON, batch=name, model_name="m", model_version="1",
                           verdict="ok", report_html=f"{name}.html") for name in ("b", "a")]
    page = render_index(entries)
    assert page.index("<td>b</td>") < page.index("<td>a</td>")


def test_atomic_path_keeps_the_old_file_when_writing_fails(tmp_path: Path):
    target = tmp_path / "index.html"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("the writer crashed")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["index.html"]


def test_atomic_path_refuses_an_empty_file(tmp_path: Path):
    with pytest.raises(OSError, match="nothing was written"), atomic_path(tmp_path / "x.html"):
        pass
    assert list(tmp_path.iterdir()) == []


def test_atomic_path_creates_the_folder_and_a_readable_file(tmp_path: Path):
    target = tmp_path / "a" / "b" / "x.json"
    with atomic_path(target) as tmp:
        assert tmp.parent == target.parent
        tmp.write_text("{}")
    assert target.read_text() == "{}"
    assert target.stat().st_mode & 0o777 == 0o644


def test_the_index_lists_each_batch_once_with_its_newest_report(tmp_path: Path):
    """A rerun after a failed run reported the same batch (same content) twice."""
    save_entry(tmp_path, NOON, "a.csv", "drift", sha256="a" * 64)
    save_entry(tmp_path, NOON + timedelta(hours=1), "a.csv", "retrain", sha256="a" * 64)
    save_entry(tmp_path, NOON + timedelta(hours=2), "renamed-a.csv", "ok", sha256="a" * 64)
    save_entry(tmp_path, NOON, "b.csv", sha256="b" * 64)
    save_entry(tmp_path, NOON, "old.csv")  # written before batches had a hash: kept
    page = write_index(tmp_path).read_text(encoding="utf-8")
    assert re.findall(r"<td>([a-z.-]+\.csv)</td>", page) == ["renamed-a.csv", "old.csv", "b.csv"]


def test_remove_superseded_keeps_only_the_newest_report_of_a_batch(tmp_path: Path):
    old = save_entry(tmp_path, NOON, "a.csv", sha256="a" * 64)
    other = save_entry(tmp_path, NOON, "b.csv", sha256="b" * 64)
    new = save_entry(tmp_path, NOON + timedelta(hours=1), "a.csv", sha256="a" * 64)
    removed = remove_superseded(tmp_path, new)
    assert removed == [tmp_path / "drift" / "2026-11-22T120000Z_a.csv.json"]
    names = sorted(p.name for p in (tmp_path / "drift").iterdir())
    assert names == sorted([other.report_html, other.report_html.replace(".html", ".json"),
                            new.report_html, new.report_html.replace(".html", ".json")])
    assert remove_superseded(tmp_path, old) == []  # an older entry never removes a newer one
