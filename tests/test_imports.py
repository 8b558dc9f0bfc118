"""Every module of the package imports (no syntax errors, no missing dependencies)."""

import importlib
import pkgutil

import pytest

import nids

MODULES = sorted(
    info.name for info in pkgutil.walk_packages(nids.__path__, prefix=f"{nids.__name__}.")
)


def test_the_package_has_a_module_for_each_stage_of_the_design():
    expected = {"config", "io", "paths", "data.sources", "data.ingest", "data.generate",
                "data.schema", "data.validate", "data.batches", "training.features",
                "training.train", "training.evaluate", "monitoring.drift",
                "monitoring.decision", "monitoring.retrain", "monitoring.reports",
                "tracking.registry", "tracking.lineage"}
    assert {f"nids.{name}" for name in expected} <= set(MODULES)


@pytest.mark.parametrize("module", MODULES)
def test_module_imports(module):
    assert importlib.import_module(module).__name__ == module
