"""``ctr-batch validate --html``: the comparison of a stream with the batch as one page."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import polars as pl
from typer.testing import CliRunner

from ctr_batch.cli.app import app

if TYPE_CHECKING:
    from pathlib import Path

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def page_data(html: Path) -> dict[str, Any]:
    text = html.read_text(encoding="utf-8")
    found = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', text)
    assert found is not None
    data: dict[str, Any] = json.loads(found[1])
    return data


def test_page_shows_the_comparison(validation_html: Path) -> None:
    data = page_data(validation_html)
    assert set(data["charts"]) == {"batch-vs-stream", "differences"}
    mismatches = pl.read_parquet(validation_html.parent / "m.parquet")
    bars = data["charts"]["differences"]["data"]["values"]
    assert sum(row["differences"] for row in bars) == mismatches.height
    days = mismatches["search_time"].dt.date().cast(pl.String)  # records of searches: their day
    assert {row["date"] for row in bars} == set(days)
    first = data["tables"]["first"]["rows"]
    causes = mismatches["cause"].value_counts()
    expected = sum(min(n, 5) for n in causes["count"])
    assert len(first) == expected
    assert {row["cause"] for row in first} == set(causes["cause"])
    assert "PASSED" in validation_html.read_text()


def test_no_difference_says_so(disordered: tuple[Path, Path, Path], tmp_path: Path) -> None:
    _, batch, _ = disordered
    html = tmp_path / "same.html"
    # the batch's own searches, as a stream, equal the batch
    searches = pl.read_parquet(batch / "searches" / "**" / "*.parquet")
    searches.write_parquet(tmp_path / "stream.parquet")
    code, stdout, stderr = invoke(
        "validate", "--batch", str(batch), "--stream", str(tmp_path / "stream.parquet"),
        "--html", str(html), "--json",
    )  # fmt: skip
    assert code == 0, stdout + stderr
    assert json.loads(stdout)["html_file"] == str(html)
    assert "No difference: the stream equals the batch." in html.read_text()
    assert set(page_data(html)["charts"]) == {"batch-vs-stream"}
