"""Does ``--memory-limit`` cap the whole process? Prints peak RSS per limit. Not a test.

Usage::

    python benchmarks/memory_cap.py [--log PATH | --events 10M] [--limits 512MiB,1GiB,2GiB,4GiB]
        [--cache bench-data]

Each limit runs ``ctr-batch run LOG --out OUT --memory-limit L`` in a fresh process (peak RSS
of that process, from ``getrusage``), then checks that its tables equal those of a run without
a limit (the same rows; parts may differ). Target: peak RSS <= 1.1 x the limit.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from bench import CHILD, SIZES, ensure_log

TABLES = ("searches", "sessions", "ctr_daily", "ctr_by_query", "quarantine")
SAME = r"""
import sys, polars as pl
a, b, table = sys.argv[1:]
read = lambda out: pl.read_parquet(f"{out}/{table}/**/*.parquet")
left, right = read(a), read(b)
columns = sorted(left.columns)
left, right = left.select(columns).sort(pl.all()), right.select(columns).sort(pl.all())
print("same" if left.equals(right) else "DIFFERENT")
"""


def measure(log: Path, out: Path, options: list[str]) -> dict[str, float]:
    """One ``ctr-batch run`` in a fresh process; its wall, CPU and peak RSS."""
    task = " ".join(["ctr-batch", *options])
    command = [sys.executable, "-c", CHILD, task, str(log), str(out), ""]
    result = subprocess.run(command, check=True, capture_output=True, text=True)
    figures: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


def same_tables(left: Path, right: Path) -> bool:
    """True when every table of the two outputs has the same rows."""
    for table in TABLES:
        command = [sys.executable, "-c", SAME, str(left), str(right), table]
        answer = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        if answer.strip() != "same":
            return False
    return True


def main() -> None:
    """Run every limit and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log", type=Path, help="an events folder (default: a generated log)")
    parser.add_argument("--events", default="10M", choices=SIZES)
    parser.add_argument("--limits", default="512MiB,768MiB,1GiB,1536MiB,2GiB,3GiB,4GiB")
    parser.add_argument("--cache", type=Path, default=Path("bench-data"))
    args = parser.parse_args()
    log = args.log or ensure_log(args.cache, args.events, SIZES[args.events])
    reference = args.cache / "cap-reference"
    unlimited = measure(log, reference, ["--buckets", "1"])
    print(f"{'limit':>9} {'wall s':>7} {'cpu s':>7} {'RSS GiB':>8} {'RSS/limit':>9} {'tables':>7}")
    print(f"{'one pass':>9} {unlimited['wall']:7.2f} {unlimited['cpu']:7.2f} "
          f"{unlimited['rss_gib']:8.2f} {'-':>9} {'-':>7}")  # fmt: skip
    for limit in args.limits.split(","):
        out = args.cache / f"cap-{limit}"
        r = measure(log, out, ["--memory-limit", limit])
        ratio = r["rss_gib"] * 2**30 / parse(limit)
        tables = "same" if same_tables(reference, out) else "DIFFER"
        print(f"{limit:>9} {r['wall']:7.2f} {r['cpu']:7.2f} {r['rss_gib']:8.2f} "
              f"{ratio:9.2f} {tables:>7}", flush=True)  # fmt: skip
    print(f"\nlog {log}; target RSS/limit <= 1.10")


def parse(size: str) -> int:
    """Bytes of a size such as ``512MiB`` (as ``ctr-batch`` reads it)."""
    from ctr_batch.core.config import parse_size

    return parse_size(size)


if __name__ == "__main__":
    main()
