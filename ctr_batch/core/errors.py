"""Errors raised for bad input or settings; the CLI prints them as one line."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable


#: What an error says when the disk is full (Polars: "os error 28"), whatever was being done.
DISK_FULL = re.compile(r"No space left on device|os error 28|ENOSPC")


def first_line(error: BaseException | str) -> str:
    """The first line of an error's message (messages of DuckDB, Polars and Spark run long).

    Without any text: the error's type, or ``unknown error`` for a message given as text.
    """
    text = str(error).strip()
    if text:
        return text.splitlines()[0]
    return type(error).__name__ if isinstance(error, BaseException) else "unknown error"


class CtrBatchError(Exception):
    """Base of every error a user can act on (bad input, bad settings).

    ``exit_code`` is the command line's exit status for it: 3, bad input or settings.
    """

    exit_code = 3


class ConfigError(CtrBatchError):
    """A setting is invalid."""

    @classmethod
    def unreadable_output(cls, reason: str) -> ConfigError:
        """A file the run itself wrote cannot be read back (a full or failing disk)."""
        msg = f"a file written by this run cannot be read back ({first_line(reason)}); is the "
        return cls(msg + "disk of the output (or of the temporary folder) full or failing?")


class InputError(CtrBatchError):
    """Events cannot be found or read."""

    @classmethod
    def no_files(cls, source: str) -> InputError:
        """No Parquet file matches `source`."""
        return cls(f"{source}: no Parquet files found (expected a file, a directory or a glob)")

    @classmethod
    def unreadable(cls, source: str, reason: str) -> InputError:
        """A file exists but is not readable Parquet."""
        return cls(f"{source}: not a readable Parquet file ({first_line(reason)})")


class SettingsConflictError(CtrBatchError):
    """An output holds days computed with other settings; mixing them would be wrong."""

    exit_code = 5


class SchemaError(CtrBatchError):
    """Columns are missing or have a type that cannot be read."""

    @classmethod
    def missing(cls, source: str, missing: Iterable[str], found: Iterable[str]) -> SchemaError:
        """Required columns are absent."""
        return cls(f"{source}: missing columns {sorted(missing)}; found {sorted(found)}")

    @classmethod
    def wrong_type(cls, source: str, column: str, expected: str, found: str) -> SchemaError:
        """A column has a type that cannot be converted."""
        return cls(f"{source}: column {column!r} must be {expected}; found {found}")
