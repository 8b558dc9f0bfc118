"""Every module of the package imports (no syntax errors, no missing dependencies)."""

import importlib
import pkgutil

import pytest

import bench
import flows
import nids

MODULES = sorted(
    info.name for info in pkgutil.walk_packages(nids.__path__, prefix=f"{nids.__name__}.")
)
# The flows and benchmarks import the package's names too: a moved name breaks them at once.
SCRIPTS = sorted(info.name for package in (flows, bench)
                 for info in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}."))


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


@pytest.mark.parametrize("module", SCRIPTS)
def test_flow_and_benchmark_modules_import(module):
    assert importlib.import_module(module).__name__ == module
