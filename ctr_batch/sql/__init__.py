"""DuckDB over the written tables: curated queries, checks, views, the pure-SQL twin."""

from __future__ import annotations
