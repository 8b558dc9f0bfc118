"""Evidently HTML reports that share one copy of Evidently's JavaScript library.

`Snapshot.save_html` inlines the 3.5 MB library and a 0.1 MB icon font into every report:
about 55% of a 78-column drift report of real CICIDS2017 rows (6.3 MB). Evidently's own
templates can link them instead (its legacy "folder" save mode does), so each report keeps
its widgets and data and loads the library from `js/` beside it, written once per version.
"""

from __future__ import annotations

import logging
import shutil
import uuid
from pathlib import Path

import evidently
from evidently import Run
from evidently.legacy.model.dashboard import DashboardInfo
from evidently.legacy.model.widget import AdditionalGraphInfo, BaseWidgetInfo
from evidently.legacy.renderers.html_widgets import group_widget
from evidently.legacy.utils.dashboard import STATIC_PATH, TemplateParams, file_html_template

from nids.io import atomic_path

logger = logging.getLogger(__name__)

LIB_FOLDER = "js"
LIB_NAME = f"evidently.{evidently.__version__}.js"  # a report loads the version it was made with
FONT_NAME = "material-ui-icons.woff2"


def library_files() -> dict[str, Path]:
    """The files reports load from js/, by name, with their source in Evidently's package."""
    return {LIB_NAME: Path(STATIC_PATH) / "index.js", FONT_NAME: Path(STATIC_PATH) / FONT_NAME}


def ensure_library(folder: Path) -> Path:
    """Copy Evidently's library and font into folder/js once (atomically); return that folder."""
    lib_dir = folder / LIB_FOLDER
    for name, source in library_files().items():
        target = lib_dir / name
        if not target.is_file() or target.stat().st_size != source.stat().st_size:
            with atomic_path(target) as tmp:
                shutil.copyfile(source, tmp)
            logger.info("Copied Evidently's %s to %s", source.name, target)
    return lib_dir


def _template_params(snapshot: Run) -> TemplateParams:
    """What `Snapshot.get_html_str` renders, with the library and font linked, not inlined."""
    model = snapshot.to_snapshot_model()
    widgets = [group_widget(title="", widgets=model.widgets), *model.tests_widgets]
    graphs = {}
    for widget in widgets:  # as evidently.core.metric_types.render_widgets collects them
        for graph in widget.get_additional_graphs():
            info = graph.params if isinstance(graph, AdditionalGraphInfo) else graph
            graphs[str(graph.id)] = info.dict() if isinstance(info, BaseWidgetInfo) else info
    return TemplateParams(
        dashboard_id="metric_" + uuid.uuid4().hex,
        dashboard_info=DashboardInfo(name="Report", widgets=widgets),
        additional_graphs=graphs,
        embed_lib=False, embed_font=False,
        font_file=f"{LIB_FOLDER}/{FONT_NAME}",
        include_js_files=[f"{LIB_FOLDER}/{LIB_NAME}"],
    )


def compact_html(snapshot: Run) -> str:
    """The report's HTML page, loading Evidently's library from the relative `js/` folder."""
    return file_html_template(_template_params(snapshot))


def write_compact_html(snapshot: Run, path: Path) -> None:
    """Write the report to `path` and make sure `js/` beside it holds the library it loads."""
    page = compact_html(snapshot)  # first: a report that fails to render leaves nothing
    ensure_library(path.parent)
    path.write_text(page, encoding="utf-8")
