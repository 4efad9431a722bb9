"""Sample event logs bundled with the package (the ``data/`` folder of the repository)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from ctr_batch.core.errors import ConfigError
from ctr_batch.core.resources import data_dir

if TYPE_CHECKING:
    from pathlib import Path


@dataclass(frozen=True, slots=True)
class Sample:
    """A bundled event log and the gap it is meant to be run with."""

    name: str
    relative_path: str
    gap: timedelta
    description: str

    @property
    def path(self) -> Path:
        """Location of the sample on disk."""
        return data_dir() / self.relative_path


SAMPLES = {
    sample.name: sample
    for sample in (
        Sample(
            "sample",
            "sample",
            timedelta(minutes=30),
            "generated log: 6,001 events, 400 users, 7 days, hive day partitions",
        ),
        Sample("blog", "tutorial_blog.parquet", timedelta(seconds=5), "Bytewax blog's 12 events"),
        Sample(
            "tutorial-0.19",
            "tutorial_0_19.parquet",
            timedelta(seconds=10),
            "Bytewax 0.19 tutorial's 7 events",
        ),
        Sample(
            "excite",
            "excite-1997.parquet",
            timedelta(minutes=30),
            "Excite 1997 query log sample (searches only; Apache-2.0)",
        ),
    )
}


def sample(name: str) -> Sample:
    """Look up a bundled sample by name."""
    if name not in SAMPLES:
        msg = f"unknown sample {name!r}; available: {', '.join(SAMPLES)}"
        raise ConfigError(msg)
    return SAMPLES[name]
