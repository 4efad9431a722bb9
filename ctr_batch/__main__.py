"""``python -m ctr_batch``."""

from __future__ import annotations

from ctr_batch.cli.app import main

main()
