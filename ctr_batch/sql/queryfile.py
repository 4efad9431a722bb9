"""Curated SQL files and their headers: what each query answers, reads and takes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

from ctr_batch.core.errors import ConfigError
from ctr_batch.core.resources import queries_dir

if TYPE_CHECKING:
    from collections.abc import Mapping

QueryKind = Literal["report", "check"]
HEADER_FIELDS = ("purpose", "grain", "reads", "params")

_FIELD = re.compile(r"--\s*(purpose|grain|reads|params):\s*(.*)")
_CONTINUATION = re.compile(r"--\s{2,}(\S.*)")
_PARAM = re.compile(r"\$(\w+)\s+([A-Za-z][\w ]*?)\s*(?:\((.*)\))?")
_DEFAULT = re.compile(r"\bdefault\s+('[^']*'|[^\s,;)]+)", re.IGNORECASE)


@dataclass(frozen=True)
class QueryFile:
    """One ``.sql`` file and its parsed header.

    Attributes
    ----------
    name
        File name without ``.sql``: what ``run_query`` and the CLI take.
    path
        The file.
    purpose, grain
        Header text: what the query answers, and what one output row stands for.
    reads
        Tables the query reads.
    params
        Declared parameter names, without ``$``, in header order.
    defaults
        Default values of the optional parameters (``None`` = SQL ``NULL``).
    params_doc
        The ``params:`` header text, for help output.
    """

    name: str
    path: Path
    purpose: str
    grain: str
    reads: tuple[str, ...]
    params: tuple[str, ...]
    defaults: Mapping[str, str | None] = field(default_factory=lambda: MappingProxyType({}))
    params_doc: str = "none"

    @property
    def required(self) -> tuple[str, ...]:
        """Parameters without a default."""
        return tuple(name for name in self.params if name not in self.defaults)

    @classmethod
    def parse(cls, path: Path, text: str | None = None) -> QueryFile:
        """Read the header of `path` (or of `text`, the SQL read from `path`, e.g. stdin).

        Raises
        ------
        ConfigError
            If a header field is missing or repeated, or a parameter cannot be read.
        """
        if text is None:
            text = _read(path)
        fields = _header_fields(path, text)
        params, defaults = _parse_params(path, fields["params"])
        return cls(
            name=path.stem,
            path=path,
            purpose=fields["purpose"],
            grain=fields["grain"],
            reads=_names(fields["reads"]),
            params=params,
            defaults=MappingProxyType(defaults),
            params_doc=fields["params"],
        )


def list_queries(kind: QueryKind = "report", folder: str | Path | None = None) -> list[QueryFile]:
    """Reports (``queries/*.sql``) or checks (``queries/checks/*.sql``), sorted by name.

    `folder` replaces ``queries/`` by a team's own folder of ``.sql`` files in the same
    header format.

    Raises
    ------
    ConfigError
        If `folder` is not a directory, or a file's header cannot be read.
    """
    if folder is not None:
        base = Path(folder)
        if not base.is_dir():
            msg = f"--queries {folder}: not a directory (expected a folder of .sql files)"
            raise ConfigError(msg)
    else:
        base = queries_dir()
    base = base if kind == "report" else base / "checks"
    return [QueryFile.parse(path) for path in sorted(base.glob("*.sql")) if path.is_file()]


def find_query(
    name: str, kind: QueryKind = "report", folder: str | Path | None = None
) -> QueryFile:
    """The report or check called `name` (a trailing ``.sql`` is ignored), or the file `name`.

    A `name` that holds a ``/`` or ends in ``.sql`` and names an existing file is that file
    (``ctr-batch query my/report.sql OUT``); otherwise `name` is looked up in ``queries/``,
    or in `folder` when given.

    Raises
    ------
    ConfigError
        If there is none; the message lists those that exist.
    """
    if kind not in ("report", "check"):
        msg = f"kind {kind!r}: expected 'report' or 'check'"
        raise ConfigError(msg)
    if not isinstance(name, str):
        msg = f"query name: expected text; got {name!r}"
        raise ConfigError(msg)
    if ("/" in name or name.endswith(".sql")) and Path(name).is_file():
        return QueryFile.parse(Path(name))
    if "/" in name:
        msg = f"{name}: no such file (expected an .sql file, or the name of a curated query)"
        raise ConfigError(msg)
    queries = list_queries(kind, folder)
    wanted = name.removesuffix(".sql")
    for query in queries:
        if query.name == wanted:
            return query
    where = "" if folder is None else f" in {folder}"
    msg = f"unknown {noun(kind)} {name!r}{where}; available: "
    msg += ", ".join(q.name for q in queries) or "none"
    raise ConfigError(msg)


def has_header(text: str) -> bool:
    """True when SQL `text` opens with the curated header (its first line ``-- purpose: ...``).

    Examples
    --------
    >>> has_header("-- purpose: count searches"), has_header("SELECT 1 -- purpose: x")
    (True, False)
    """
    return re.match(r"\s*--\s*purpose:", text) is not None


def noun(kind: QueryKind) -> str:
    """``query`` or ``check``, for messages."""
    return "query" if kind == "report" else "check"


def bind_params(
    query: QueryFile, given: Mapping[str, str | None], kind: QueryKind
) -> dict[str, str | None]:
    """Values for every declared parameter of `query`: those given, else the defaults.

    Raises
    ------
    ConfigError
        For a parameter `query` does not declare, or a required one not given.
    """
    unknown = sorted(set(given) - set(query.params))
    if unknown:
        msg = f"{noun(kind)} {query.name!r} has no parameter(s) {unknown}; "
        msg += f"declared: {describe_params(query)}"
        raise ConfigError(msg)
    missing = [name for name in query.required if name not in given]
    if missing:
        msg = f"{noun(kind)} {query.name!r} needs parameter(s) {missing}; "
        msg += f"declared: {describe_params(query)}"
        raise ConfigError(msg)
    return {name: given[name] if name in given else query.defaults[name] for name in query.params}


def describe_params(query: QueryFile) -> str:
    """The declared parameters and their defaults: ``$a (required), $b (default 1)``."""
    if not query.params:
        return "none"
    described = []
    for name in query.params:
        if name not in query.defaults:
            described.append(f"${name} (required)")
        else:
            default = query.defaults[name]
            described.append(f"${name} (default {'none' if default is None else default})")
    return ", ".join(described)


# --- header parsing ------------------------------------------------------------------------------


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        msg = f"{path}: not UTF-8 text (expected an SQL file)"
        raise ConfigError(msg) from None


def _header_fields(path: Path, text: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    current: str | None = None
    for line in text.splitlines():
        text = line.rstrip()
        if not text.startswith("--"):
            break
        if match := _FIELD.fullmatch(text):
            current = match[1]
            if current in fields:
                msg = f"{path}: header field {current!r} appears twice"
                raise ConfigError(msg)
            fields[current] = match[2].strip()
        elif current is not None and (match := _CONTINUATION.fullmatch(text)):
            fields[current] = f"{fields[current]} {match[1].strip()}".strip()
        else:
            current = None
    missing = [name for name in HEADER_FIELDS if not fields.get(name)]
    if missing:
        msg = f"{path}: header lacks {missing} (expected leading lines "
        msg += ", ".join(f"'-- {name}: ...'" for name in HEADER_FIELDS) + ")"
        raise ConfigError(msg)
    return fields


def _parse_params(path: Path, text: str) -> tuple[tuple[str, ...], dict[str, str | None]]:
    """Names and defaults from ``$name TYPE (description; default value), ...``."""
    if text.strip().lower() == "none":
        return (), {}
    names: list[str] = []
    defaults: dict[str, str | None] = {}
    for part in _split_top_level(text):
        match = _PARAM.fullmatch(part)
        if match is None or match[1] in names:
            msg = f"{path}: cannot read parameter {part!r} (expected a new "
            msg += "'$name TYPE (description; default value)')"
            raise ConfigError(msg)
        names.append(match[1])
        default = _DEFAULT.search(match[3] or "")
        if default is not None:
            value = default[1]
            defaults[match[1]] = None if value.lower() == "none" else value.strip("'")
    return tuple(names), defaults


def _split_top_level(text: str) -> list[str]:
    """Split `text` at commas outside parentheses.

    Examples
    --------
    >>> _split_top_level("$a DATE (x, y), $b BIGINT")
    ['$a DATE (x, y)', '$b BIGINT']
    """
    parts: list[str] = []
    depth, start = 0, 0
    for i, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [part.strip() for part in parts if part.strip()]


def _names(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    return () if names == ("none",) else names
