"""Locate folders shipped with the package (``data/``, ``queries/``)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def resource_dir(name: str) -> Path:
    """Folder `name` inside the installed wheel, else the repository's top-level one."""
    packaged = Path(str(resources.files("ctr_batch"))) / name
    return packaged if packaged.is_dir() else Path(__file__).resolve().parents[2] / name


def data_dir() -> Path:
    """Bundled sample event logs."""
    return resource_dir("data")


def queries_dir() -> Path:
    """Curated SQL: reports in ``queries/``, checks in ``queries/checks/``."""
    return resource_dir("queries")
