"""The generator's fixed vocabularies: queries, items and result lists (whatever the seed)."""

from __future__ import annotations

from functools import cache

import numpy as np
import polars as pl

from ctr_batch.core.schema import ITEM, QUERY

N_ITEMS = 10  # length of a full result list
N_QUERIES = 3_000
# Query words (split on whitespace): "<modifier> <head> <place>", 1-3 of them.
_HEADS = """flights hotels pizza sushi shoes sneakers jackets laptops phones headphones coffee
    books tickets apartments cars bikes watches cameras tablets restaurants gyms dentists plumbers
    florists bakeries museums tours rentals jobs courses recipes games movies toys furniture lamps
    plants groceries pharmacies parking"""
_MODIFIERS = """cheap best used new local luxury vegan organic discount family kids vintage budget
    open nearby top free fast quiet 24h"""
_PLACES = """paris london berlin madrid rome lisbon vienna prague amsterdam dublin warsaw oslo
    zurich milan barcelona munich brussels copenhagen stockholm helsinki athens budapest krakow
    porto lyon"""


@cache
def vocabulary() -> tuple[pl.Series, pl.Series, pl.Series]:
    """Queries by popularity, items (query-major) and result lists by ``query * 11 + length``.

    Fixed whatever the seed: query ``q`` lists ``doc-<q>-01`` ... ``doc-<q>-10``.
    """
    rng = np.random.default_rng(20261101)
    heads, modifiers, places = _HEADS.split(), _MODIFIERS.split(), _PLACES.split()
    one_two = [(h,) for h in heads] + [(m, h) for m in modifiers for h in heads]
    one_two += [(h, p) for h in heads for p in places]
    three = [(m, h, p) for m in modifiers for h in heads for p in places]
    picked = np.sort(rng.choice(len(three), N_QUERIES - len(one_two), replace=False))
    words = one_two + [three[i] for i in picked]
    order = np.argsort([len(w) + 1.5 * rng.random() for w in words], kind="stable")  # short first
    queries = pl.Series(QUERY, [" ".join(words[i]) for i in order])
    ranks = range(1, N_ITEMS + 1)
    items = pl.Series(ITEM, [f"doc-{q:04d}-{r:02d}" for q in range(N_QUERIES) for r in ranks])
    full = items.reshape((N_QUERIES, N_ITEMS)).cast(pl.List(pl.String))
    lengths = np.tile(np.arange(N_ITEMS + 1), N_QUERIES)
    whole = full.gather(np.arange(len(lengths)) // (N_ITEMS + 1))
    lists = pl.DataFrame({"l": whole, "n": lengths}).select(pl.col("l").list.head(pl.col("n")))
    return queries, items, lists.to_series()
