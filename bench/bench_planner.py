"""Time the rotation planner for a whole country: 3,500 synthetic dongs over a 2-year cycle.

    .venv/bin/python -m bench.bench_planner     # prints the median of several runs

``run()`` returns a dict so the benchmark runner can collect it. The blocked days are the real
ones (weekends, Korean public holidays from ``holidays``, 2nd/4th Thursdays for 통통데이); no
database is involved, because the planner itself is a pure function.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time

import holidays

from civic_app.visits.planner import PlannerDong, plan

DONGS = 3500
START = dt.date(2027, 1, 1)
END = dt.date(2028, 12, 31)
QUOTAS = {2027: 1750, 2028: 1750}


def _blocked() -> set[dt.date]:
    days = set(holidays.country_holidays("KR", years=[2027, 2028]).keys())
    day = START
    while day <= END:
        if day.weekday() == 3 and (day.day - 1) // 7 in (1, 3):
            days.add(day)
        day += dt.timedelta(days=1)
    return days


def synthetic_dongs(n: int = DONGS) -> list[PlannerDong]:
    base = dt.date(2024, 1, 1)
    return [
        PlannerDong(
            id=i + 1,
            code=f"{1100000000 + i * 100:010d}",
            contested_area=i % 17 == 0,
            natural_village=i % 23 == 0,
            outlying_area=i % 29 == 0,
            last_held=None if i % 11 == 0 else base + dt.timedelta(days=(i * 37) % 700),
        )
        for i in range(n)
    ]


def run(repeats: int = 5) -> dict:
    dongs = synthetic_dongs()
    blocked = _blocked()
    timings = []
    placements = []
    for _ in range(repeats):
        started = time.perf_counter()
        placements = plan(
            dongs,
            start=START,
            end=END,
            quotas=QUOTAS,
            is_blocked=lambda d: d.weekday() >= 5 or d in blocked,
            max_per_day=12,
            max_per_week=50,
        )
        timings.append(time.perf_counter() - started)
    return {
        "name": "visits.planner",
        "dongs": len(dongs),
        "placements": len(placements),
        "runs": repeats,
        "median_seconds": statistics.median(timings),
        "max_seconds": max(timings),
    }


if __name__ == "__main__":
    result = run()
    print(
        f"planner: {result['dongs']} dongs, {result['placements']} visits, "
        f"median {result['median_seconds'] * 1000:.1f} ms over {result['runs']} runs"
    )
