"""The ctr-batch command line: Typer commands and Rich rendering, the only place that prints."""

from __future__ import annotations
