"""Prediction of what the Bytewax search-session dataflow emits, and its run on event files."""

from __future__ import annotations
