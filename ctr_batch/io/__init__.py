"""Reading event files, writing tables atomically, and every on-disk layout of an output folder."""

from __future__ import annotations
