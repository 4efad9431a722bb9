"""``python -m tests.golden --update`` regenerates the golden files; review them as diffs."""

from __future__ import annotations

import sys

from tests.golden import update

if __name__ == "__main__":
    if sys.argv[1:] != ["--update"]:
        sys.exit("usage: python -m tests.golden --update")
    update()
    print("golden files rewritten; review with git diff")
