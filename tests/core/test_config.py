"""Settings: durations and sizes as text, and configs checked once, on construction."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest

from ctr_batch.core.config import (
    RunConfig,
    StreamConfig,
    format_duration,
    parse_duration,
    parse_size,
    to_date,
    to_duration,
)
from ctr_batch.core.errors import ConfigError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("250ms", timedelta(milliseconds=250), id="ms"),
        pytest.param("1h30m", timedelta(minutes=90), id="compound"),
        pytest.param(" 2D ", timedelta(days=2), id="case-and-space"),
        pytest.param("1.5s", timedelta(seconds=1.5), id="fraction"),
    ],
)
def test_durations_read_as_written(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected
    assert parse_duration(format_duration(expected)) == expected


@pytest.mark.parametrize("text", ["", "30", "m30", "-5s", "5 minutes", "1e3s"])
def test_bad_durations_are_config_errors(text: str) -> None:
    with pytest.raises(ConfigError, match="duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("8G", 8 * 2**30), ("8GiB", 8 * 2**30), ("8GB", 8 * 10**9), ("512m", 512 * 2**20),
     ("1024", 1024), ("1.5k", 1536)],
)  # fmt: skip
def test_sizes(text: str, expected: int) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["0", "-1G", "8 gigs", "G"])
def test_bad_sizes(text: str) -> None:
    with pytest.raises(ConfigError, match="size"):
        parse_size(text)


def test_to_duration_and_to_date_take_values_or_text() -> None:
    assert to_duration(timedelta(seconds=3), "gap") == to_duration("3s", "gap")
    assert to_date("2026-11-01", "--start") == to_date(date(2026, 11, 1), "--start")
    with pytest.raises(ConfigError, match=r"^--end 20261101: expected a date YYYY-MM-DD$"):
        to_date(20261101, "--end")  # type: ignore[arg-type]


def test_run_config_is_frozen_and_checked_again_when_changed() -> None:
    config = RunConfig(gap="10m", column_map={"user_id": "uid"})
    assert config.column_map == (("user_id", "uid"),)
    assert config == RunConfig(gap=timedelta(minutes=10), column_map=[("user_id", "uid")])
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.gap = timedelta(1)  # type: ignore[misc]
    assert config.but(timezone="Asia/Tokyo").gap == timedelta(minutes=10)
    with pytest.raises(ConfigError, match="gap must be positive"):
        config.but(gap="0s")
    with pytest.raises(ConfigError, match=r"unknown columns \['uid'\]"):
        RunConfig(column_map={"uid": "user_id"})
    assert dataclasses.replace(config, gap_rule="exclusive").gap_rule == "exclusive"


def test_stream_config_checks_like_run_config() -> None:
    assert StreamConfig(gap="2m", wait="5s", arrival="offset").wait == timedelta(seconds=5)
    with pytest.raises(ConfigError, match="gap must be positive"):
        StreamConfig(gap=timedelta(0))
    with pytest.raises(ConfigError, match="wait must be at least 0"):
        StreamConfig(wait=timedelta(seconds=-1))
    with pytest.raises(ConfigError, match="gap rule"):
        StreamConfig(gap_rule="sometimes")  # type: ignore[arg-type]
