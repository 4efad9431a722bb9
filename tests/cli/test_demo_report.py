"""``demo`` names where to go next, and ``demo --html`` writes the report of the sample."""

from __future__ import annotations

from typing import TYPE_CHECKING

from typer.testing import CliRunner

from ctr_batch.cli.app import app

if TYPE_CHECKING:
    from pathlib import Path

runner = CliRunner()


def test_demo_names_the_next_steps() -> None:
    result = runner.invoke(app, ["demo", "--rows", "1"])
    assert result.exit_code == 0, result.stderr
    tail = result.stdout[result.stdout.index("next:") :]
    assert "ctr-batch demo --out DIR" in tail
    assert "ctr-batch report DIR --html report.html" in tail
    assert "ctr-batch query daily_ctr DIR" in tail


def test_demo_html_writes_the_report(tmp_path: Path) -> None:
    html, out = tmp_path / "demo.html", tmp_path / "out"
    result = runner.invoke(app, ["demo", "--rows", "1", "--out", str(out), "--html", str(html)])
    assert result.exit_code == 0, result.stderr
    page = html.read_text(encoding="utf-8")
    assert "<title>ctr-batch demo: sample</title>" in page
    assert 'data-metric="searches" data-value="1590"' in page  # the sample's 1,590 searches
    assert f"ctr-batch report {out} --html report.html" in result.stdout
    assert "ctr-batch demo --out DIR" not in result.stdout
