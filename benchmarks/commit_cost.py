"""What the commit protocol costs: time to flush and switch a run's output, beside the run.

    python benchmarks/commit_cost.py [--events 10000000] [--root bench-data]

Generates (once) a log of `--events` events, then runs ``ctr_batch.run`` three times into one
output (one pass, again, 4 buckets) and prints the run's wall time, the commit's (flush of every
file and folder, then the switch of ``OUT/.current``) and the ``fsync`` part of it.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import ctr_batch
from ctr_batch.io import commit
from ctr_batch.io.write import write_events
from ctr_batch.samples.generate import generate_events


def main() -> None:
    """Print the commit's share of a run at the requested size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--root", type=Path, default=Path("bench-data"))
    args = parser.parse_args()
    log = args.root / f"events-commit-{args.events}"
    if not log.exists():
        frame = generate_events(events=args.events, users=args.events // 50, days=7, seed=1)
        write_events(frame, log)
    timings: dict[str, float] = {}
    real_sync, real_commit = commit.sync_tree, commit.commit

    def timed(name: str, function: Any) -> Any:
        def wrapper(*call: Any) -> Any:
            started = time.perf_counter()
            result = function(*call)
            timings[name] = timings.get(name, 0.0) + time.perf_counter() - started
            return result

        return wrapper

    commit.sync_tree, commit.commit = timed("fsync", real_sync), timed("commit", real_commit)
    for label, options in (("one pass", {}), ("again", {}), ("4 buckets", {"buckets": 4})):
        timings.clear()
        started = time.perf_counter()
        ctr_batch.run(log, args.root / "out-commit", **options)
        total = time.perf_counter() - started
        print(f"{label:>10}: run {total:6.2f} s, commit {timings['commit']:.3f} s "
              f"(fsync {timings['fsync']:.3f} s)")  # fmt: skip


if __name__ == "__main__":
    main()
