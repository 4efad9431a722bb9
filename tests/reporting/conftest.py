"""Outputs to report on: the bundled sample (a run) and a generated log (run and backfill)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

from ctr_batch.batch.run import run
from ctr_batch.cli.app import app
from ctr_batch.core.config import RunConfig
from ctr_batch.days.backfill import backfill
from ctr_batch.days.config import BackfillConfig
from ctr_batch.io.write import write_events
from ctr_batch.samples.bundled import sample
from ctr_batch.samples.generate import generate_events
from tests.stream_helpers import late_sample

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report_sample") / "out"
    run([sample("sample").path], out, RunConfig())
    return out


@pytest.fixture(scope="session")
def generated_events(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("report_generated") / "events"
    frame = generate_events(events=20_000, users=300, days=8, seed=5, bad_row_rate=0.01)
    write_events(frame, root)
    return root


@pytest.fixture(scope="session")
def generated_run(generated_events: Path) -> Path:
    out = generated_events.parent / "run"
    run([generated_events], out, RunConfig())
    return out


@pytest.fixture(scope="session")
def generated_backfill(generated_events: Path) -> Path:
    out = generated_events.parent / "backfill"
    backfill(generated_events, out, "2026-11-01", "2026-11-08", BackfillConfig(max_quarantine=1))
    return out


@pytest.fixture(params=["sample_run", "generated_run", "generated_backfill"])
def any_out(request: pytest.FixtureRequest) -> Path:
    path: Path = request.getfixturevalue(request.param)
    return path


def _invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="session")
def disordered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """Events some of which arrive late, their batch tables and their simulated stream."""
    root = tmp_path_factory.mktemp("validate_html")
    events = late_sample(root / "events.parquet")
    assert _invoke("run", str(events), "--out", str(root / "batch"), "-q")[0] == 0
    assert _invoke("simulate-stream", str(events), "--out", str(root / "sim"))[0] == 0
    return events, root / "batch", root / "sim" / "searches"


@pytest.fixture(scope="session")
def validation_html(disordered: tuple[Path, Path, Path]) -> Path:
    events, batch, stream = disordered
    html = batch.parent / "validation.html"
    code, stdout, stderr = _invoke(
        "validate", "--batch", str(batch), "--stream", str(stream), "--events", str(events),
        "--html", str(html), "--mismatches", str(batch.parent / "m.parquet"),
    )  # fmt: skip
    assert code == 0, stdout + stderr
    assert f"comparison page written to {html}" in stdout
    return html
