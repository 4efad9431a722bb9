"""The public API is exactly ``__all__``, sorted, and every name resolves."""

from __future__ import annotations

import subprocess
import sys

import pytest

import ctr_batch


def test_all_is_sorted_and_resolves() -> None:
    assert ctr_batch.__all__ == sorted(ctr_batch.__all__)
    for name in ctr_batch.__all__:
        assert getattr(ctr_batch, name) is not None
    assert dir(ctr_batch) == ctr_batch.__all__
    assert sorted([*ctr_batch._HOMES, "__version__"]) == ctr_batch.__all__


def test_names_stay_what_they_are_once_every_module_is_loaded() -> None:
    """No submodule shares a public name: importing it would replace the name on the package."""
    code = (
        "import importlib, pkgutil, types, ctr_batch\n"
        "for module in pkgutil.walk_packages(ctr_batch.__path__, 'ctr_batch.'):\n"
        "    if not module.name.endswith('__main__'):\n"
        "        importlib.import_module(module.name)\n"
        "names = ctr_batch.__all__\n"
        "print([n for n in names if isinstance(getattr(ctr_batch, n), types.ModuleType)])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_unknown_name() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = ctr_batch.nope  # type: ignore[attr-defined]


def test_run_does_not_load_duckdb_or_the_stream_modules() -> None:
    code = "import sys, ctr_batch.cli.app; print(sorted(m for m in sys.modules if m in {'duckdb', 'ctr_batch.reconciliation.reconcile', 'ctr_batch.streaming.simulate'}))"  # noqa: E501
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
