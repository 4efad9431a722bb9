"""ctr_batch: search sessions and click-through rate, in batch, from Parquet event logs."""

from __future__ import annotations

__version__ = "0.1.0"
