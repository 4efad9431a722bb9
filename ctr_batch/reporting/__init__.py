"""The offline HTML report of an output: curated-SQL figures, Vega-Lite charts, one file."""

from __future__ import annotations
