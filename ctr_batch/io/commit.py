"""The commit protocol of every writer: build the new output aside, then switch to it at once.

``OUT/<table>`` and ``OUT/_manifest.json`` are symbolic links into ``OUT/.current``, itself a
link to one folder of ``OUT/.snapshots``. A writer, holding the lock on ``OUT``, builds its
output in a new snapshot folder (for a backfill, starting from hard links to the current
one's files), flushes it to disk, and replaces ``.current`` by one atomic rename. So a reader
of ``OUT/<table>/**/*.parquet`` finds the whole previous output or the whole new one, at any
instant, however the writer dies. Nothing is deleted before the switch; afterwards the
snapshots older than the previous one are removed (readers that resolved the previous one
just before the switch can finish). An output folder of an older version (real table
folders) is converted at its first commit.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from ctr_batch.io.layout import remove_folder, remove_orphans
from ctr_batch.io.lock import exclusive_lock

if TYPE_CHECKING:
    from collections.abc import Iterator

SNAPSHOTS = ".snapshots"
CURRENT = ".current"
KILL_VARIABLE = "CTR_BATCH_KILL_AT"  # tests: `step` or `step:n` kills the process there
PAUSE_VARIABLE = "CTR_BATCH_PAUSE_AT"  # tests: `step:file` waits there while `file` exists
COMMIT_STEPS = ("locked", "written", "synced", "linked", "switched", "pruned")
_seen: dict[str, int] = {}


def checkpoint(step: str) -> None:
    """Fault injection for tests: kill or pause this process at `step` when asked to.

    ``CTR_BATCH_KILL_AT=switched`` SIGKILLs it at the first ``switched`` step, ``switched:3``
    at the third. ``CTR_BATCH_PAUSE_AT=linked:/tmp/flag`` creates ``/tmp/flag`` at the first
    ``linked`` step and waits there until the file is removed. Without them this does nothing.
    """
    _seen[step] = _seen.get(step, 0) + 1
    if wanted := os.environ.get(KILL_VARIABLE):
        name, _, count = wanted.partition(":")
        if name == step and _seen[step] == int(count or 1):
            os.kill(os.getpid(), signal.SIGKILL)
    if wanted := os.environ.get(PAUSE_VARIABLE):
        name, _, flag = wanted.partition(":")
        if name == step and _seen[step] == 1:
            Path(flag).touch()
            while Path(flag).exists():
                time.sleep(0.02)


def current_snapshot(out: Path) -> Path | None:
    """The snapshot folder ``OUT/.current`` points at (None: no committed output yet)."""
    link = out / CURRENT
    return out / SNAPSHOTS / link.readlink().name if link.is_symlink() else None


@contextlib.contextmanager
def new_output(out: Path, *, carry: bool = False) -> Iterator[Path]:
    """A new snapshot folder to write the output into, committed when the block ends.

    With `carry`, the folder starts as hard links to the files of the current output, to be
    replaced (never overwritten in place) where they change. If the block raises, the folder
    is removed and the current output stays as it was. Call with the lock on `out` held.
    """
    folder = begin(out, carry=carry)
    try:
        yield folder
        commit(out, folder)
    except BaseException:
        discard(out, folder)
        raise


def begin(out: Path, *, carry: bool = False) -> Path:
    """A new, uncommitted snapshot folder of `out` (see ``new_output``)."""
    folder = out / SNAPSHOTS / f"{time.time_ns():020d}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True)
    if carry:
        try:
            _link_copy(_carried(out), folder)
        except BaseException:
            remove_folder(folder)
            raise
    return folder


def discard(out: Path, folder: Path) -> None:
    """Remove `folder`, a snapshot begun but not committed (a committed one stays)."""
    if current_snapshot(out) != folder:
        remove_folder(folder)


@contextlib.contextmanager
def writing(out: Path, command: str) -> Iterator[None]:
    """Hold the lock on `out` for `command`, after cleaning up what killed writers left.

    An `out` this block created is removed again, under the lock, if the block fails before
    any commit, so a failed first run leaves nothing behind. A writer refused the lock removes
    nothing: the folder is the holder's.
    """
    created = not out.exists()
    with exclusive_lock(out, command):
        try:
            checkpoint("locked")
            remove_orphans(out)
            recover(out)
            yield
        except BaseException:
            if created and current_snapshot(out) is None:
                remove_folder(out)
            raise


def commit(out: Path, folder: Path) -> None:
    """Make `folder` (a snapshot of `out`) the current output in one atomic step."""
    checkpoint("written")
    sync_tree(folder)
    checkpoint("synced")
    names = sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
    aside = out / SNAPSHOTS / f"legacy-{uuid.uuid4().hex[:8]}"
    for name in names:
        _point_at_current(out, name, aside)
    checkpoint("linked")
    pointer = out / f"{CURRENT}.{os.getpid()}.tmp"
    pointer.unlink(missing_ok=True)
    pointer.symlink_to(f"{SNAPSHOTS}/{folder.name}")
    previous = current_snapshot(out)
    pointer.replace(out / CURRENT)  # the commit
    sync_path(out)
    checkpoint("switched")
    _unlink_dropped(out, set(names))
    prune(out, keep={folder, *([previous] if previous else [])})
    checkpoint("pruned")


def prune(out: Path, keep: set[Path]) -> None:
    """Remove the snapshots of `out` not in `keep`, and leftover pointers (lock held)."""
    for folder in (out / SNAPSHOTS).glob("*"):
        if folder not in keep:
            remove_folder(folder)
    for stale in out.glob(f"{CURRENT}.*.tmp"):
        stale.unlink(missing_ok=True)


def recover(out: Path) -> None:
    """Remove what killed writers left: uncommitted snapshots and pointers (lock held)."""
    current = current_snapshot(out)
    if (out / SNAPSHOTS).is_dir():
        previous = _newest_before(out, current)
        prune(out, keep={p for p in (current, previous) if p is not None})


def sync_tree(folder: Path) -> None:
    """Flush every file and folder under `folder` to disk (children before parents).

    A file with more than one link is a carried file of a committed snapshot, flushed when that
    was committed: only its new name (the folder) needs flushing.
    """
    for root, _, files in os.walk(folder, topdown=False):
        for name in files:
            path = Path(root) / name
            if path.stat().st_nlink > 1:
                continue
            sync_path(path)
        sync_path(Path(root))


def sync_path(path: Path) -> None:
    """Flush a file's content, or a folder's entries (names made, renamed, removed), to disk."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _carried(out: Path) -> Path | None:
    """Where the current output lies: its snapshot, `out` itself (older layout) or nowhere."""
    current = current_snapshot(out)
    if current is not None:
        return current
    return out if any(_entries(out)) else None


def _entries(folder: Path) -> Iterator[Path]:
    """Tables and manifest in `folder`: a snapshot, or an older version's output (not links)."""
    if folder.is_dir():
        for entry in folder.iterdir():
            if not entry.name.startswith(".") and not entry.is_symlink():
                yield entry


def _link_copy(source: Path | None, folder: Path) -> None:
    """Hard links in `folder` to every file of the output at `source` (copies if links fail)."""
    for entry in _entries(source) if source is not None else ():
        if entry.is_dir():
            shutil.copytree(entry, folder / entry.name, copy_function=_link_or_copy)
        else:
            _link_or_copy(str(entry), str(folder / entry.name))


def _link_or_copy(source: str, target: str) -> str:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)
    return target


def _point_at_current(out: Path, name: str, aside: Path) -> None:
    """Make ``OUT/name`` a link to ``.current/name``; an older layout's folder is moved aside."""
    path, target = out / name, f"{CURRENT}/{name}"
    if path.is_symlink() and str(path.readlink()) == target:
        return
    if path.is_dir() and not path.is_symlink():
        aside.mkdir(parents=True, exist_ok=True)
        path.rename(aside / name)
    temporary = out / f".{name}.{os.getpid()}.link.tmp"
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(target)
    temporary.replace(path)


def _unlink_dropped(out: Path, names: set[str]) -> None:
    """Remove links to tables the current output no longer has."""
    for entry in out.iterdir():
        dropped = entry.is_symlink() and entry.name not in names
        if dropped and str(entry.readlink()).startswith(f"{CURRENT}/"):
            entry.unlink()


def _newest_before(out: Path, current: Path | None) -> Path | None:
    """The newest snapshot older than `current`: the previous output, kept for readers."""
    if current is None:
        return None
    older = sorted(p for p in (out / SNAPSHOTS).glob("[0-9]*") if p.name < current.name)
    return older[-1] if older else None
