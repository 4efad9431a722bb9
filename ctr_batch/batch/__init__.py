"""The one place that orders the stages and collects: one pass, user buckets, the summary."""

from __future__ import annotations
