"""Benchmark ``ctr-batch run --engine spark`` beside the local engine and Spark window SQL.

Usage::

    python benchmarks/spark_bench.py [--sizes 1M,10M] [--cache bench-data] [--masters local[2]]
                                     [--check] [--backfill]

Logs come from ``ctr-batch generate`` (cached, as ``bench.py`` makes them). Each task runs in
a fresh process; a sampler adds up the resident memory of the whole process tree (driver,
JVM, Python workers) every 0.1 s. CPU seconds are those of every process of the tree
(``RUSAGE_CHILDREN``). Tasks: ``ctr-batch run`` (local engine), ``ctr-batch run --engine
spark`` on each master, and the Spark SQL an analyst would write (LAG + SUM OVER windows,
one row per search, written as Parquet). ``--backfill`` adds ``ctr-batch backfill`` of every
day of the log, locally and with ``--engine spark``. ``--check`` compares the Spark engine's
tables with the local engine's, in every column.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import SIZES, ensure_log

TICKS = os.sysconf("SC_CLK_TCK")
PEER = r"""
import os, sys
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
from pyspark.sql import SparkSession
log, out, master = sys.argv[1], sys.argv[2], sys.argv[3]
spark = (SparkSession.builder.master(master).config("spark.ui.enabled", "false")
         .config("spark.ui.showConsoleProgress", "false").getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
spark.read.parquet(log).createOrReplaceTempView("events")
spark.sql('''
WITH numbered AS (
    SELECT user_id, event_time, event_type, query, monotonically_increasing_id() AS seq
    FROM events),
gaps AS (
    SELECT *, CASE WHEN event_time - lag(event_time) OVER w <= INTERVAL 30 MINUTES
                   THEN 0 ELSE 1 END AS opens_session
    FROM numbered WINDOW w AS (PARTITION BY user_id ORDER BY event_time, seq)),
sessions AS (
    SELECT *, sum(opens_session) OVER (PARTITION BY user_id ORDER BY event_time, seq
                                       ROWS UNBOUNDED PRECEDING) AS session_no
    FROM gaps),
segments AS (
    SELECT *, sum(CASE WHEN event_type = 'search' THEN 1 ELSE 0 END) OVER (
               PARTITION BY user_id, session_no ORDER BY event_time, seq
               ROWS UNBOUNDED PRECEDING) AS search_index
    FROM sessions)
SELECT user_id, session_no, search_index,
       min(CASE WHEN event_type = 'search' THEN event_time END) AS search_time,
       first(CASE WHEN event_type = 'search' THEN query END, true) AS query,
       count(CASE WHEN event_type = 'click' THEN 1 END) AS n_clicks,
       CAST(count(CASE WHEN event_type = 'click' THEN 1 END) > 0 AS DOUBLE) AS ctr
FROM segments WHERE search_index > 0
GROUP BY user_id, session_no, search_index
''').write.mode("overwrite").parquet(out + "/peer")
spark.stop()
"""


def tree_usage(root: int, cpu: dict[int, float]) -> int:
    """Resident bytes of `root` and all its descendants, from ``/proc``.

    Records each one's CPU seconds so far in `cpu` (by pid).
    """
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    ticks: dict[int, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(stat.parent.name)
        children.setdefault(int(fields[1]), []).append(pid)
        rss[pid] = int(fields[21]) * resource.getpagesize()
        ticks[pid] = (int(fields[11]) + int(fields[12])) / TICKS
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        cpu[pid] = max(cpu.get(pid, 0.0), ticks.get(pid, 0.0))
        todo.extend(children.get(pid, []))
    return total


def measure(command: list[str]) -> dict[str, float]:
    """Wall and CPU seconds and peak tree RSS of `command`, run to its end."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak, seen = [0], dict[int, float]()

    def sample() -> None:
        while process.poll() is None:
            peak[0] = max(peak[0], tree_usage(process.pid, seen))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample)
    sampler.start()
    _, errors = process.communicate()
    sampler.join()
    wall = time.perf_counter() - start
    if process.returncode:
        msg = f"{command} failed:\n{errors.decode()[-2000:]}"
        raise SystemExit(msg)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    reaped = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    cpu = max(reaped, sum(seen.values()))  # the JVM's workers are not reaped by this process
    return {"wall": wall, "cpu": cpu, "rss_gib": peak[0] / 2**30}


def tasks(
    log: Path, out: Path, masters: list[str], buckets: str | None, *, backfill: bool = False
) -> dict[str, list[str]]:
    """Command of each task, by name."""
    run = [sys.executable, "-m", "ctr_batch", "run", str(log), "-q"]
    found = {"ctr-batch run (local)": [*run, "--out", str(out / "local")]}
    for master in masters:
        spark = [*run, "--out", str(out / _folder(master)), "--engine", "spark"]
        spark += ["--spark-master", master, *(["--buckets", buckets] if buckets else [])]
        found[f"ctr-batch run --engine spark, {master}"] = spark
    for master in masters[-1:]:
        peer = [sys.executable, "-c", PEER, str(log), str(out), master]
        found[f"Spark window SQL, {master}"] = peer
    if backfill:
        days = sorted(folder.name.split("=")[1] for folder in log.glob("date=*"))
        days_run = [
            sys.executable, "-m", "ctr_batch", "backfill", str(log), "-q", "--start", days[0],
            "--end", days[-1], "--allow-empty", "--max-quarantine", "1",
        ]  # fmt: skip
        found["ctr-batch backfill (local)"] = [*days_run, "--out", str(out / "days-local")]
        for master in masters:
            spark = [*days_run, "--out", str(out / f"days-{_folder(master)}"), "--engine", "spark"]
            spark += ["--spark-master", master, *(["--buckets", buckets] if buckets else [])]
            found[f"ctr-batch backfill --engine spark, {master}"] = spark
    return found


def _folder(master: str) -> str:
    """An output folder for `master` without glob characters (``local[2]``: ``spark-local-2``)."""
    return "spark-" + "-".join(re.findall(r"[A-Za-z0-9]+", master))


def check(out: Path, master: str, prefix: str = "") -> str:
    """Whether the Spark engine's tables equal the local engine's in every column."""
    import polars as pl

    if not (out / f"{prefix}local").exists():
        return "not run"
    for table in ("searches", "sessions", "quarantine", "ctr_daily", "ctr_by_query"):
        frames = [
            pl.read_parquet(out / kind / table / "**/*.parquet", hive_partitioning=False)
            for kind in (f"{prefix}local", f"{prefix}{_folder(master)}")
        ]
        keys = [c for c, t in frames[0].schema.items() if not isinstance(t, pl.List)]
        local, spark = (f.sort(keys, nulls_last=True) for f in frames)
        if not (local.schema == spark.schema and local.equals(spark)):
            return f"{table} differs"
    return "equal in every column"


def main() -> None:
    """Parse arguments, run every task and print one line per task."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1M")
    parser.add_argument("--cache", type=Path, default=Path("bench-data"))
    parser.add_argument("--masters", default="local[2]")
    parser.add_argument("--buckets", default=None)
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--backfill", action="store_true", help="also backfill every day")
    parser.add_argument("--only", default="", help="run only the tasks whose name has this")
    args = parser.parse_args()
    masters = args.masters.split(",")
    print(f"{'events':>7} {'task':<42} {'wall s':>8} {'cpu s':>8} {'RSS GiB':>8} {'Mev/s':>7}")
    for label in args.sizes.split(","):
        log = ensure_log(args.cache, label, SIZES[label])
        out = args.cache / f"spark-out-{label}"
        for name, command in tasks(
            log, out, masters, args.buckets, backfill=args.backfill
        ).items():
            if args.only not in name:
                continue
            r = measure(command)
            rate = SIZES[label] / r["wall"] / 1e6
            print(f"{label:>7} {name:<42} {r['wall']:8.2f} {r['cpu']:8.2f} "
                  f"{r['rss_gib']:8.2f} {rate:7.2f}", flush=True)  # fmt: skip
        if args.check:
            print(f"{label:>7} check run: {check(out, masters[-1])}", flush=True)
            if args.backfill:
                print(f"{label:>7} check backfill: {check(out, masters[-1], 'days-')}", flush=True)
    print(f"\nmeasured {time.strftime('%Y-%m-%d %H:%M')}; " + json.dumps(vars(args), default=str))


if __name__ == "__main__":
    main()
