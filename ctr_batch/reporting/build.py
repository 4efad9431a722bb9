"""Build the report file: gather the figures, make the charts, render, write atomically."""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ctr_batch.core.errors import ConfigError
from ctr_batch.io.write import write_text
from ctr_batch.reporting.charts import chart_specs
from ctr_batch.reporting.figures import Period, gather
from ctr_batch.reporting.page import render

if TYPE_CHECKING:
    from datetime import date

_EXPORT_EMBED = "window.vegaEmbed = vegaEmbed;"  # what report.js calls
INSTALL_HINT = "the HTML report needs vl-convert-python: pip install 'ctr-batch[report]'"


@dataclass(frozen=True, slots=True)
class ReportResult:
    """What ``report`` wrote: the file, its size, the period and the charts drawn."""

    path: Path
    bytes: int
    period: Period
    charts: tuple[str, ...]
    seconds: float


@functools.cache
def chart_library() -> str:
    """The JavaScript of Vega, Vega-Lite and vega-embed in one bundle (from vl-convert).

    Bundling takes about a second, so the result is kept for the life of the process.

    Raises
    ------
    ConfigError
        If vl-convert-python is not installed; the message says how to install it.
    """
    try:
        import vl_convert
    except ImportError:
        raise ConfigError(INSTALL_HINT) from None
    bundle: str = vl_convert.javascript_bundle(_EXPORT_EMBED)
    return bundle


def report(
    out: str | Path,
    html: str | Path,
    *,
    start: date | str | None = None,
    end: date | str | None = None,
    title: str | None = None,
) -> ReportResult:
    """Write the offline HTML report of the output `out` to the file `html`.

    Parameters
    ----------
    out
        Output directory of ``ctr-batch run`` or ``backfill``.
    html
        The page to write (replaced atomically; nothing is written on error).
    start, end
        First and last day reported (dates or ``YYYY-MM-DD``); default: the first and last
        day of ``ctr_daily``. The headline compares them with the period of the same length
        just before.
    title
        Page title; default ``Search CTR report: <out folder name>``.

    Raises
    ------
    ConfigError
        Bad dates, no day to report, or vl-convert-python missing.
    InputError
        If `out` holds no tables.
    """
    began = time.perf_counter()
    if Path(html).resolve().is_relative_to(Path(out).resolve()):
        msg = f"--html {html}: inside the output folder {out}; write the report elsewhere"
        raise ConfigError(msg)
    figures = gather(out, start, end)
    bundle = chart_library()
    specs = chart_specs(figures)
    heading = title or f"Search CTR report: {Path(out).resolve().name}"
    page = render(figures, specs, title=heading, bundle=bundle)
    path = write_text(page, Path(html))
    return ReportResult(
        path=path,
        bytes=len(page.encode("utf-8")),
        period=figures.period,
        charts=tuple(specs),
        seconds=time.perf_counter() - began,
    )
