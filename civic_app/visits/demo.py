"""Demo data (loader order 30): the 민선9기 term plan with past visits held and published.

Results are written directly (no outbox rows) so seeding a demo does not flood the Telegram
channel with dozens of old posts.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from civic_app.dongs.models import Department
from civic_app.timeutil import to_seoul
from civic_app.visits.cycles import create_cycle
from civic_app.visits.models import RESULTS_PUBLISHED, Visit, VisitCycle
from civic_app.visits.results import add_suggestion, record_held
from civic_app.visits.rules import BlockedDays
from civic_app.visits.tours import create_tour

TERM_CYCLES = [
    ("민선9기 1주기 (2026 하반기)", dt.date(2026, 7, 1), dt.date(2026, 12, 31), [39]),
    ("민선9기 2주기 (2027–2028)", dt.date(2027, 1, 1), dt.date(2028, 12, 31), [19, 20]),
    ("민선9기 3주기 (2029–2030 상반기)", dt.date(2029, 1, 1), dt.date(2030, 6, 30), [19, 20]),
]
# (title, category, department code, location hint)
SUGGESTIONS = [
    ("통학로 보도 확장", "도로·교통", "ROAD", "초등학교 정문 앞"),
    ("어두운 골목 보안등 설치", "안전", "SAFETY", "주택가 골목"),
    ("하천변 산책로 악취 개선", "환경", "ENV", "하천 산책로"),
    ("경로당 냉난방기 교체", "복지", "WELFARE", "마을 경로당"),
    ("생활체육 공간 조성", "문화·체육", "CULTURE", "근린공원"),
    ("버스 정류장 승차대 설치", "도로·교통", "TRAFFIC", "마을버스 정류장"),
    ("어린이 보호구역 과속 단속카메라", "안전", "SAFETY", "어린이집 앞"),
    ("불법 투기 쓰레기 상습지역 정비", "환경", "ENV", "재활용 수거장"),
]


def _dept_ids(session: Session) -> dict[str, int]:
    return {d.code: d.id for d in session.scalars(select(Department))}


def _open_day(session: Session, day: dt.date) -> dt.date:
    blocked = BlockedDays.load(session, day, day + dt.timedelta(days=40))
    while blocked.is_blocked(day):
        day += dt.timedelta(days=1)
    return day


def _hold(session: Session, visit: Visit, index: int, depts: dict[str, int], now: dt.datetime) -> None:
    first = SUGGESTIONS[index % len(SUGGESTIONS)]
    second = SUGGESTIONS[(index + 3) % len(SUGGESTIONS)]
    dept_ids = [depts[c] for c in {first[2], second[2]} if c in depts]
    record_held(
        session,
        visit,
        agenda=["dialogue", "issues", "staff", "field"],
        residents_count=25 + (index * 7) % 40,
        participant_groups=["monitors", "reporters"] if index % 2 == 0 else ["monitors", "council"],
        notes="",
        department_ids=dept_ids,
        actor_id=None,
        now=now,
    )
    place = visit.dong.name if visit.dong else (visit.theme or "")
    for title, category, code, location in (first, second):
        add_suggestion(
            session,
            visit,
            title=title,
            description=f"{place} 주민들이 {title}을(를) 건의했습니다.",
            category=category,
            location=f"{place} {location}",
            department_id=depts.get(code),
            actor_id=None,
            now=now,
        )
    visit.result_summary = (
        f"{place} 주민 {visit.residents_count}명과 대화하며 현안을 들었습니다. "
        f"건의 2건({first[0]}, {second[0]})은 동 관리카드에 올려 관련 부서가 검토합니다."
    )
    visit.status = RESULTS_PUBLISHED
    visit.updated_at = now
    session.flush()


def load_visits(session: Session, ctx: dict) -> None:
    now: dt.datetime = ctx["now"]
    echo = ctx.get("echo", print)
    if session.scalar(select(VisitCycle.id).where(VisitCycle.start_day == TERM_CYCLES[0][1])) is not None:
        return
    depts = _dept_ids(session)
    today = to_seoul(now).date()
    held = 0
    for n, (name, start, end, quotas) in enumerate(TERM_CYCLES):
        cycle = create_cycle(
            session, start=start, end=end, quotas=quotas, name=name, publish=True, actor_id=None, now=now
        )
        if n == 0:
            session.expire_all()
            for i, visit in enumerate(sorted(cycle.visits, key=lambda v: v.start_at)):
                if visit.local_day < today:
                    _hold(session, visit, i, depts, now)
                    held += 1
    tours = [
        ("season", "폭염 대비 무더위쉼터·취약계층 현장 점검", dt.date(2026, 8, 4), ["WELFARE", "SAFETY"], 0),
        ("issue", "대장동 개발 집단민원 현장 청취", dt.date(2026, 10, 20), ["URBAN", "ROAD"], 32),
        ("season", "설 명절 소외계층 방문", dt.date(2027, 2, 2), ["WELFARE"], 17),
        ("field", "청년 일자리와 창업 현장", dt.date(2027, 3, 16), ["ECONOMY", "EDU"], 24),
    ]
    from civic_app.demo.core import dong_code

    for i, (group, theme, wanted, codes, dong_index) in enumerate(tours):
        day = _open_day(session, wanted)
        tour = create_tour(
            session,
            day=day,
            start_time=dt.time(14, 0),
            end_time=dt.time(16, 0),
            theme_group=group,
            theme=theme,
            sites_text=f"{dong_code(dong_index)} {theme} 현장",
            department_ids=[depts[c] for c in codes if c in depts],
            publish=True,
            actor_id=None,
            now=now,
        )
        if tour.local_day < today:
            _hold(session, tour, i + 5, depts, now)
    session.flush()
    echo(f"    동 방문: 주기 {len(TERM_CYCLES)}개, 진행·결과 공개 {held}건, 민생현장 탐방 {len(tours)}건")


def init_app(app) -> None:
    from civic_app.registry import get_registry

    get_registry(app).add_demo_loader(30, "visits", load_visits)
