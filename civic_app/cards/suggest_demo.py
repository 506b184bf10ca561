"""Demo data for the online suggestions (issue 17): citizen suggestions with 공감 — one on the
next 통통데이's agenda with an interim answer, one overdue, one answered, one waiting for its
answer, and a few small ones (the demo citizen's own among them).

Runs after the cards (40) and 통통데이 (50) loaders: it needs the departments' accounts, the demo
citizens and the scheduled sessions. Everything goes through the services, so the deadlines,
history lines and e-mails are the real ones.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from civic_app.cards import suggestions
from civic_app.cards.models import CardSuggestion
from civic_app.timeutil import today_seoul

SUPPORTERS = 130
# (key, dong index, title, category, place, author e-mail, department code, 공감 count,
#  days ago of the first and the last 공감, answer: None | ("interim"|"final", days ago, text))
SCENARIOS = [
    (
        "agenda",
        0,
        "전통시장 입구 보행자 안전 펜스 설치",
        "안전",
        "전통시장 정문 앞 교차로",
        "citizen2@demo.civic.kr",
        "SAFETY",
        112,
        (24, 1),
        ("interim", 2, "현장 조사를 마쳤고 교통 부서와 펜스 위치를 협의하고 있습니다."),
    ),
    (
        "overdue",
        1,
        "아파트 단지 앞 버스정류장 위치 조정",
        "도로·교통",
        "단지 정문에서 200m 떨어진 정류장",
        "citizen3@demo.civic.kr",
        "TRAFFIC",
        34,
        (47, 38),
        None,
    ),
    (
        "answered",
        2,
        "근린공원 야간 조명 밝기 개선",
        "안전",
        "근린공원 산책로",
        "citizen2@demo.civic.kr",
        "SAFETY",
        41,
        (26, 16),
        ("final", 5, "다음 달까지 산책로 조명 12개를 LED로 바꾸고 밝기를 두 배로 높입니다."),
    ),
    (
        "waiting",
        3,
        "하천 산책로와 자전거 도로 분리",
        "도로·교통",
        "하천변 산책로 1km 구간",
        "citizen3@demo.civic.kr",
        "ROAD",
        31,
        (9, 1),
        None,
    ),
    (
        "small",
        0,
        "어린이 놀이터 그늘막 설치",
        "기타",
        "중앙 어린이 놀이터",
        "citizen@demo.civic.kr",
        None,
        7,
        (12, 3),
        None,
    ),
    (
        "fresh",
        4,
        "학교 앞 불법 주정차 단속 카메라 설치",
        "안전",
        None,
        "citizen2@demo.civic.kr",
        None,
        2,
        (2, 1),
        None,
    ),
]
DESCRIPTION = (
    "주민들이 자주 이야기하는 불편입니다. 아이들과 어르신이 매일 지나는 곳이라 빨리 살펴봐 주시면 좋겠습니다."
)


def _supporters(session: Session, now: dt.datetime) -> list:
    """Demo citizens who give 공감 (the demo password; the hash is computed once)."""
    from civic_app.accounts.models import User, UserRole
    from civic_app.accounts.services import hash_password
    from civic_app.demo.core import DEMO_PASSWORD

    emails = [f"supporter{n:03d}@demo.civic.kr" for n in range(1, SUPPORTERS + 1)]
    existing = {u.email: u for u in session.scalars(select(User).where(User.email.in_(emails)))}
    password_hash = None
    out = []
    for n, email in enumerate(emails, start=1):
        user = existing.get(email)
        if user is None:
            password_hash = password_hash or hash_password(DEMO_PASSWORD)
            user = User(
                email=email,
                name=f"공감시민{n:03d}",
                password_hash=password_hash,
                created_at=now - dt.timedelta(days=60),
                email_verified_at=now - dt.timedelta(days=60),
                privacy_consent_at=now - dt.timedelta(days=60),
                privacy_consent_version="2026-11",
            )
            user.roles.append(UserRole(role="citizen"))
            session.add(user)
        out.append(user)
    session.flush()
    return out


def load_demo(session: Session, ctx: dict) -> None:
    from civic_app.accounts.models import User
    from civic_app.dongs.models import Department, Dong

    now: dt.datetime = ctx["now"]
    echo = ctx.get("echo", print)
    if session.scalar(select(CardSuggestion.id).limit(1)) is not None:
        return  # already loaded
    rules = suggestions.app_rules()
    dongs = list(session.scalars(select(Dong).where(Dong.active.is_(True)).order_by(Dong.code)))
    authors = {
        u.email: u for u in session.scalars(select(User).where(User.email.like("citizen%@demo.civic.kr")))
    }
    depts = {d.code: d for d in session.scalars(select(Department))}
    dept_users = {
        u.department_id: u
        for u in session.scalars(
            select(User).where(User.department_id.is_not(None), User.email.like("%@demo.civic.kr"))
        )
    }
    if len(dongs) < 5 or not authors:
        echo("    (시민 제안 데모: 동이나 시민 계정이 없어 건너뜁니다)")
        return
    crowd = _supporters(session, now)
    demo_citizen = authors.get("citizen@demo.civic.kr")
    made = 0
    for key, d_index, title, category, place, author_email, dept_code, count, (
        first,
        last,
    ), reply in SCENARIOS:
        author = authors.get(author_email) or next(iter(authors.values()))
        created = now - dt.timedelta(days=first + 3, hours=2)
        item = suggestions.submit_suggestion(
            session,
            actor=author,
            now=created,
            dong_id=dongs[d_index].id,
            title=title,
            description=DESCRIPTION,
            category=category,
            location=place,
            consent=True,
        )
        if dept_code and dept_code in depts:
            item.department_id = depts[dept_code].id
            session.flush()  # before the 공감 lock the row (a lock reloads it)
        made += 1
        people = [u for u in crowd if u.id != author.id][:count]
        if key == "agenda" and demo_citizen is not None and demo_citizen.id != author.id:
            people = [demo_citizen, *people[: count - 1]]
        span = (first - last) * 24 * 60  # minutes between the first and the last 공감
        for n, person in enumerate(people):
            at = now - dt.timedelta(days=first) + dt.timedelta(minutes=span * n // max(1, len(people) - 1))
            suggestions.support(session, item, actor=person, now=at, rules=rules)
        if reply is not None:
            kind, days_ago, text = reply
            responder = dept_users.get(item.department_id)
            if responder is not None:
                when = now - dt.timedelta(days=days_ago)
                suggestions.answer(
                    session,
                    item,
                    actor=responder,
                    now=when,
                    kind=kind,
                    body=text,
                    next_due_on=today_seoul(when) + dt.timedelta(days=20) if kind == "interim" else None,
                    rules=rules,
                )
    session.flush()
    echo(f"    시민 온라인 제안 {made}건, 공감 계정 {len(crowd)}개")
