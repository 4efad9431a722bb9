"""Usage errors of the ``ctr-batch`` script read as one line on stderr, as every other error."""

from __future__ import annotations

import signal
from typing import TYPE_CHECKING

import pytest

from ctr_batch.cli.app import main
from ctr_batch.samples.bundled import sample

if TYPE_CHECKING:
    from pathlib import Path


def script(
    argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> tuple[int, str]:
    monkeypatch.setattr("sys.argv", ["ctr-batch", *argv])
    with pytest.raises(SystemExit) as exited:
        main()
    code = exited.value.code
    return code if isinstance(code, int) else 0, capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "env", "code", "message"),
    [
        (["run", "EVENTS", "--out", "o", "--buckets", "x"], {}, 3, "value for '--buckets'"),
        (["run", "EVENTS", "--out", "o"], {"CTR_BATCH_BUCKETS": "abc"}, 3, "CTR_BATCH_BUCKETS"),
        (["run", "EVENTS", "--nope"], {}, 2, "No such option: --nope (see ctr-batch run --help)"),
        (["run"], {}, 2, "Missing argument 'events'. (see ctr-batch run --help)"),
        (["frobnicate"], {}, 2, "No such command 'frobnicate'. (see ctr-batch --help)"),
        (["run", "EVENTS", "--gpa", "3"], {}, 2, "(Possible options: --gap)"),
        (["query", "daily_ctr"], {}, 2, "give a query NAME and an OUT directory"),
        (["sql", "OUT"], {}, 2, "give the SQL as STATEMENT or with --file"),
    ],
)  # fmt: skip
def test_usage_errors_are_one_line(
    argv: list[str],
    env: dict[str, str],
    code: int,
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    argv = [str(sample("sample").path) if a == "EVENTS" else a for a in argv]
    got, err = script(argv, capsys, monkeypatch)
    assert got == code
    assert err.startswith("error: ")
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_the_script_runs_and_exits_0(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    argv = ["run", str(sample("sample").path), "--out", str(tmp_path), "-q"]
    assert script(argv, capsys, monkeypatch) == (0, "")
    assert script(["describe", "searches", "--json"], capsys, monkeypatch)[0] == 0


def test_nothing_given_prints_the_help(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.argv", ["ctr-batch"])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 2
    printed = capsys.readouterr()
    assert "Usage: ctr-batch" in printed.out
    assert "backfill" in printed.out
    assert printed.err == ""


def test_ctrl_c_exits_130_and_polars_cannot_swallow_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
        raise KeyboardInterrupt

    monkeypatch.setattr("ctr_batch.cli.app.run_with_progress", interrupted)
    argv = ["run", str(sample("sample").path), "--out", str(tmp_path / "out"), "-q"]
    try:
        assert script(argv, capsys, monkeypatch)[0] == 130
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    assert not (tmp_path / "out" / "searches").exists()


def test_a_summary_that_cannot_be_printed_says_the_tables_are_committed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("ctr_batch.cli.app.out_console.print", full)
    argv = ["run", str(sample("sample").path), "--out", str(tmp_path / "out"), "-q"]
    code, err = script(argv, capsys, monkeypatch)
    assert code == 3
    assert "the tables are written and committed, but printing the summary failed" in err
    assert (tmp_path / "out" / "searches").is_dir()


def test_output_that_cannot_be_written_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("ctr_batch.cli.settings.typer.echo", full)
    assert script(["--version"], capsys, monkeypatch) == (
        3,
        "error: cannot write the output: No space left on device\n",
    )
