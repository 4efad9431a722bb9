"""The contract: column names, table schemas, settings, errors, rules batch and stream share."""

from __future__ import annotations
