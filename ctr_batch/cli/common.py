"""Pieces every command module shares: consoles, options, settings parsing, error display."""

from __future__ import annotations

import functools
import json
import signal
import sys
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, ParamSpec

import polars as pl
import typer
from rich.console import Console

from ctr_batch.core.config import RunConfig, format_duration, to_date, to_duration
from ctr_batch.core.errors import DISK_FULL, ConfigError, CtrBatchError, first_line

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

EXIT_BAD_INPUT = 3  # Click uses 2 for usage errors; errors may carry their own (5)
EXIT_NIGHT_FAILED = 4  # a backfill day failed a guardrail; the others were published
P = ParamSpec("P")

out_console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True)

GapOption = Annotated[
    str,
    typer.Option(
        "--gap",
        envvar="CTR_BATCH_GAP",
        help="Inactivity that ends a session, e.g. 30s, 10m, 1h30m.",
    ),
]
GapRuleOption = Annotated[
    str,
    typer.Option(
        "--gap-rule",
        envvar="CTR_BATCH_GAP_RULE",
        help="inclusive: an event exactly GAP after the previous one stays in the session "
        "(Bytewax >= 0.20, Spark, Flink); exclusive: it opens a new one (Bytewax 0.19, Beam).",
    ),
]
TimezoneOption = Annotated[
    str,
    typer.Option(
        "--timezone", envvar="CTR_BATCH_TIMEZONE", help="IANA time zone whose dates define a day."
    ),
]
ColumnOption = Annotated[
    list[str] | None,
    typer.Option(
        "--column",
        envvar="CTR_BATCH_COLUMN",
        help="Map an input column: NAME=SOURCE, e.g. user_id=uid (in the variable: "
        "several, separated by spaces).",
    ),
]
MaxSessionOption = Annotated[
    str | None,
    typer.Option(
        "--max-session",
        envvar="CTR_BATCH_MAX_SESSION",
        help="Longest a session may last, e.g. 24h: an event later than this after its "
        "session's first event opens a new session (bots make no endless session). Off by "
        "default.",
    ),
]
OutOption = Annotated[
    Path,
    typer.Option("--out", "-o", envvar="CTR_BATCH_OUT", help="Output directory for the tables."),
]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")]
JsonOption = Annotated[
    bool,
    typer.Option("--json", help="Print one JSON document on stdout instead of tables."),
]


def print_json(document: object) -> None:
    """`document` as one JSON document on stdout (dates, times and paths as text)."""
    typer.echo(json.dumps(document, indent=1, sort_keys=True, default=str))


EngineOption = Annotated[
    str,
    typer.Option(
        "--engine",
        envvar="CTR_BATCH_ENGINE",
        help="auto, in-memory or streaming (Polars), duckdb (the pure-SQL twin in "
        "queries/pipeline/) or spark (user buckets on Apache Spark, pip install "
        "'ctr-batch\\[spark]'); every engine gives the same tables.",
    ),
]


SparkMasterOption = Annotated[
    str | None,
    typer.Option(
        "--spark-master",
        help="With --engine spark: the Spark master URL (default: local\\[*]).",
    ),
]


def one_line_errors(command: Callable[P, None]) -> Callable[P, None]:
    """Print a CtrBatchError or OSError as one line on stderr and exit with status 3."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            command(*args, **kwargs)
        except CtrBatchError as exc:
            _print_error(str(exc))
            raise typer.Exit(exc.exit_code) from None
        except OSError as exc:  # a path that cannot be written or read: the user's to fix
            place = f"{exc.filename}: " if exc.filename else ""
            _print_error(f"{place}{exc.strerror or exc}")
            raise typer.Exit(EXIT_BAD_INPUT) from None
        except pl.exceptions.PolarsError as exc:
            if not DISK_FULL.search(str(exc)):
                raise
            _print_error(f"no space left on the device while writing ({first_line(exc)})")
            raise typer.Exit(EXIT_BAD_INPUT) from None

    return wrapper


def run_in_one_line(app: typer.Typer) -> None:
    """Run `app` as a script whose usage errors, too, read as one line on stderr.

    A value that does not suit its option (on the command line or from a ``CTR_BATCH_*``
    variable) is a bad setting: exit 3, as for any other. An unknown option or command, or a
    missing argument, exits 2 (Click's usage status), naming the command's ``--help``.
    ``ctr-batch`` alone still prints the help. Ctrl-C exits 130: Python's handler replaces
    the one Polars installs, which drops an interrupt that lands as a query ends (a long
    query then stops when it returns).
    """
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Polars' own can drop Ctrl-C
    try:
        code = app(standalone_mode=False, prog_name="ctr-batch")
    except typer.TyperException as exc:  # Click's usage errors
        sys.exit(_usage_error(exc))
    except typer.Abort:
        err_console.print("Aborted!", markup=False)
        sys.exit(1)
    except BrokenPipeError:  # `ctr-batch ... | head`: the reader has all it wanted
        sys.exit(1)
    except OSError as exc:  # stdout itself cannot be written (--help > /dev/full)
        _print_error(f"cannot write the output: {exc.strerror or exc}")
        sys.exit(EXIT_BAD_INPUT)
    sys.exit(code if isinstance(code, int) else 0)


@contextmanager
def after_commit(out: Path) -> Iterator[None]:
    """Print what a command did after committing `out`: a failure says the tables are there."""
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as exc:
        msg = f"{out}: the tables are written and committed, but printing the summary failed "
        msg += f"({exc.strerror or exc})"
        raise CtrBatchError(msg) from None


def _usage_error(exc: typer.TyperException) -> int:
    """Print Click's usage error `exc` (help, or one line); return its exit status."""
    ctx, kind = getattr(exc, "ctx", None), type(exc).__name__
    if kind == "NoArgsIsHelpError":  # nothing given: Typer has printed the help
        return 2
    message = getattr(exc, "format_message", lambda: str(exc))()
    if getattr(exc, "param", None) is not None and kind != "MissingParameter":
        _print_error(message)  # a value its option cannot take
        return EXIT_BAD_INPUT
    _print_error(f"{message} (see {ctx.command_path if ctx else 'ctr-batch'} --help)")
    return int(getattr(exc, "exit_code", 2))


def _print_error(message: str) -> None:
    text = " ".join(message.split())  # one line, whatever a file name holds
    err_console.print(f"error: {text}", style="red", highlight=False, soft_wrap=True, markup=False)


def run_config(
    gap: str,
    gap_rule: str,
    timezone: str,
    columns: list[str] | None = None,
    max_session: str | None = None,
) -> RunConfig:
    """Build the run settings from command-line text."""
    pairs = []
    for spec in columns or []:
        name, sep, source = spec.partition("=")
        if not sep or not name or not source:
            msg = f"--column {spec!r}: expected NAME=SOURCE, e.g. user_id=uid"
            raise ConfigError(msg)
        pairs.append((name.strip(), source.strip()))
    return RunConfig(
        gap=to_duration(gap, "--gap"),
        gap_rule=gap_rule,  # type: ignore[arg-type]  # checked by RunConfig
        timezone=timezone,
        column_map=tuple(pairs),
        max_session=None if max_session is None else to_duration(max_session, "--max-session"),
    )


def settings_json(config: RunConfig) -> dict[str, object]:
    """The run settings as plain values, for ``--json``."""
    return {
        "gap": format_duration(config.gap),
        "gap_rule": config.gap_rule,
        "timezone": config.timezone,
        "column_map": dict(config.column_map),
        "max_session": None if config.max_session is None else format_duration(config.max_session),
    }


def date_option(option: str, value: str) -> date:
    """Parse a YYYY-MM-DD option value."""
    return to_date(value, option)


def key_values(option: str, specs: list[str] | None) -> dict[str, str]:
    """Parse repeated ``KEY=VALUE`` options."""
    pairs = {}
    for spec in specs or []:
        key, sep, value = spec.partition("=")
        if not sep or not key.strip():
            msg = f"{option} {spec!r}: expected KEY=VALUE"
            raise ConfigError(msg)
        pairs[key.strip()] = value
    return pairs
