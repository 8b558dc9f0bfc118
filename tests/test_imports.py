"""Every module of the package imports (no syntax errors, no missing dependencies)."""

import importlib
import pkgutil

import pytest

import nids

MODULES = sorted(
    info.name for info in pkgutil.walk_packages(nids.__path__, prefix=f"{nids.__name__}.")
)


def test_the_package_has_its_training_modules():
    expected = {"config", "datasets", "evaluate", "featurize", "generate", "ingest", "paths",
                "registry", "schema", "train", "validate"}
    assert {f"nids.{name}" for name in expected} <= set(MODULES)


@pytest.mark.parametrize("module", MODULES)
def test_module_imports(module):
    assert importlib.import_module(module).__name__ == module
