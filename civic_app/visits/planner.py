"""The rotation planner: a pure function from dongs, quotas and blocked days to placements.

Why pure: the same input must give the same plan (re-planning, tests, the benchmark for 3,500
dongs), so nothing here touches the database, the clock or the request.

Order: priority dongs first (weighted flags), then the dongs waiting longest since their last
held visit (never visited first), ties broken by dong code. Dates: the open days of each
calendar year are sampled at evenly spaced positions, so visits spread over the months of the
year instead of bunching, subject to a per-day and a per-week cap. The ordered dongs then
take the dates in order, so priority dongs come first in the cycle.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from flask_babel import gettext as _

from civic_app.errors import ValidationFailed

FLAGS = ("contested_area", "natural_village", "outlying_area")
DEFAULT_WEIGHTS: dict[str, int] = {"contested_area": 3, "natural_village": 2, "outlying_area": 2}


@dataclass(frozen=True)
class PlannerDong:
    id: int
    code: str
    name: str = ""
    contested_area: bool = False
    natural_village: bool = False
    outlying_area: bool = False
    last_held: dt.date | None = None


@dataclass(frozen=True)
class Placement:
    dong_id: int
    day: dt.date
    reason: str  # a reason code, see describe_reason()
    rank: int  # position in the planning order (0 = first)


def _week(day: dt.date) -> tuple[int, int]:
    iso = day.isocalendar()
    return iso[0], iso[1]


def months_between(earlier: dt.date, later: dt.date) -> int:
    months = (later.year - earlier.year) * 12 + later.month - earlier.month
    if later.day < earlier.day:
        months -= 1
    return max(months, 0)


def describe_reason(code: str | None) -> str:
    """A readable Korean (or English) reason for a placement code."""
    if not code:
        return ""
    kind, _sep, arg = code.partition(":")
    if kind == "priority":
        labels = {
            "contested_area": _("쟁점민원 지역 우선"),
            "natural_village": _("자연부락 우선"),
            "outlying_area": _("소외·외곽지역 우선"),
        }
        return ", ".join(labels[f] for f in arg.split(",") if f in labels)
    if kind == "elapsed":
        return _("최근 방문 후 %(n)d개월 경과", n=int(arg))
    if kind == "never":
        return _("방문 기록 없음")
    if kind == "manual":
        return _("담당자가 직접 지정")
    return code


def validate_quotas(start: dt.date, end: dt.date, quotas: dict[int, int], dong_count: int) -> None:
    """Quotas must name each calendar year of the window, in order, and add up to the dongs."""
    if end < start:
        raise ValidationFailed(
            _("종료일은 시작일과 같거나 뒤여야 합니다."), [("end", _("종료일을 확인해 주세요."))]
        )
    years = list(range(start.year, end.year + 1))
    if list(quotas) != years:
        raise ValidationFailed(
            _(
                "연도별 할당은 %(first)d년부터 %(last)d년까지 %(n)d개 연도에 하나씩, 연도 순서대로 입력해야 합니다.",
                first=years[0],
                last=years[-1],
                n=len(years),
            ),
            [("quotas", _("연도 수와 할당 수가 다릅니다."))],
        )
    if any(q < 0 for q in quotas.values()):
        raise ValidationFailed(
            _("연도별 할당은 0 이상이어야 합니다."), [("quotas", _("음수는 쓸 수 없습니다."))]
        )
    total = sum(quotas.values())
    if total != dong_count:
        raise ValidationFailed(
            _(
                "연도별 할당의 합계(%(total)d)가 활성 동 수(%(dongs)d)와 같아야 합니다. 모든 동은 주기마다 정확히 한 번 방문합니다.",
                total=total,
                dongs=dong_count,
            ),
            [("quotas", _("합계가 활성 동 수와 다릅니다."))],
        )


def order_dongs(dongs: Iterable[PlannerDong], weights: dict[str, int] | None = None) -> list[PlannerDong]:
    weights = weights or DEFAULT_WEIGHTS

    def key(d: PlannerDong):
        score = sum(weights.get(f, 0) for f in FLAGS if getattr(d, f))
        return (-score, d.last_held or dt.date.min, d.code)

    return sorted(dongs, key=key)


def _reason(dong: PlannerDong, day: dt.date, weights: dict[str, int]) -> str:
    flags = [f for f in FLAGS if getattr(dong, f) and weights.get(f, 0) > 0]
    if flags:
        return "priority:" + ",".join(flags)
    if dong.last_held is not None:
        return f"elapsed:{months_between(dong.last_held, day)}"
    return "never"


def plan(
    dongs: list[PlannerDong],
    *,
    start: dt.date,
    end: dt.date,
    quotas: dict[int, int],
    is_blocked: Callable[[dt.date], bool],
    fixed: Iterable[tuple[int, dt.date]] = (),
    max_per_week: int = 3,
    max_per_day: int = 1,
    weights: dict[str, int] | None = None,
) -> list[Placement]:
    """Place every dong of ``dongs`` not already in ``fixed`` (dong id, day) once in the window.

    ``dongs`` is every active dong of the cycle, including those with a fixed (kept) visit;
    ``quotas`` maps each calendar year in order to its number of visits. Raises
    ``ValidationFailed`` with a Korean message when the input cannot be satisfied.
    """
    weights = DEFAULT_WEIGHTS if weights is None else weights
    validate_quotas(start, end, quotas, len(dongs))
    if max_per_week < 1 or max_per_day < 1:
        raise ValidationFailed(_("주간·일간 최대 방문 수는 1 이상이어야 합니다."))
    fixed = list(fixed)
    fixed_ids = {dong_id for dong_id, _day in fixed}
    used_day: Counter[dt.date] = Counter()
    used_week: Counter[tuple[int, int]] = Counter()
    fixed_per_year: Counter[int] = Counter()
    for _dong_id, day in fixed:
        used_day[day] += 1
        used_week[_week(day)] += 1
        fixed_per_year[day.year] += 1
    remaining = {}
    for year, quota in quotas.items():
        if fixed_per_year[year] > quota:
            raise ValidationFailed(
                _(
                    "%(year)d년에 이미 확정된 방문(%(fixed)d건)이 할당(%(quota)d건)보다 많습니다.",
                    year=year,
                    fixed=fixed_per_year[year],
                    quota=quota,
                )
            )
        remaining[year] = quota - fixed_per_year[year]

    ordered = order_dongs((d for d in dongs if d.id not in fixed_ids), weights)
    placements: list[Placement] = []
    cursor = 0
    for year, count in remaining.items():
        if count == 0:
            continue
        days = _pick_days(
            year,
            count,
            start=max(start, dt.date(year, 1, 1)),
            end=min(end, dt.date(year, 12, 31)),
            is_blocked=is_blocked,
            used_day=used_day,
            used_week=used_week,
            max_per_day=max_per_day,
            max_per_week=max_per_week,
        )
        for day in days:
            dong = ordered[cursor]
            placements.append(Placement(dong.id, day, _reason(dong, day, weights), cursor))
            cursor += 1
    return placements


def _pick_days(
    year: int,
    count: int,
    *,
    start: dt.date,
    end: dt.date,
    is_blocked: Callable[[dt.date], bool],
    used_day: Counter,
    used_week: Counter,
    max_per_day: int,
    max_per_week: int,
) -> list[dt.date]:
    """``count`` dates of ``year`` at evenly spaced positions among the open slots."""
    slots: list[dt.date] = []
    day = start
    one = dt.timedelta(days=1)
    while day <= end:
        if not is_blocked(day):
            free = max_per_day - used_day[day]
            slots.extend([day] * free)
        day += one
    size = len(slots)

    def too_few(have: int) -> ValidationFailed:
        return ValidationFailed(
            _(
                "%(year)d년 기간에 방문할 수 있는 근무일이 부족합니다 (필요 %(need)d건, 가능 %(have)d건). 기간이나 주간·하루 최대 방문 수를 조정해 주세요.",
                year=year,
                need=count,
                have=have,
            ),
            [("quotas", _("근무일이 부족합니다."))],
        )

    if count > size:
        raise too_few(size)
    taken = bytearray(size)
    chosen: list[dt.date] = []
    for k in range(count):
        ideal = int((k + 0.5) * size / count)
        found = -1
        for offset in range(size):
            for j in (ideal + offset, ideal - offset) if offset else (ideal,):
                if 0 <= j < size and not taken[j]:
                    candidate = slots[j]
                    if used_day[candidate] < max_per_day and used_week[_week(candidate)] < max_per_week:
                        found = j
                        break
            if found >= 0:
                break
        if found < 0:
            raise too_few(k)
        taken[found] = 1
        picked = slots[found]
        used_day[picked] += 1
        used_week[_week(picked)] += 1
        chosen.append(picked)
    chosen.sort()
    return chosen
