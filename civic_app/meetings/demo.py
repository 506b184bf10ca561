"""Demo data (loader order 50): the sessions of the current term and requests in every state."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civic_app.accounts.models import User
from civic_app.dongs.models import Department, Dong, Host
from civic_app.meetings import outcomes, review, schedule, submission
from civic_app.meetings.base import add_event
from civic_app.meetings.booking import mayor_host
from civic_app.meetings.models import (
    ROUTE_MAYOR,
    SESSION_HELD,
    SESSION_SCHEDULED,
    ST_WAITLISTED,
    MeetingRequest,
    TongtongSession,
)
from civic_app.meetings.texts import ko
from civic_app.timeutil import SEOUL, today_seoul

TERM_START = dt.date(2026, 7, 1)
TERM_END = dt.date(2030, 6, 30)

# (email, name) of extra demo citizens; passwords are the demo password.
CITIZENS = [
    ("citizen@demo.civic.kr", "홍길동"),
    ("citizen2@demo.civic.kr", "김민지"),
    ("citizen3@demo.civic.kr", "박서준"),
]
# (days ago, topic, category, dong name, group, scenario)
REQUESTS = [
    (120, "시장 사거리 신호 체계 개선", "도로·교통", "중앙동", False, "held"),
    (100, "경로당 냉방기 교체", "복지", "산성동", True, "held_deputy"),
    (90, "하천 악취 민원", "환경", "복정동", False, "answered"),
    (60, "재개발 구역 지정 요청", "도시계획", "수진동", True, "declined"),
    (40, "통학로 보도 설치", "도로·교통", "신흥동", False, "referred"),
    (30, "장애인 체육시설 확충", "문화·체육", "태평동", False, "booked_mayor"),
    (25, "마을버스 노선 연장", "도로·교통", "운중동", True, "booked_deputy"),
    (20, "공원 조명 추가", "안전", "정자동", False, "waitlisted"),
    (14, "전통시장 주차장 건립", "지역경제", "성남동", True, "waitlisted"),
    (9, "어린이집 대기 해소", "복지", "판교동", False, "submitted"),
    (3, "도서관 운영시간 연장", "교육", "야탑동", False, "submitted"),
    (1, "불법 주정차 단속 강화", "안전", "서현동", False, "submitted"),
]


def _citizens(session: Session, now: dt.datetime) -> list[User]:
    from civic_app.accounts.services import create_staff_user
    from civic_app.demo.core import DEMO_PASSWORD

    users = []
    for email, name in CITIZENS:
        user = session.scalar(select(User).where(User.email == email))
        if user is None:
            user = create_staff_user(
                session,
                email=email,
                name=name,
                password=DEMO_PASSWORD,
                roles=["citizen"],
                now=now,
                phone="010-2345-6789",
            )
            user.privacy_consent_at = now
            user.privacy_consent_version = "2026-11"
        users.append(user)
    session.flush()
    return users


def load_demo(session: Session, ctx: dict) -> None:
    now: dt.datetime = ctx["now"]
    echo = ctx.get("echo", print)
    rule = schedule.ensure_default_rule(session)
    mayor = mayor_host(session)
    if rule.host_id is None and mayor is not None and mayor.rank == Host.RANK_MAYOR:
        rule.host_id = mayor.id
    lines = schedule.generate(session, rule, TERM_START, TERM_END, now=now)
    echo(f"    통통데이 회차 {sum(1 for x in lines if x.action in ('created', 'moved'))}건 생성")
    if (session.scalar(select(func.count(MeetingRequest.id))) or 0) > 0:
        _mark_past_sessions_held(session, now)
        return
    staff = session.scalar(select(User).where(User.email == "staff@demo.civic.kr"))
    if staff is None:
        _mark_past_sessions_held(session, now)
        return
    citizens = _citizens(session, now)
    dongs = {d.name: d for d in session.scalars(select(Dong))}
    road = session.scalar(select(Department).where(Department.code == "ROAD"))
    env = session.scalar(select(Department).where(Department.code == "ENV"))
    deputy = session.scalar(select(Host).where(Host.rank == Host.RANK_DEPUTY).order_by(Host.id))
    for i, (ago, topic, category, dong_name, group, scenario) in enumerate(REQUESTS):
        t0 = now - dt.timedelta(days=ago)
        citizen = citizens[i % len(citizens)]
        req = submission.submit_request(
            session,
            actor=citizen,
            now=t0,
            topic=topic,
            category=category,
            desired_outcome=f"{topic}을(를) 바랍니다. 주민 불편이 오래되었습니다.",
            dong_id=dongs[dong_name].id if dong_name in dongs else None,
            is_group=group,
            party_size=5 if group else 1,
            preferred_session_ids=[],
            accessibility=None,
            consent=True,
            publish_consent=True,
        )
        t1 = t0 + dt.timedelta(days=2)
        if scenario in ("booked_mayor", "booked_deputy", "waitlisted"):
            t1 = now - dt.timedelta(hours=1)  # decided lately: the meeting is still ahead
        if scenario in ("held", "booked_mayor"):
            review.decide_mayor(session, req, actor=staff, now=t1, note="시장이 직접 듣겠습니다.")
        elif scenario == "waitlisted":
            _fill_and_waitlist(session, req, staff, t1)
        elif scenario in ("held_deputy", "booked_deputy") and deputy is not None:
            slot = schedule.publish_host_slot(
                session,
                deputy,
                start_at=_weekday_at(t1 + dt.timedelta(days=7), 10),
                minutes=30,
                location="부시장실",
                now=t1,
            )
            review.decide_fallback(
                session,
                req,
                slot=slot,
                reason_code="mayor_full",
                note="시장 일정이 한 달 뒤까지 차 있어, 더 빨리 만날 수 있는 부시장 면담으로 배정했습니다.",
                actor=staff,
                now=t1,
            )
        elif scenario in ("answered", "referred"):
            review.decide_written(
                session,
                req,
                route="referral",
                department=(env if scenario == "answered" else road) or road,
                reason_code="department_matter",
                note="담당 부서가 현장 확인 후 답변합니다.",
                actor=staff,
                now=t1,
            )
            if scenario == "answered":
                outcomes.record_answer(
                    session,
                    req,
                    text="현장 확인 결과 준설 공사를 12월에 시행합니다.",
                    actor=staff,
                    now=t1 + dt.timedelta(days=10),
                )
        elif scenario == "declined":
            review.decline(
                session,
                req,
                reason_code="out_of_scope",
                note="구역 지정은 도 권한 사안이어서 시에서 결정할 수 없습니다. 도 담당 부서를 안내해 드렸습니다.",
                actor=staff,
                now=t1,
            )
        if scenario in ("held", "held_deputy") and req.active_booking is not None:
            after = req.active_booking.end_at + dt.timedelta(hours=1)
            if after < now:
                outcomes.record_outcome(
                    session,
                    req,
                    attended=True,
                    outcome="개선 방향에 합의하고 담당 부서가 후속 조치를 맡기로 함.",
                    public_summary=f"{topic}: 담당 부서가 현장을 확인하고 개선 계획을 세우기로 했습니다.",
                    actor=staff,
                    now=after,
                )
                outcomes.add_followup(
                    session,
                    req,
                    title=f"{topic} 현장 확인 및 계획 수립",
                    department=road,
                    due_date=today_seoul(now) - dt.timedelta(days=5),
                    local_budget=req.dong_id is not None,
                    actor=staff,
                    now=after,
                )
    session.flush()
    _mark_past_sessions_held(session, now)
    echo(f"    통통데이 신청 {len(REQUESTS)}건")


def _weekday_at(day: dt.datetime, hour: int) -> dt.datetime:
    date = today_seoul(day)
    while date.weekday() >= 5:
        date += dt.timedelta(days=1)
    return dt.datetime(date.year, date.month, date.day, hour, 0, tzinfo=SEOUL).astimezone(dt.UTC)


def _mark_past_sessions_held(session: Session, now: dt.datetime) -> None:
    """Sessions of the demo term that took place carry a held record (the dashboard counts a
    session as held only then)."""
    for row in session.scalars(
        select(TongtongSession).where(
            TongtongSession.status == SESSION_SCHEDULED, TongtongSession.end_at < now
        )
    ):
        row.status = SESSION_HELD
        row.sequence += 1
        row.updated_at = now
    session.flush()


def _fill_and_waitlist(session: Session, req: MeetingRequest, staff: User, now: dt.datetime) -> None:
    """A request approved for the mayor while every upcoming place was taken: it waits on the
    list (the demo does not fill a year of sessions to get there; the next freed place or newly
    generated session carries it over in queue order)."""
    review.record_decision(
        req, ROUTE_MAYOR, "mayor_priority", "희망 회차가 차 있어 대기합니다.", actor=staff, now=now
    )
    add_event(session, req, "decided", review.decision_note(req), actor=staff, now=now)
    req.status = ST_WAITLISTED
    req.updated_at = now
    full = ko(
        "선택한 면담 시간이 이미 찼습니다. 대기 명단에 올렸고, 자리가 나면 신청 순서대로 자동 배정합니다."
    )
    add_event(session, req, "full", full, actor=staff, now=now)
    session.flush()
