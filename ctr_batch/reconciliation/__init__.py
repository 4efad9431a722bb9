"""A streaming job's output against the batch truth: differences, their causes, daily deltas."""

from __future__ import annotations
