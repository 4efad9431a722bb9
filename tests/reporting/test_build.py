"""``ctr-batch report`` and ``ctr_batch.report``: one safe, self-contained file, or nothing."""

from __future__ import annotations

import json
import re
import sys
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

import ctr_batch
from ctr_batch.batch.run import run
from ctr_batch.cli.app import app
from ctr_batch.core.config import RunConfig
from ctr_batch.core.errors import ConfigError
from ctr_batch.reporting.build import INSTALL_HINT, chart_library
from tests.conftest import events

if TYPE_CHECKING:
    from pathlib import Path

runner = CliRunner()
HOSTILE = "</script><img src=x onerror=alert(1)>[bold]"


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def hostile_output(root: Path) -> Path:
    """An output whose only query text tries to end the script and inject markup."""
    frame = events(
        ("u", 0, "search", HOSTILE),
        ("u", 1, "results", None, ["a", "b"]),
        ("u", 2, "click", None, None, "b"),
        ("v", 5, "search", HOSTILE),
        ("v", 6, "results", None, []),
    )
    frame.write_parquet(root / "events.parquet")
    run([root / "events.parquet"], root / "out", RunConfig())
    return root / "out"


@pytest.fixture(scope="module")
def hostile_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return hostile_output(tmp_path_factory.mktemp("hostile"))


def test_help() -> None:
    code, stdout, _ = invoke("report", "--help")
    assert code == 0
    assert "--html" in stdout


def test_cli_json(generated_backfill: Path, tmp_path: Path) -> None:
    target = tmp_path / "r.html"
    code, stdout, stderr = invoke(
        "report", str(generated_backfill), "--html", str(target), "--start", "2026-11-03",
        "--json",
    )  # fmt: skip
    assert code == 0, stderr
    document = json.loads(stdout)
    assert document["start"] == "2026-11-03"
    assert document["end"] == "2026-11-08"
    assert document["bytes"] == target.stat().st_size
    assert "quarantine" in document["charts"]
    assert "backfill-days" in document["charts"]  # a backfill's output
    assert len(document["charts"]) == 11


def test_page_is_self_contained(sample_run: Path, tmp_path: Path) -> None:
    result = ctr_batch.report(sample_run, tmp_path / "r.html", title="Sample")
    assert "backfill-days" not in result.charts  # a run's output has no days of a backfill
    page = result.path.read_text(encoding="utf-8")
    markup = re.sub(r"<script\b[^>]*>.*?</script>", "", page, flags=re.S)  # the rest: markup
    assert markup.count("<script") == 0
    assert re.search(r"<(link|iframe|img|object|embed)\b", markup, re.IGNORECASE) is None
    assert re.search(r"\b(src|href)\s*=", markup, re.IGNORECASE) is None
    assert "window.vegaEmbed" in page  # the library, inlined
    assert result.bytes < 2_000_000
    assert "<title>Sample</title>" in page


def test_user_text_cannot_break_out(hostile_out: Path, tmp_path: Path) -> None:
    page = ctr_batch.report(hostile_out, tmp_path / "r.html", title="<b>t</b>").path.read_text()
    assert "</script><img" not in page
    assert page.count("</script>") == 3  # data, library, report.js: none ended early
    assert "<title>&lt;b&gt;t&lt;/b&gt;</title>" in page
    data = re.search(
        r'<script type="application/json" id="report-data">(.*?)</script>', page, re.S
    )
    assert data is not None
    document = json.loads(data[1])
    assert document["tables"]["top-queries"]["rows"][0]["query"] == HOSTILE


def test_errors_are_one_line_and_write_nothing(generated_run: Path, tmp_path: Path) -> None:
    target = tmp_path / "r.html"
    target.write_text("previous report")
    cases = [
        (["--start", "2026-11-09", "--end", "2026-11-02"], "is after --end"),
        (["--end", "yesterday"], "--end 'yesterday': expected a date YYYY-MM-DD"),
    ]
    for extra, message in cases:
        code, _, stderr = invoke("report", str(generated_run), "--html", str(target), *extra)
        assert code == 3
        assert message in stderr
        assert stderr.count("\n") == 1
    code, _, stderr = invoke("report", str(tmp_path / "none"), "--html", str(target))
    assert (code, stderr.count("\n")) == (3, 1)
    assert "not a directory" in stderr
    assert target.read_text() == "previous report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html"]


def test_missing_chart_library(
    generated_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "vl_convert", None)  # import fails as if not installed
    chart_library.cache_clear()
    code, _, stderr = invoke("report", str(generated_run), "--html", str(tmp_path / "r.html"))
    assert code == 3
    assert INSTALL_HINT in stderr
    assert not (tmp_path / "r.html").exists()
    with pytest.raises(ConfigError, match=re.escape("pip install 'ctr-batch[report]'")):
        ctr_batch.report(generated_run, tmp_path / "r.html")


def test_a_period_without_data_reports_no_charts(generated_run: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="after the last day of the output, 2026-11-08"):
        ctr_batch.report(generated_run, tmp_path / "r.html", start="2030-01-01")
    result = ctr_batch.report(
        generated_run, tmp_path / "r.html", start="2030-01-01", end="2030-01-07"
    )
    assert result.period.start.year == 2030
    page = result.path.read_text()
    assert "No data for daily ctr in this period." in page
    assert 'data-metric="searches" data-value="0"' in page


def test_report_follows_the_latest_commit(tmp_path: Path) -> None:
    out = tmp_path / "out"
    one = events(("u", 0, "search", "q"), ("u", 1, "click", None, None, "x"))
    two = events(("u", 0, "search", "q"), ("u", 1, "search", "r"))
    for frame, searches in ((one, 1), (two, 2)):
        frame.write_parquet(tmp_path / "events.parquet")
        run([tmp_path / "events.parquet"], out, RunConfig())
        page = ctr_batch.report(out, tmp_path / "r.html").path.read_text()
        assert f'data-metric="searches" data-value="{searches}"' in page


def test_an_output_without_days(tmp_path: Path) -> None:
    # Only bad rows: every table but quarantine and run_summary is empty.
    events(("u", None, "search", "q"), (None, 1, "search", "q")).write_parquet(
        tmp_path / "e.parquet"
    )
    run([tmp_path / "e.parquet"], tmp_path / "out", RunConfig())
    code, _, stderr = invoke("report", str(tmp_path / "out"), "--html", str(tmp_path / "r.html"))
    assert code == 3
    assert f"{tmp_path / 'out'}: ctr_daily has no day to report" in stderr
    assert not (tmp_path / "r.html").exists()
    result = ctr_batch.report(
        tmp_path / "out", tmp_path / "r.html", start="2024-01-01", end="2024-01-01"
    )
    page = result.path.read_text()
    assert 'data-metric="rows_quarantined" data-value="2"' in page
    assert "quarantine" in result.charts


def test_a_report_inside_the_output_folder_is_refused(sample_run: Path) -> None:
    from ctr_batch.core.errors import ConfigError

    target = sample_run / "sessions" / "part-0.parquet"
    before = target.read_bytes()
    with pytest.raises(ConfigError, match="inside the output folder"):
        ctr_batch.report(sample_run, target)
    assert target.read_bytes() == before
