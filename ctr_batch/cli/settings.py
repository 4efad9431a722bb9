"""Options of the whole tool, and settings of a recurring job from a file.

The file is ``ctr-batch.toml`` or ``[tool.ctr-batch]`` in ``pyproject.toml``.

The file gives defaults that environment variables (``CTR_BATCH_*``) and then the command
line override: command line > environment > file > built-in default. Top-level keys apply
to the recurring jobs, ``run`` and ``backfill``, where they have the option; a table named
after a command applies to it alone::

    gap = "30m"
    timezone = "Europe/Paris"

    [backfill]
    lookback = "2d"
    max-quarantine = 0.01
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ctr_batch._version import __version__
from ctr_batch.cli import log
from ctr_batch.cli.common import one_line_errors
from ctr_batch.core.config import parse_duration, parse_size
from ctr_batch.core.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

CONFIG_FILE = "ctr-batch.toml"
JOB_COMMANDS = ("run", "backfill")  # the commands top-level keys apply to
PYPROJECT_TABLE = ("tool", "ctr-batch")
Defaults = dict[str, dict[str, Any]]


def find_config(explicit: Path | None, folder: Path) -> tuple[Path, tuple[str, ...]] | None:
    """The settings file to read, and the table in it; None when there is none.

    `explicit` (``--config`` or ``CTR_BATCH_CONFIG``) must exist; otherwise ``ctr-batch.toml``
    in `folder`, else a ``pyproject.toml`` there with a ``[tool.ctr-batch]`` table.
    """
    if explicit is not None:
        if not explicit.is_file():
            what = "is a folder, not" if explicit.is_dir() else "no such"
            msg = f"{explicit}: {what} settings file (--config or CTR_BATCH_CONFIG)"
            raise ConfigError(msg)
        inside = PYPROJECT_TABLE if explicit.name == "pyproject.toml" else ()
        return explicit, inside
    if (folder / CONFIG_FILE).exists():
        if not (folder / CONFIG_FILE).is_file():
            msg = f"{folder / CONFIG_FILE}: not a file; a settings file is TOML"
            raise ConfigError(msg)
        return folder / CONFIG_FILE, ()
    pyproject = folder / "pyproject.toml"
    if pyproject.is_file() and _table(_read(pyproject), PYPROJECT_TABLE) is not None:
        return pyproject, PYPROJECT_TABLE
    return None


def load_defaults(
    path: Path, inside: tuple[str, ...], options: Mapping[str, Mapping[str, str]]
) -> Defaults:
    """Per-command defaults from the file at `path` (table `inside`).

    `options` maps each command to its settings: the long option name, with ``_`` for ``-``
    (``max_quarantine``), to the parameter's name. Top-level keys go to ``run`` and
    ``backfill`` only (``out`` must not redirect ``demo`` or ``generate``). A key that no
    command knows, or a table for an unknown command, is a ``ConfigError`` naming the file and
    the key.
    """
    table = _table(_read(path), inside) or {}
    shared = {k: v for k, v in table.items() if not isinstance(v, dict)}
    defaults: Defaults = {command: {} for command in options}
    jobs = {command: options[command] for command in JOB_COMMANDS if command in options}
    known = {key: key for names in jobs.values() for key in names}
    for key, value in shared.items():
        setting = _name(path, key, known, " or ".join(jobs))
        for command, names in jobs.items():
            if setting in names:
                defaults[command][names[setting]] = value
    for command, values in table.items():
        if not isinstance(values, dict):
            continue
        if command not in options:
            msg = f"{path}: [{command}] is not a command; expected one of {', '.join(options)}"
            raise ConfigError(msg)
        for key, value in values.items():
            names = options[command]
            defaults[command][names[_name(path, key, names, command)]] = value
    return {command: values for command, values in defaults.items() if values}


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        msg = f"{path}: not valid TOML in UTF-8 ({exc})"
        raise ConfigError(msg) from None


def _table(document: dict[str, Any], inside: tuple[str, ...]) -> dict[str, Any] | None:
    """The table at the keys `inside` of `document` (the document itself for none)."""
    table: Any = document
    for key in inside:
        table = table.get(key) if isinstance(table, dict) else None
    return table if isinstance(table, dict) else None


def _name(path: Path, key: str, known: Mapping[str, str], command: str) -> str:
    """The setting a key names (``max-quarantine`` or ``max_quarantine``), or ConfigError."""
    name = key.replace("-", "_")
    if name not in known:
        where = "" if " or " in command else f"[{command}] "
        options = ", ".join(sorted(n.replace("_", "-") for n in known))
        msg = f"{path}: {where}{key!r} is not a setting of {command}; "
        msg += f"expected one of {options}"
        raise ConfigError(msg)
    return name


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"ctr-batch {__version__}")
        raise typer.Exit


def root_options(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", callback=_show_version, is_eager=True
        ),
    ] = False,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            envvar="CTR_BATCH_CONFIG",
            help="Settings file (TOML). Default: ./ctr-batch.toml, else \\[tool.ctr-batch] in "
            "./pyproject.toml. Command line > CTR_BATCH_* variables > file.",
        ),
    ] = None,
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="Log lines on stderr (-vv: more).")
    ] = 0,
    log_level: Annotated[
        str | None,
        typer.Option(
            "--log-level", envvar="CTR_BATCH_LOG_LEVEL", help=f"One of {', '.join(log.LEVELS)}."
        ),
    ] = None,
) -> None:
    """Search sessions and click-through rate, in batch, from Parquet event logs."""
    _set_up(ctx, config, verbose, log_level)


@one_line_errors
def _set_up(ctx: typer.Context, config: Path | None, verbose: int, level: str | None) -> None:
    """Log lines, and the defaults of the settings file for the command that follows."""
    log.set_up(level, verbose)
    ctx.default_map = _file_defaults(ctx, config)


def _file_defaults(ctx: typer.Context, explicit: Path | None) -> dict[str, dict[str, object]]:
    """Each command's defaults from the settings file, if there is one."""
    found = find_config(explicit, Path.cwd())
    if found is None:
        return {}
    commands = getattr(ctx.command, "commands", {})
    options = {name: _settings_of(command) for name, command in commands.items()}
    log.log.info("settings from %s", found[0])
    defaults = load_defaults(*found, options)
    for command, values in defaults.items():
        params = {param.name: param for param in commands[command].params}
        for name, value in values.items():
            _check_value(found[0], params[name], value, ctx)
    return defaults


_PARSED_BY_COMMAND: dict[str, Callable[[str], object]] = {
    "gap": parse_duration,
    "max_session": parse_duration,
    "lookback": parse_duration,
    "memory_limit": parse_size,
}


def _check_value(path: Path, param: Any, value: object, ctx: typer.Context) -> None:
    """ConfigError naming the file when `value` does not suit the option `param`.

    TOML has types of its own: ``true`` is no number (a bool would pass as 1), a list only
    suits a repeated option, and anything else goes through the option's own conversion.
    """
    flag = bool(getattr(param, "is_flag", False))
    many = bool(getattr(param, "multiple", False)) or bool(getattr(param, "nargs", 1) != 1)
    option = param.opts[0] if param.opts else param.name
    problem = None
    if flag != isinstance(value, bool):
        problem = "expected true or false" if flag else "true/false is not a value here"
    elif many != isinstance(value, list):
        problem = "expected a list" if many else "a list is not a value here"
    else:
        try:
            param.process_value(ctx, value)
            if isinstance(value, str) and param.name in _PARSED_BY_COMMAND:
                _PARSED_BY_COMMAND[param.name](value)  # text that the command parses itself
        except typer.BadParameter as exc:  # Click's own message
            problem = exc.message
        except ConfigError as exc:
            problem = str(exc)
    if problem:
        msg = f"{path}: {option.removeprefix('--')} = {value!r}: {problem}"
        raise ConfigError(msg)


def _settings_of(command: typer.core.TyperCommand) -> dict[str, str]:
    """A command's options that a settings file may give, by long name (``_`` for ``-``)."""
    return {
        flag.removeprefix("--").replace("-", "_"): param.name
        for param in command.params
        for flag in param.opts
        if flag.startswith("--") and param.name and flag not in ("--help", "--json")
    }
