"""Launches counted per hour/day of their end in the store (a GROUP BY on SQLite, a
$group on MongoDB) give what reading them row by row gives, at the buckets' edges too."""

import random
from datetime import datetime

import pytest

from launchpad import LaunchPad
from launchpad.reports import INTERVALS, _counts_by_rows, interval_stats
from launchpad.stores.base import Store

EDGES = [
    "2026-11-29T23:59:59.999999",  # the last instant of a day and of an hour
    "2026-11-30T00:00:00.000000",  # the first of the next
    "2026-11-30T00:59:59.999999",
    "2026-11-30T01:00:00",
    "2026-11-30 01:30:00.000001",  # stored with a space (str(datetime)): same bucket as "T"
    "2026-11-30T01:30:00+02:00",  # an offset is not converted: the stamp's own hour
    "2026-11-30T22:00:00Z",
    "2026-11-30T23",  # no more than the hour
    "2026",  # shorter than the period
    "",  # not ended: counted nowhere
    None,
]
STATES = ["COMPLETED", "FIZZLED", "RUNNING"]


@pytest.fixture
def ended(store):
    """Launches ending at every edge and at random times over three days."""
    rng = random.Random(13)
    stamps = EDGES * 3 + [
        datetime(2026, 11, rng.randint(28, 30), rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59))
        .isoformat(timespec="microseconds")
        .replace("T", rng.choice("T "))
        for _ in range(150)
    ]
    for launch_id, stamp in enumerate(stamps, 1):
        launch = {"launch_id": launch_id, "fw_id": launch_id, "state": rng.choice(STATES)}
        launch["host"] = f"h{launch_id % 3}"
        if stamp is not None or launch_id % 2:
            launch["time_end"] = stamp  # None stored, or no field at all
        store.insert_launch(launch)
    return LaunchPad(store)


def test_store_counts_equal_the_row_by_row_counts(ended):
    lp = ended
    for width in [4, 7, 10, 13, 16]:
        for since in [None, "2026-11-30T01", "2026-11-30T00:00:00.000000", "2026-11-29"]:
            for query in [None, {"state": "FIZZLED"}, {"host": {"$in": ["h1", "h2"]}}]:
                rows = _counts_by_rows(lp, "launches", width, since, query)
                expected = {k: dict(v) for k, v in rows.items()}
                assert expected  # the window is not empty
                assert lp.store.count_launches_by_period(width, since, query) == expected, (
                    width,
                    since,
                    query,
                )
                assert Store.count_launches_by_period(lp.store, width, since, query) == expected


def test_interval_stats_over_the_store_equal_the_rows_in_any_time_zone(ended, monkeypatch):
    import time

    lp = ended
    lp.clock = lambda: datetime(2026, 11, 30, 23, 59, 59, 999999)
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")  # UTC+14: a local clock would cross the day
    time.tzset()
    try:
        for interval, count in [("hours", 3), ("hours", 48), ("days", 1), ("days", 3), ("minutes", 0)]:
            rows = interval_stats(lp, "launches", interval, count)
            assert rows and rows == sorted(rows, key=lambda r: r["date"], reverse=True)
            width, step = INTERVALS[interval]
            start = (lp.clock() - step * count).strftime("%Y-%m-%dT%H:%M:%S.%f")[:width] if count else None
            by_rows = _counts_by_rows(lp, "launches", width, start, None)
            assert {r["date"]: r["states"] for r in rows} == {k: dict(v) for k, v in by_rows.items()}
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
