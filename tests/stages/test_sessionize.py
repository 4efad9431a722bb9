"""Sessions by inactivity gap, ties by input order, deterministic ids (§2, §3)."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest

from ctr_batch.batch.pipeline import compute_tables
from ctr_batch.batch.run import run
from ctr_batch.core.config import RunConfig
from ctr_batch.stages import sessionize as user_sessions
from ctr_batch.stages.sessionize import group_users, out_of_order, users_interleaved
from tests.conftest import events

GAP = timedelta(seconds=10)


def session_sizes(frame: pl.DataFrame, **settings: object) -> list[int]:
    config = RunConfig(gap=GAP, **settings)  # type: ignore[arg-type]
    return compute_tables(frame.lazy(), config)["sessions"]["n_events"].to_list()


@pytest.mark.parametrize(
    ("rule", "delta", "sizes"),
    [
        pytest.param("inclusive", 10, [2], id="inclusive-exactly-gap-stays"),
        pytest.param("exclusive", 10, [1, 1], id="exclusive-exactly-gap-splits"),
        pytest.param("inclusive", 10.000001, [1, 1], id="inclusive-just-over-splits"),
        pytest.param("exclusive", 9.999999, [2], id="exclusive-just-under-stays"),
    ],
)
def test_gap_boundary(rule: str, delta: float, sizes: list[int]) -> None:
    frame = events(("u", 0, "app_open"), ("u", delta, "search"))
    assert session_sizes(frame, gap_rule=rule) == sizes


def test_gap_is_measured_from_previous_event_not_session_start() -> None:
    frame = events(*[("u", 9 * i, "click") for i in range(5)])
    assert session_sizes(frame) == [5]


def test_users_never_share_a_session() -> None:
    frame = events(("a", 0, "search"), ("b", 1, "click"), ("a", 2, "click"))
    sessions = compute_tables(frame.lazy(), RunConfig(gap=GAP))["sessions"].sort("user_id")
    assert sessions.select("user_id", "n_events", "n_clicks").rows() == [("a", 2, 1), ("b", 1, 1)]


def test_file_order_does_not_matter_only_time_does() -> None:
    frame = events(("u", 30, "click"), ("u", 0, "search"), ("u", 5, "click"), ("u", 25, "search"))
    sessions = compute_tables(frame.lazy(), RunConfig(gap=GAP))["sessions"]
    assert sessions["n_events"].to_list() == [2, 2]
    assert sessions["session_start"].dt.second().to_list() == [0, 25]


def test_ties_keep_input_order() -> None:
    # a click tied with its search in time: input order puts it after the search
    frame = events(("u", 0, "search", "q"), ("u", 0, "click"), ("u", 0, "search", "r"))
    searches = compute_tables(frame.lazy(), RunConfig(gap=GAP))["searches"]
    assert searches.select("query", "n_clicks").rows() == [("q", 1), ("r", 0)]


def test_ties_in_a_disordered_log_keep_input_order() -> None:
    # the 0 s open comes after the tied search and click: the full sort runs, ties by input order
    frame = events(("u", 10, "search", "q"), ("u", 0, "app_open"), ("u", 10, "click"))
    searches = compute_tables(frame.lazy(), RunConfig(gap=GAP))["searches"]
    assert searches["n_clicks"].to_list() == [1]
    swapped = events(("u", 10, "click"), ("u", 0, "app_open"), ("u", 10, "search", "q"))
    assert compute_tables(swapped.lazy(), RunConfig(gap=GAP))["searches"][
        "n_clicks"
    ].to_list() == [0]


@pytest.mark.parametrize(("first", "clicks"), [("a", 1), ("b", 0)])
def test_ties_across_files_follow_sorted_path_order(tmp_path, first: str, clicks: int) -> None:  # type: ignore[no-untyped-def]
    # the search is in `first`.parquet, the click tied with it in the other file
    other = "b" if first == "a" else "a"
    events(("u", 0, "search", "q")).write_parquet(tmp_path / f"{first}.parquet")
    events(("u", 0, "click")).write_parquet(tmp_path / f"{other}.parquet")
    run([tmp_path], tmp_path / "out", RunConfig(gap=GAP))
    assert pl.read_parquet(tmp_path / "out" / "searches")["n_clicks"].to_list() == [clicks]


def test_times_finer_than_a_microsecond_are_truncated_to_ties(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # in nanoseconds the search (400 ns) precedes the click (600 ns); truncated to the same
    # microsecond they tie, and input order (click first) decides: the search gets no click
    base = 1_704_067_200_000_000_000  # 2024-01-01 in ns
    frame = pl.DataFrame({
        "user_id": ["u", "u"], "event_type": ["click", "search"], "query": [None, "q"],
        "event_time": pl.Series([base + 600, base + 400]).cast(pl.Datetime("ns", "UTC")),
    })  # fmt: skip
    frame.write_parquet(tmp_path / "ns.parquet")
    run([tmp_path / "ns.parquet"], tmp_path / "out", RunConfig(gap=GAP))
    assert pl.read_parquet(tmp_path / "out" / "searches")["n_clicks"].to_list() == [0]


def test_default_gap_is_30_minutes() -> None:
    assert RunConfig().gap == timedelta(minutes=30)
    frame = events(("u", 0, "search", "q"), ("u", 1800, "click"), ("u", 3601, "click"))
    assert compute_tables(frame.lazy(), RunConfig())["sessions"]["n_events"].to_list() == [2, 1]


def test_start_end_and_deterministic_id() -> None:
    frame = events(("7", 3, "app_open"), ("7", 8, "app_close"))
    session = compute_tables(frame.lazy(), RunConfig(gap=GAP))["sessions"].row(0, named=True)
    assert session["session_start"].second == 3
    assert session["session_end"].second == 8
    assert session["session_id"] == "7/2024-01-01T00:00:03.000000Z"


def test_session_id_does_not_depend_on_partitioning() -> None:
    frame = events(("u", 0, "search"), ("u", 20, "click"), ("v", 1, "search"))
    whole = compute_tables(frame.lazy(), RunConfig(gap=GAP))["sessions"]["session_id"]
    parts = [
        compute_tables(frame[i : i + 1].lazy(), RunConfig(gap=GAP))["sessions"]["session_id"]
        for i in range(frame.height)
    ]
    assert sorted(whole.to_list()) == sorted(pl.concat(parts).to_list())


@pytest.mark.parametrize("engine", ["in-memory", "streaming"])
def test_engines_agree(engine: str) -> None:
    frame = events(
        *[(f"u{i % 3}", (i * 7) % 50, ["search", "click", "results"][i % 3]) for i in range(60)]
    )
    default = compute_tables(frame.lazy(), RunConfig(gap=GAP))
    other = compute_tables(frame.lazy(), RunConfig(gap=GAP), engine=engine)  # type: ignore[arg-type]
    for name, table in default.items():
        assert table.equals(other[name]), name


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        pytest.param([("a", 0), ("b", 0), ("a", 5)], False, id="users-interleaved-in-time-order"),
        pytest.param([("a", 5), ("a", 0)], True, id="later-event-first"),
        pytest.param([("a", 5), ("b", 0)], False, id="different-users"),
    ],
)
def test_out_of_order(rows: list[tuple[str, int]], expected: bool) -> None:
    frame = events(*[(user, second, "click") for user, second in rows]).with_row_index("_seq")
    grouped = group_users(frame.lazy().with_columns(pl.col("_seq").cast(pl.Int64))).collect()
    assert grouped.select(out_of_order()).item() is expected


def test_presorted_and_full_sort_agree() -> None:
    frame = events(("a", 5, "click"), ("a", 0, "search", "q"), ("b", 1, "search", "r"))
    disordered = compute_tables(frame.lazy(), RunConfig(gap=GAP))["searches"].sort("user_id")
    ordered = compute_tables(frame[[1, 2, 0]].lazy(), RunConfig(gap=GAP))["searches"].sort(
        "user_id"
    )
    assert disordered.drop("session_id").equals(ordered.drop("session_id"))
    assert disordered["n_clicks"].to_list() == [1, 0]


@pytest.mark.parametrize("colliding", [("packed",), ("packed", "hash")], ids=["packed", "hashes"])
def test_users_sharing_a_key_fall_back_to_the_next_key(
    monkeypatch: pytest.MonkeyPatch, colliding: tuple[str, ...]
) -> None:
    frame = events(("a", 0, "search", "q"), ("b", 1, "search", "r"), ("a", 2, "click"),
                   ("b", 3, "click"), ("a", 4, "click"))  # fmt: skip
    expected = compute_tables(frame.lazy(), RunConfig(gap=GAP))["sessions"].sort("user_id")
    real_key = user_sessions.user_key
    tried: list[str] = []

    def colliding_key(kind: str = "hash", rows: int = 0) -> pl.Expr:  # users share a key
        tried.append(kind)
        if kind in colliding:
            return pl.lit(2**63, pl.UInt64).alias("_user_key")  # low (row) bits clear
        return real_key(kind, rows)  # type: ignore[arg-type]

    monkeypatch.setattr(user_sessions, "user_key", colliding_key)
    got = compute_tables(frame.lazy(), RunConfig(gap=GAP))["sessions"].sort("user_id")
    assert got.equals(expected)
    assert got["n_clicks"].to_list() == [2, 1]
    assert tried == ["packed", "hash", "string"][: len(colliding) + 1]


def test_packed_key_orders_by_user_then_input_order() -> None:
    users = [f"u{i % 37}" for i in range(1000)]
    frame = pl.LazyFrame({"user_id": users, "_seq": range(1000)})
    got = group_users(frame, kind="packed", rows=1000).collect()
    assert got.select(users_interleaved()).item() is False
    assert got.group_by("user_id").agg(pl.col("_seq").diff().min() > 0)["_seq"].all()
    assert sorted(got["_seq"].to_list()) == list(range(1000))


def test_users_interleaved_detects_shared_keys() -> None:
    frame = pl.DataFrame({"user_id": ["a", "b", "a"], "_user_key": [1, 1, 1]})
    assert frame.select(users_interleaved()).item() is True
    assert frame.sort("user_id").select(users_interleaved()).item() is True  # a|b share a key
    alone = pl.DataFrame({"user_id": ["a", "a", "b"], "_user_key": [1, 1, 2]})
    assert alone.select(users_interleaved()).item() is False
