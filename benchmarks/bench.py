"""Benchmark ctr-batch beside its peers; prints a table of figures. Not a test.

Usage::

    python benchmarks/bench.py [--sizes 1M,10M,50M,200M,1B] [--engines auto,duckdb]
                               [--cache bench-data] [--skip-peer] [--validate]

Generates logs with ``ctr-batch generate`` (cached under ``--cache``), then measures, each in a
fresh process: ``ctr-batch run`` (each engine), the DuckDB window-SQL job an analyst would
write (``benchmarks/peer_window.sql``), and the limit pieces: a scan of the needed columns and
the sort by (user, time) alone. For each: wall seconds, CPU seconds, peak RSS, events/s, and
the ratio to the peer and to the scan + sort limit. ``--engines auto,duckdb`` adds the SQL
twin. Beyond 50M events (``200M``, ``1B``: logs built from 50M-event chunks) only ``ctr-batch``
runs: the peer and the limit pieces would sort the whole log in memory.

``--validate`` adds ``validate --events`` beside ``run`` on a 2M-event log: once with a stream
output that agrees with the batch (no difference to explain), once with 5 % of users' events
arriving in reverse order, so that the stream drops some as late (differences to explain).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
USERS_PER_EVENT = 0.02  # 10M events -> 200k users
DAYS = 7
SIZES = {
    "1M": 1_000_000,
    "10M": 10_000_000,
    "50M": 50_000_000,
    "200M": 200_000_000,
    "1B": 1_000_000_000,
}
VALIDATE_EVENTS = 2_000_000
DISORDERED_SHARE = 20  # one user in 20 (5 %) has its events arrive in reverse order
CHUNK = 50_000_000  # larger logs are built from chunks of this many events (disjoint users)
GENERATED_CHUNKS = 6  # the other chunks copy these under new user ids

CHILD = r"""
import json, resource, sys, time
task, log, out = sys.argv[1], sys.argv[2], sys.argv[3]
start = time.perf_counter()
if task == "scan":
    import polars as pl
    pl.scan_parquet(log + "/**/*.parquet").select("user_id", "event_time", "event_type").collect()
elif task == "sort":
    import polars as pl
    lf = pl.scan_parquet(log + "/**/*.parquet", row_index_name="_seq")
    lf.select("user_id", "event_time", "event_type", "_seq").sort(
        "user_id", "event_time", "_seq").collect(engine="in-memory")
elif task == "peer":
    import duckdb
    sql = open(sys.argv[4], encoding="utf-8").read()
    duckdb.sql(sql, params={"events": log + "/**/*.parquet"}).write_parquet(out + "/peer.parquet")
else:
    from ctr_batch.cli.app import main
    if task.split()[0] == "ctr-batch":  # a run of the log, with options
        sys.argv = ["ctr-batch", "run", log, "--out", out, "-q", *task.split()[1:]]
    else:  # any command, its arguments in the task
        sys.argv = ["ctr-batch", *task.split()]
    try:
        main()
    except SystemExit as exit:
        if exit.code:
            raise
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
                  "rss_gib": usage.ru_maxrss / 2**20}))
"""


def ensure_log(cache: Path, label: str, events: int) -> Path:
    """Generate the log once; later runs reuse it."""
    log = cache / f"events-{label}"
    if not (log / ".complete").exists():
        if events <= CHUNK:
            generate(log, events, seed=1)
        else:
            build_in_chunks(log, events)
        (log / ".complete").touch()
    return log


def generate(log: Path, events: int, *, seed: int) -> None:
    """``ctr-batch generate`` one log into `log` (day partitions)."""
    users = max(100, int(events * USERS_PER_EVENT))
    subprocess.run(
        [sys.executable, "-m", "ctr_batch", "generate", "--events", str(events),
         "--users", str(users), "--days", str(DAYS), "--seed", str(seed), "--out", str(log)],
        check=True,
    )  # fmt: skip


def build_in_chunks(log: Path, events: int) -> None:
    """A log too big to generate in memory: chunks of ``CHUNK`` events with disjoint users.

    The first ``GENERATED_CHUNKS`` chunks are generated (chunk ``k`` with seed ``k + 1``);
    later ones copy chunk ``k % GENERATED_CHUNKS``, which takes seconds rather than minutes.
    Chunk ``k`` prefixes every ``user_id`` and ``event_id`` with ``c{k}-``, so chunks never
    share a user or an id. Each chunk is one file.
    """
    import polars as pl  # only the builder needs it

    chunks = events // CHUNK
    for k in range(chunks):
        part = log / f"chunk-{k:03d}.parquet"
        if part.exists():
            continue
        scratch = log / f".scratch-{k:03d}"
        if k < GENERATED_CHUNKS:
            generate(scratch, CHUNK, seed=k + 1)
            source = pl.scan_parquet(scratch / "**/*.parquet", hive_partitioning=False)
        else:
            source = pl.scan_parquet(log / f"chunk-{k % GENERATED_CHUNKS:03d}.parquet")
        prefixed = [(pl.lit(f"c{k}-") + pl.col(c)).alias(c) for c in ("user_id", "event_id")]
        source.with_columns(prefixed).sink_parquet(log / f".{part.name}", mkdir=True)
        (log / f".{part.name}").rename(part)
        shutil.rmtree(scratch, ignore_errors=True)
        print(f"built {part} ({k + 1} of {chunks})", file=sys.stderr, flush=True)


def validate_rows(cache: Path) -> None:
    """``run`` and ``validate --events`` on a 2M-event log, agreeing and with differences."""
    import polars as pl  # only the validate section needs it

    log = cache / "validate-2M" / "events"
    if not (log.parent / ".complete").exists():
        generate(log, VALIDATE_EVENTS, seed=5)
        frame = pl.scan_parquet(log / "**/*.parquet", hive_partitioning=False)
        arrival = pl.int_range(pl.len(), dtype=pl.Int64)
        chosen = pl.col("user_id").hash(seed=7) % DISORDERED_SHARE == 0
        frame = frame.with_columns(
            pl.when(chosen).then(-arrival).otherwise(arrival).alias("arrival")
        )
        frame.sink_parquet(log.parent / "disordered.parquet")
        (log.parent / ".complete").touch()
    cases = {"agreeing": log, "5 % of users late": log.parent / "disordered.parquet"}
    print(f"\n{'validate (2M events)':<32} {'task':<10} {'wall s':>8} {'cpu s':>8} "
          f"{'RSS GiB':>8} {'/run':>6}")  # fmt: skip
    for case, events in cases.items():
        work = log.parent / case.split()[0]
        shutil.rmtree(work, ignore_errors=True)
        stream, batch = work / "stream", work / "batch"
        arrival = " --arrival-column arrival" if events.suffix else ""
        subprocess.run(
            [sys.executable, "-m", "ctr_batch", "simulate-stream", str(events), "--out",
             str(stream), "--wait", "2m", *arrival.split()],
            check=True, capture_output=True,
        )  # fmt: skip
        run = measure("ctr-batch", events, batch)
        check = f"validate --batch {batch} --stream {stream / 'searches'} --events {events}"
        check += f" --wait 2m{arrival}"
        validated = measure(check, events, work / "unused")
        for task, r in {"run": run, "validate": validated}.items():
            print(f"{case:<32} {task:<10} {r['wall']:8.2f} {r['cpu']:8.2f} {r['rss_gib']:8.2f} "
                  f"{r['wall'] / run['wall']:6.2f}")  # fmt: skip


def measure(task: str, log: Path, out: Path) -> dict[str, float]:
    """Run one task in a fresh Python process and return its own figures."""
    out.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-c",
        CHILD,
        task,
        str(log),
        str(out),
        str(HERE / "peer_window.sql"),
    ]
    result = subprocess.run(command, check=True, capture_output=True, text=True)
    figures: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


def main() -> None:
    """Parse arguments, run every measurement and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1M,10M")
    parser.add_argument("--cache", type=Path, default=Path("bench-data"))
    parser.add_argument("--skip-peer", action="store_true")
    parser.add_argument("--engines", default="auto")
    parser.add_argument(
        "--memory-limit", default="", help="passed to ctr-batch run (default: none, its own)"
    )
    parser.add_argument("--validate", action="store_true", help="add validate --events rows")
    args = parser.parse_args()
    limit = f" --memory-limit {args.memory_limit}" if args.memory_limit else ""
    tasks = [
        "scan",
        "sort",
        *(f"ctr-batch --engine {e}{limit}" for e in args.engines.split(",")),
    ]  # fmt: skip
    if not args.skip_peer:
        tasks.append("peer")
    print(f"{'events':>7} {'task':<50} {'wall s':>8} {'cpu s':>8} {'RSS GiB':>8} "
          f"{'Mev/s':>7} {'/peer':>6} {'/limit':>7}")  # fmt: skip
    for label in args.sizes.split(","):
        events = SIZES[label]
        log = ensure_log(args.cache, label, events)
        # Beyond one chunk only ctr-batch runs: the limit pieces sort in memory, and would not fit.
        sized = tasks if events <= CHUNK else [t for t in tasks if t.startswith("ctr-batch")]
        results = {t: measure(t, log, args.cache / f"out-{label}") for t in sized}
        limit = results["scan"]["wall"] + results["sort"]["wall"] if "scan" in results else None
        peer = results.get("peer", {}).get("wall")
        for task, r in results.items():
            to_peer = f"{r['wall'] / peer:6.2f}" if peer else "     -"
            to_limit = f"{r['wall'] / limit:7.2f}" if limit else "      -"
            rate = events / r["wall"] / 1e6
            print(f"{label:>7} {task:<50} {r['wall']:8.2f} {r['cpu']:8.2f} {r['rss_gib']:8.2f} "
                  f"{rate:7.2f} {to_peer} {to_limit}")  # fmt: skip
        sys.stdout.flush()
    if args.validate:
        validate_rows(args.cache)
    print(
        f"\nmeasured {time.strftime('%Y-%m-%d')}, {resource.getpagesize()} B pages; "
        "limit = scan + sort (user, time)"
    )


if __name__ == "__main__":
    main()
