"""The backfill manifest: typed day records, written atomically, refused when not ours."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from ctr_batch.core.errors import ConfigError
from ctr_batch.days.manifest import DayRecord, fingerprint, read_manifest, write_manifest
from ctr_batch.io.layout import MANIFEST_FILE

if TYPE_CHECKING:
    from pathlib import Path


def test_day_records_round_trip(tmp_path: Path) -> None:
    days = {"2024-01-02": DayRecord(rows_home=5, quarantined={"null_user_id": 1}, searches=2),
            "2024-01-01": DayRecord(fingerprint="abc", settings={"gap_us": 1})}  # fmt: skip
    assert read_manifest(tmp_path) == {}
    write_manifest(tmp_path, days)
    assert read_manifest(tmp_path) == days
    stored = json.loads((tmp_path / MANIFEST_FILE).read_text())
    assert list(stored["days"]) == ["2024-01-01", "2024-01-02"]
    assert [p.name for p in tmp_path.iterdir()] == [MANIFEST_FILE]


@pytest.mark.parametrize(
    "text",
    ["not json", "[]", '{"days": 3}', '{"days": {"2024-01-01": {"rows": 1}}}', '{"other": {}}'],
)
def test_a_foreign_manifest_is_refused_in_one_line(tmp_path: Path, text: str) -> None:
    (tmp_path / MANIFEST_FILE).write_text(text)
    with pytest.raises(ConfigError, match=r"not a ctr-batch manifest; delete it"):
        read_manifest(tmp_path)


def test_fingerprint_changes_with_files_and_settings(tmp_path: Path) -> None:
    path = tmp_path / "a.parquet"
    path.write_bytes(b"1")
    first = fingerprint([path], {"gap_us": 1})
    assert fingerprint([path], {"gap_us": 2}) != first
    path.write_bytes(b"22")
    assert fingerprint([path], {"gap_us": 1}) != first
