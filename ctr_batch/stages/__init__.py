"""Pure LazyFrame -> LazyFrame stages: flag, sessionize, segment, aggregate (never collect)."""

from __future__ import annotations
