"""Every on-disk layout of an output folder ``OUT``, known in this one place.

- a ``run`` writes one file per table, ``OUT/<table>/part-0.parquet`` (``PART_FILE``), or for
  bucketed tables one part per bucket (``bucket_part``);
- a ``backfill`` writes ``OUT/<table>/date=D/part-0.parquet`` and ``OUT/_manifest.json``;
- writers hold ``OUT/.lock``;
- scratch folders ``OUT/.<kind>-<pid>-<token>`` hold a live run's temporary files; the spill of
  user buckets lays out ``<scratch>/<users|ids>/pass-<k>/_bucket=<b>/*.parquet``.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from pathlib import Path

from ctr_batch.core.errors import ConfigError
from ctr_batch.core.schema import LATE_TABLE, RUN_SUMMARY_TABLE, SEARCHES_TABLE
from ctr_batch.io.find import local_path

PART_FILE = "part-0.parquet"
MANIFEST_FILE = "_manifest.json"
LOCK_FILE = ".lock"
SCRATCH_KINDS = ("buckets", "staging", "replaced", "spark")  # hidden folders a writer makes in OUT
BUCKET = "_bucket"  # hive key of a spilled bucket folder


def bucket_part(index: int) -> str:
    """File name of bucket `index`'s part of a table.

    Examples
    --------
    >>> bucket_part(3)
    'part-00003.parquet'
    """
    return f"part-{index:05d}.parquet"


def output_folder(out: object) -> Path:
    """`out` as the path of an output folder; a ConfigError for an empty path or no path."""
    if not isinstance(out, str | Path) or not str(out).strip():
        msg = f"out: expected the path of an output folder; got {out!r}"
        raise ConfigError(msg)
    return local_path(out)


def check_output_folder(out: Path) -> None:
    """ConfigError when `out` exists but is not a folder (a missing one is created)."""
    if out.exists() and not out.is_dir():
        msg = f"--out {out}: is a file; expected a folder (created if missing)"
        raise ConfigError(msg)


def output_kind(out: Path) -> str | None:
    """The command whose output `out` holds: backfill, simulate-stream, run, or None (none).

    A backfill's has its manifest, a stream's its ``late`` table (and tables of other columns
    under the batch's names), a run's its ``run_summary`` (or, written before it existed, one
    ``searches`` part).
    """
    if (out / MANIFEST_FILE).exists():
        return "backfill"
    if (out / LATE_TABLE).exists():
        return "simulate-stream"
    if (out / RUN_SUMMARY_TABLE).exists() or (out / SEARCHES_TABLE / PART_FILE).exists():
        return "run"
    return None


def refuse_other_output(out: Path, command: str) -> None:
    """ConfigError if `out` holds another command's output: `command` would mix or replace it.

    A run rewrites every table of a run's output, a backfill adds day partitions to a
    backfill's: into anything else, the tables would mix layouts (Polars and DuckDB could no
    longer read them) or a stream's would silently replace the batch's.
    """
    kind = output_kind(out)
    if kind is not None and kind != command:
        msg = f"{out} holds the output of `ctr-batch {kind}`; {command} into another --out"
        raise ConfigError(msg)


def scratch_folder(out: Path, kind: str) -> Path:
    """A new hidden folder ``.{kind}-{pid}-{token}`` of `out` for this process's scratch files.

    The pid lets a later run tell a killed run's leftovers from a live run's (``remove_orphans``).
    """
    folder = out / f".{kind}-{os.getpid()}-{uuid.uuid4().hex[:12]}"
    folder.mkdir(parents=True)
    return folder


def remove_orphans(out: Path) -> None:
    """Remove the scratch folders of `out` whose process has exited (a killed run's)."""
    for kind in SCRATCH_KINDS:
        for folder in out.glob(f".{kind}-*-*"):
            pid = folder.name.split("-")[1]
            if folder.is_dir() and pid.isdigit() and not _alive(int(pid)):
                remove_folder(folder)


def remove_stale_temporaries(out: Path) -> None:
    """Remove temporary part and manifest files a killed writer left (call with the lock held)."""
    partitions, manifests = out.rglob(f".{PART_FILE}.*.tmp"), out.glob(f".{MANIFEST_FILE}.*.tmp")
    for stale in [*partitions, *manifests]:
        stale.unlink(missing_ok=True)


def manifest_temporary(out: Path) -> Path:
    """Temporary name, for this process, of the manifest of `out` (then renamed over it)."""
    return out / f".{MANIFEST_FILE}.{os.getpid()}.tmp"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_folder(folder: Path, *, attempts: int = 20) -> None:
    """Delete `folder`, retrying while files still appear in it.

    After a failed streaming sink, Polars' writer threads may still close files in it for a
    moment; `attempts` tries, 50 ms apart.
    """
    for _ in range(attempts):
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            return
        time.sleep(0.05)


def spill_pass(workdir: Path, kind: str, index: int) -> Path:
    """Folder of spill pass `index` for `kind` (``users`` or ``ids``) under `workdir`."""
    return workdir / kind / f"pass-{index:06d}"


def bucket_files(workdir: Path, kind: str) -> list[list[Path]]:
    """The files of each non-empty spilled bucket of `kind`, over every pass, in bucket order."""
    files: dict[int, list[Path]] = {}
    for path in (workdir / kind).glob(f"pass-*/{BUCKET}=*/*.parquet"):
        files.setdefault(int(path.parent.name.split("=", 1)[1]), []).append(path)
    return [sorted(files[bucket]) for bucket in sorted(files)]
