"""The seeded event-log generator and the sample logs bundled with the package."""

from __future__ import annotations
