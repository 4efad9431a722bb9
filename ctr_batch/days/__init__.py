"""Nightly backfill: day windows, day partitions and the manifest of what each day read."""

from __future__ import annotations
