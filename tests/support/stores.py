"""Copies of a folder holding an MLflow SQLite store (mlflow.db) and its artifacts
(mlartifacts/), so that a model trained once can be used by several tests, each in a store of
its own."""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from pathlib import Path


def copy_store(source: Path, target: Path) -> None:
    """Copy `source` (everything in it) into `target`, the store pointing at its own
    artifacts in `target`."""
    shutil.copytree(source, target, dirs_exist_ok=True)
    rebase_store(target / "mlflow.db", source, target)
    rebase_artifacts(target / "mlartifacts", source, target)


def rebase_store(database: Path, old: Path, new: Path) -> None:
    """Point a copied MLflow SQLite store at its new folder: MLflow keeps the artifact
    locations of experiments, runs, logged models and versions as absolute paths."""
    with closing(sqlite3.connect(database)) as connection, connection:
        tables = [name for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for column in connection.execute(f'PRAGMA table_info("{table}")').fetchall():
                if "CHAR" in column[2].upper() or "TEXT" in column[2].upper():
                    connection.execute(
                        f'UPDATE "{table}" SET "{column[1]}" = '
                        f'replace("{column[1]}", ?, ?) WHERE instr("{column[1]}", ?) > 0',
                        (str(old), str(new), str(old)))


def rebase_artifacts(artifacts: Path, old: Path, new: Path) -> None:
    """Replace `old` by `new` in the copied artifacts that name their folder (the MLmodel
    files, the corpus partitions a run read)."""
    for path in artifacts.rglob("*"):
        if path.name == "MLmodel" or path.suffix == ".json":
            text = path.read_text(encoding="utf-8")
            if str(old) in text:
                path.write_text(text.replace(str(old), str(new)), encoding="utf-8")
