"""What a backfill costs beside one ``ctr-batch run`` of the same log; prints a table. Not a test.

Usage::

    python benchmarks/backfill_cost.py [--cache bench-data] [--repeat 2]

Generates (once, cached) a 10M-event, 8-day log in ``date=`` folders (``ctr-batch generate
--events 10000000 --users 200000 --days 8 --seed 3``), then times each job in a fresh process,
one after the other, ``--repeat`` times: ``run`` over the 8 days, ``backfill`` of the 8 days,
its rerun (every day unchanged), one day alone (default lookback and ``--lookback 2h``), the
night after (days 1-7 in ``OUT``, folder 8 lands, day 8 asked; both lookbacks) and the floor,
a ``run`` over one day's folder alone. Ratios are to the run of the same round.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

DAYS = [f"2026-11-0{day}" for day in range(1, 9)]


def ctr_batch(*args: str | Path) -> tuple[float, float]:
    """Run one ctr-batch command in a fresh process: wall seconds and its peak RSS in GB."""
    started = time.perf_counter()
    command = [sys.executable, "-m", "ctr_batch", *map(str, args), "-q"]
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise subprocess.CalledProcessError(child.returncode, command)
    return time.perf_counter() - started, usage.ru_maxrss * 1024 / 1e9  # KiB on Linux


def backfill(log: Path, out: Path, first: str, last: str, *options: str) -> tuple[float, float]:
    """``ctr-batch backfill`` of the days `first` to `last`, timed."""
    return ctr_batch("backfill", log, "--out", out, "--start", first, "--end", last, *options)


def one_round(log: Path, work: Path) -> dict[str, tuple[float, float]]:
    """Every job once, in order."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    figures = {"run over the 8 days": ctr_batch("run", log, "--out", work / "run")}
    figures["backfill of the 8 days"] = backfill(log, work / "b8", DAYS[0], DAYS[-1])
    figures["rerun, every day unchanged"] = backfill(log, work / "b8", DAYS[0], DAYS[-1])
    figures["one day alone"] = backfill(log, work / "one", DAYS[3], DAYS[3])
    figures["one day alone, --lookback 2h"] = backfill(
        log, work / "one2h", DAYS[3], DAYS[3], "--lookback", "2h"
    )
    for lookback in ("1d", "2h"):
        arrived = work / f"arrived-{lookback}"
        for day in DAYS[:-1]:
            shutil.copytree(log / f"date={day}", arrived / f"date={day}")
        out = work / f"night-{lookback}"
        backfill(arrived, out, DAYS[0], DAYS[-2], "--lookback", lookback)
        shutil.copytree(log / f"date={DAYS[-1]}", arrived / f"date={DAYS[-1]}")
        label = "the night after" + ("" if lookback == "1d" else ", --lookback 2h")
        figures[label] = backfill(arrived, out, DAYS[-1], DAYS[-1], "--lookback", lookback)
    figures["floor: run over one day's folder"] = ctr_batch(
        "run", log / f"date={DAYS[3]}", "--out", work / "folder"
    )
    return figures


def main() -> None:
    """Parse arguments, generate the log once, time every job and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=Path("bench-data"))
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    log = args.cache / "backfill-10M"
    if not (log / ".complete").exists():
        shutil.rmtree(log, ignore_errors=True)
        subprocess.run(
            [sys.executable, "-m", "ctr_batch", "generate", "--events", "10000000", "--users",
             "200000", "--days", "8", "--seed", "3", "--out", str(log)],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        (log / ".complete").touch()
    rounds = [one_round(log, args.cache / "backfill-work") for _ in range(args.repeat)]
    print(f"{'job':<36} {'wall s':>12} {'x the run':>12} {'peak RSS GB':>12}")
    for job in rounds[0]:
        walls = [r[job][0] for r in rounds]
        ratios = [r[job][0] / r["run over the 8 days"][0] for r in rounds]
        peak = max(r[job][1] for r in rounds)
        print(f"{job:<36} {min(walls):5.2f}-{max(walls):<6.2f} "
              f"{min(ratios):5.2f}-{max(ratios):<6.2f} {peak:12.1f}")  # fmt: skip
    print(f"\nmeasured {time.strftime('%Y-%m-%d %H:%M')}; ratios to the run of the same round")


if __name__ == "__main__":
    main()
