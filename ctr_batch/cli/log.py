"""Plain log lines on stderr, for schedulers: a UTC timestamp, the level, what happened.

``ctr-batch -v ...`` (or ``--log-level info``, or ``CTR_BATCH_LOG_LEVEL=info``) turns them on;
by default only warnings show. While lines are logged, progress bars stay off so that the two
never interleave.
"""

from __future__ import annotations

import logging
import sys
import time

from ctr_batch.core.errors import ConfigError

LEVELS = ("debug", "info", "warning", "error")
log = logging.getLogger("ctr_batch")


class _UtcFormatter(logging.Formatter):
    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        """ISO-8601 UTC with milliseconds: ``2026-12-07T18:00:00.123Z``."""
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        return f"{stamp}.{int(record.msecs):03d}Z"


def set_up(level_name: str | None, verbose: int) -> None:
    """Log from `level_name` (a name of ``LEVELS``), else INFO for ``-v``, DEBUG for ``-vv``."""
    if level_name is not None and level_name.lower() not in LEVELS:
        msg = f"--log-level {level_name!r}: expected one of {', '.join(LEVELS)}"
        raise ConfigError(msg)
    by_count = {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    level = getattr(logging, level_name.upper()) if level_name else by_count
    for old in list(log.handlers):
        log.removeHandler(old)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_UtcFormatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(level)
    log.propagate = False


def logging_lines() -> bool:
    """Whether INFO lines are logged (then progress bars stay off)."""
    return log.isEnabledFor(logging.INFO)


def warnings_shown() -> bool:
    """Whether warnings go to stderr (not with ``--log-level error``)."""
    return log.isEnabledFor(logging.WARNING)
