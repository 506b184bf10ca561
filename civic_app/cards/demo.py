"""Demo data: the 39 cards with items in every state, reviews, envelopes and reflected items.

Runs after the visits (30) and 통통데이 loaders, which already add a few items. Everything goes
through the services, so the histories, scores and outbox rows are the real ones.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from civic_app.cards import budget, items, reviews, settings, transitions
from civic_app.cards.models import (
    CRITERIA,
    DONE,
    IN_PROGRESS,
    LONG_TERM,
    NOT_FEASIBLE,
    BudgetEnvelope,
    CardItem,
)
from civic_app.timeutil import to_seoul

# (title pattern, category, department code, estimated cost in KRW)
TEMPLATES: list[tuple[str, str, str, int]] = [
    ("{d} 어린이공원 옆 골목길 보안등 설치", "안전", "SAFETY", 18_000_000),
    ("{d} 초등학교 앞 횡단보도 신호등 신설", "도로·교통", "TRAFFIC", 45_000_000),
    ("{d} 주택가 이면도로 포장 보수", "도로·교통", "ROAD", 120_000_000),
    ("{d} 하천변 산책로 CCTV 추가 설치", "안전", "SAFETY", 32_000_000),
    ("{d} 경로당 냉난방기 교체", "복지", "WELFARE", 15_000_000),
    ("{d} 마을버스 정류장 승차대 설치", "도로·교통", "TRAFFIC", 25_000_000),
    ("{d} 공원 노후 운동기구 교체", "문화·체육", "CULTURE", 38_000_000),
    ("{d} 상가 밀집지역 쓰레기 무단투기 단속 카메라", "환경", "ENV", 12_000_000),
    ("{d} 보도 턱 낮춤과 점자블록 정비", "도로·교통", "ROAD", 60_000_000),
    ("{d} 빗물받이 악취 저감 시설", "환경", "ENV", 22_000_000),
    ("{d} 작은도서관 개방시간 연장 인력 지원", "문화·체육", "CULTURE", 30_000_000),
    ("{d} 급경사 골목 미끄럼 방지 포장과 열선", "안전", "ROAD", 85_000_000),
    ("{d} 반려견 놀이터 조성", "기타", "URBAN", 150_000_000),
    ("{d} 홀몸 어르신 안부 확인 서비스 확대", "복지", "WELFARE", 40_000_000),
    ("{d} 스쿨존 과속방지턱 정비", "도로·교통", "ROAD", 20_000_000),
    ("{d} 마을 어귀 쉼터 그늘막 설치", "기타", "SAFETY", 9_000_000),
]
# The life of each demo item (cycled over the 39 dongs): every state appears many times.
PLAN = (
    "received",
    "under_review_partial",
    "under_review",
    "selected",
    "budget_reflected",
    "in_progress",
    "done",
    "long_term",
    "not_feasible",
    "referred",
    "selected",
    "done",
)
DEPT_ACCOUNTS = {
    "ROAD": ("road@demo.civic.kr", "도로과 주무관"),
    "TRAFFIC": ("traffic@demo.civic.kr", "교통정책과 주무관"),
    "SAFETY": ("safety@demo.civic.kr", "안전총괄과 주무관"),
    "ENV": ("env@demo.civic.kr", "환경정책과 주무관"),
    "WELFARE": ("welfare@demo.civic.kr", "복지정책과 주무관"),
    "CULTURE": ("culture@demo.civic.kr", "문화체육과 주무관"),
    "URBAN": ("urban@demo.civic.kr", "도시계획과 주무관"),
}
ITEMS_PER_DONG = 4


def _users(session: Session, now: dt.datetime) -> dict[str, object]:
    from civic_app.accounts.models import User
    from civic_app.accounts.services import create_staff_user
    from civic_app.demo.core import DEMO_PASSWORD
    from civic_app.dongs.models import Department

    depts = {d.code: d for d in session.scalars(select(Department))}
    users = {u.email: u for u in session.scalars(select(User).where(User.email.like("%@demo.civic.kr")))}
    out = {
        "budget": users.get("budget@demo.civic.kr"),
        "policy": users.get("policy@demo.civic.kr"),
        "staff": users.get("staff@demo.civic.kr"),
    }
    for code, (email, name) in DEPT_ACCOUNTS.items():
        user = users.get(email)
        if user is None and code in depts:
            user = create_staff_user(
                session,
                email=email,
                name=name,
                password=DEMO_PASSWORD,
                roles=["department"],
                now=now,
                department_id=depts[code].id,
            )
        out[code] = user
    out["depts"] = depts
    return out


def _review(session, item, party, actor, now, *, base: int, cost: int, rec: str = "select") -> None:
    scores = {c: max(1, min(5, base + (i + item.id) % 3 - 1)) for i, c in enumerate(CRITERIA)}
    reviews.record_review(
        session,
        item,
        party=party,
        actor=actor,
        now=now,
        scores=scores,
        recommendation=rec,
        cost_estimate=cost,
        comment="현장 확인 결과를 반영한 검토 의견입니다.",
    )


def load_demo(session: Session, ctx: dict) -> None:
    from civic_app.dongs.models import Dong

    now: dt.datetime = ctx["now"]
    echo = ctx.get("echo", print)
    this_year = to_seoul(now).year
    next_year = this_year + 1
    if session.scalar(select(BudgetEnvelope).where(BudgetEnvelope.fiscal_year == next_year)) is not None:
        return  # already loaded
    settings.ensure_reference(session)
    users = _users(session, now)
    budget_office, policy, staff = users["budget"], users["policy"], users["staff"]
    if budget_office is None or policy is None or staff is None:
        echo("    (관리카드 데모: 기본 계정이 없어 건너뜁니다)")
        return
    depts = users["depts"]
    dongs = list(session.scalars(select(Dong).where(Dong.active.is_(True)).order_by(Dong.code)))
    budget.set_envelope(session, fiscal_year=this_year, amount=2_000_000_000, actor=budget_office, now=now)
    n = 0
    selected_for_next: list[CardItem] = []
    reflected_next = 0
    for d_index, dong in enumerate(dongs):
        for k in range(ITEMS_PER_DONG):
            title, category, dept_code, cost = TEMPLATES[(d_index * ITEMS_PER_DONG + k) % len(TEMPLATES)]
            plan = PLAN[n % len(PLAN)]
            n += 1
            dept = depts.get(dept_code)
            dept_user = users.get(dept_code)
            created = now - dt.timedelta(days=20 + (n * 7) % 200, hours=n % 9)
            if plan == "received" and n % 3 == 0:
                created = now - dt.timedelta(days=3)  # fresh, not yet overdue
            item = items.create_item(
                session,
                dong_id=dong.id,
                title=title.format(d=dong.name),
                description="주민과의 대화에서 나온 건의입니다. 현장 확인이 필요합니다.",
                category=category,
                source_kind=("visit", "meeting", "walk_in", "staff")[n % 4],
                actor_id=staff.id,
                now=created,
                location=f"{dong.name} 일대",
                department_id=dept.id if dept else None,
                estimated_cost=cost,
            )
            # Items that started last year compete for this year's budget.
            early = plan in ("in_progress", "done")
            if early:
                item.target_year = this_year
            if plan == "received":
                continue
            step = created + dt.timedelta(days=5)
            if plan == "not_feasible":
                transitions.move(
                    session,
                    item,
                    NOT_FEASIBLE,
                    actor=budget_office,
                    now=step,
                    reason="사유지(개인 소유 도로)라 시 예산을 들일 수 없습니다. 소유자 동의 시 재검토합니다.",
                )
                continue
            if plan == "referred":
                transitions.refer(
                    session,
                    item,
                    actor=staff,
                    now=step,
                    reason="국도 구간이라 관리 기관으로 이송했습니다.",
                    referred_to="국토교통부 수도권국토관리청",
                )
                continue
            base = 3 + (n % 3)
            _review(session, item, "budget", budget_office, step, base=base, cost=cost)
            _review(session, item, "policy", policy, step + dt.timedelta(days=1), base=base - 1, cost=cost)
            if plan == "under_review_partial" or dept_user is None:
                continue
            rec = "long_term" if plan == "long_term" else "select"
            dept_cost = cost + (cost // 10 if n % 2 else 0)
            _review(
                session,
                item,
                "department",
                dept_user,
                step + dt.timedelta(days=2),
                base=base,
                cost=dept_cost,
                rec=rec,
            )
            if plan == "under_review":
                continue
            decided = step + dt.timedelta(days=10)
            if plan == "long_term":
                transitions.move(
                    session,
                    item,
                    LONG_TERM,
                    actor=policy,
                    now=decided,
                    reason="도시계획 변경이 먼저 필요해 장기 과제로 검토합니다.",
                )
                continue
            transitions.select_item(
                session,
                item,
                actor=policy,
                now=decided,
                reason="세 기관 검토 결과 시급성이 높습니다.",
            )
            if plan == "selected":
                selected_for_next.append(item)
                continue
            year = this_year if early else next_year
            transitions.reflect_in_budget(
                session,
                item,
                actor=budget_office,
                now=decided + dt.timedelta(days=20),
                fiscal_year=year,
                budget_kind="main" if n % 5 else "supplementary",
                amount=cost,
                budget_line=f"{category} > 주민 생활 불편 해소",
                reason="우선순위에 따라 예산에 반영했습니다.",
            )
            if year == next_year:
                reflected_next += cost
            if plan == "budget_reflected":
                continue
            transitions.move(session, item, IN_PROGRESS, actor=dept_user, now=decided + dt.timedelta(days=40))
            if plan == "done":
                transitions.move(
                    session,
                    item,
                    DONE,
                    actor=dept_user,
                    now=decided + dt.timedelta(days=70),
                    reason="공사를 마치고 주민 확인을 받았습니다.",
                )
    # A duplicate merged and a combined request split, so both appear in the histories.
    first = dongs[0] if dongs else None
    if first is not None:
        target = items.create_item(
            session,
            dong_id=first.id,
            title=f"{first.name} 시장 입구 불법주정차 단속",
            description="",
            category="도로·교통",
            source_kind="visit",
            actor_id=staff.id,
            now=now - dt.timedelta(days=12),
            department_id=depts["TRAFFIC"].id if "TRAFFIC" in depts else None,
            estimated_cost=8_000_000,
        )
        duplicate = items.create_item(
            session,
            dong_id=first.id,
            title=f"{first.name} 전통시장 앞 주차 단속 요청",
            description="",
            category="도로·교통",
            source_kind="meeting",
            actor_id=staff.id,
            now=now - dt.timedelta(days=10),
        )
        items.merge(
            session, duplicate, target, actor=staff, now=now - dt.timedelta(days=9), reason="같은 장소"
        )
        combined = items.create_item(
            session,
            dong_id=first.id,
            title=f"{first.name} 놀이터 바닥 교체와 화장실 리모델링",
            description="",
            category="문화·체육",
            source_kind="walk_in",
            actor_id=staff.id,
            now=now - dt.timedelta(days=8),
            estimated_cost=90_000_000,
        )
        items.split(
            session,
            combined,
            [
                {"title": f"{first.name} 놀이터 탄성포장 교체", "estimated_cost": 40_000_000},
                {"title": f"{first.name} 공원 화장실 리모델링", "estimated_cost": 50_000_000},
            ],
            actor=staff,
            now=now - dt.timedelta(days=7),
            reason="담당 부서가 달라 나눴습니다.",
        )
    # Next year's envelope: what is already reflected plus about two thirds of the selected
    # items, so the budget view shows items that fit, that do not, and what the rest can take.
    selected_total = sum(i.estimated_cost or 0 for i in selected_for_next)
    envelope = reflected_next + (selected_total * 2) // 3
    budget.set_envelope(
        session, fiscal_year=next_year, amount=max(envelope, 100_000_000), actor=budget_office, now=now
    )
    session.flush()
    echo(f"    관리카드 항목 {n + 4}건, {next_year}년도 예산 총액 {envelope:,}원")
