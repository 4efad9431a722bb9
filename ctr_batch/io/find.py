"""Find the Parquet files of the inputs: files, folders (recursive) and globs, in path order."""

from __future__ import annotations

import glob
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

from ctr_batch.core.errors import ConfigError, InputError

if TYPE_CHECKING:
    from collections.abc import Sequence

# hdfs://, s3a://, file://, ... (a Path keeps one slash of two: s3a:/bucket)
_URL = re.compile(r"([A-Za-z][A-Za-z0-9+.-]+):/")


def find_event_files(
    inputs: str | Path | Sequence[str | Path], *, outside: Path | None = None
) -> list[Path]:
    """Resolve files, directories (recursive) and globs to Parquet files in sorted path order.

    Files and folders whose names start with ``.`` or ``_`` (temporary or marker files) are
    skipped inside directories, whose symbolic links to folders are followed (each folder read
    once); a folder named ``*.parquet`` (as Spark writes) is read as the files inside it. A file
    reached twice (say by a relative and an absolute path) is read once. Files under `outside`
    (the run's own output folder) are left out, so that an output folder inside the input
    folder is not read back by a rerun.
    """
    return list(locate_event_files(inputs, outside=outside))


def locate_event_files(
    inputs: str | Path | Sequence[str | Path], *, outside: Path | None = None
) -> dict[Path, Path]:
    """``find_event_files``, each file with the folder it was found under (in path order).

    That root is the folder given, the fixed part of a glob, or a file's parent's parent (so
    that the folder holding a file given by name counts as a partition, see ``days.window``).
    """
    own = outside.resolve() if outside is not None else None
    found: dict[Path, tuple[Path, Path]] = {}  # resolved path -> (first spelling, its root)
    for spec in input_specs(inputs):
        matches, root = _matches(local_path(spec))
        if own is not None:
            outputs = [p for p in matches if p.resolve().is_relative_to(own)]
            matches = [p for p in matches if p not in outputs]
            if outputs and not matches:
                msg = f"{spec}: holds only the output folder {outside}; give the events instead"
                raise ConfigError(msg)
        if not matches:
            raise InputError.no_files(str(spec))
        for match in matches:
            found.setdefault(match.resolve(), (match, root))
    ordered = sorted(found.values(), key=lambda pair: pair[0].as_posix())
    return dict(ordered)


def _matches(path: Path) -> tuple[list[Path], Path]:
    """The Parquet files a path names, and the root they were found under."""
    if path.is_file():
        return [path], path.parent.parent
    if path.is_dir():
        return _walk(path), path
    pattern = path.as_posix()
    fixed = pattern[: min((pattern.find(c) for c in "*?[" if c in pattern), default=0)]
    root = Path(fixed) if fixed.endswith("/") or not fixed else Path(fixed).parent
    matches = [Path(p) for p in glob.glob(pattern, recursive=True)]  # noqa: PTH207
    files = [p for p in matches if p.is_file()]
    files += [f for p in matches if p.is_dir() and p.suffix == ".parquet" for f in _walk(p)]
    return files, root


def _walk(folder: Path) -> list[Path]:
    """Parquet files under `folder`, following links to folders, each real folder once."""
    files, seen = [], set()
    for root, dirs, names in os.walk(folder, followlinks=True):
        real = Path(root).resolve()
        if real in seen or _hidden(Path(root).relative_to(folder)):
            dirs.clear()
            continue
        seen.add(real)
        files += [Path(root) / n for n in names if n.endswith(".parquet") and not _hidden(Path(n))]
    return [p for p in files if p.is_file()]


def local_path(spec: str | Path) -> Path:
    """`spec` as a local path: a ``file://`` URL's path; a ConfigError for other URLs.

    Examples
    --------
    >>> local_path("file:///data/events%20v2"), local_path(Path("file:///data")), local_path("ev")
    (PosixPath('/data/events v2'), PosixPath('/data'), PosixPath('ev'))
    """
    url = _URL.match(str(spec))
    if url is None:
        return Path(spec)
    parts = urlparse(str(spec))
    if url.group(1).lower() == "file" and parts.netloc in ("", "localhost") and parts.path:
        return Path(unquote(parts.path))
    if url.group(1).lower() == "file":
        msg = f"{spec}: a file:// URL names a path on this machine, as file:///data/events"
        raise ConfigError(msg)
    msg = f"{spec}: ctr-batch reads and writes local or mounted paths, not {url.group(1)}:// "
    msg += "URLs (mount or copy the data; on Spark, pass a DataFrame you read to ctr_batch."
    msg += "spark.tables.spark_tables, see the README's Spark section)"
    raise ConfigError(msg)


def input_specs(inputs: object) -> list[str | Path]:
    """`inputs` as a list of paths or globs; a ConfigError for anything else or nothing."""
    specs = [inputs] if isinstance(inputs, str | Path) else inputs
    if not isinstance(specs, list | tuple) or not all(isinstance(s, str | Path) for s in specs):
        msg = f"events: expected paths or globs of Parquet files; got {type(inputs).__name__}"
        raise ConfigError(msg)
    if not specs or any(str(spec) == "" for spec in specs):
        msg = "events: no input given (an empty list, or an empty path)"
        raise ConfigError(msg)
    return list(specs)


def parquet_files(folder: Path) -> list[Path]:
    """The Parquet files under `folder` (recursive, hidden names skipped), in path order.

    Listing them here, rather than giving Polars or DuckDB a glob, keeps any ``[``, ``*`` or
    ``?`` in the folder's own path from being read as a pattern.
    """
    files = (p for p in folder.rglob("*.parquet") if not _hidden(p.relative_to(folder)))
    return sorted(files, key=lambda p: p.as_posix())


def _hidden(relative: Path) -> bool:
    return any(part.startswith((".", "_")) for part in relative.parts)
