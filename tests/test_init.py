"""The public API is exactly ``__all__``, sorted."""

from __future__ import annotations

import ctr_batch


def test_all_is_sorted_and_complete() -> None:
    assert ctr_batch.__all__ == sorted(ctr_batch.__all__)
    public = {name for name in vars(ctr_batch) if not name.startswith("_")}
    modules = {name for name, value in vars(ctr_batch).items() if type(value).__name__ == "module"}
    assert public - modules - {"annotations"} == set(ctr_batch.__all__) - {"__version__"}
