"""Demo data: 25 members and the source's 116 tasks (57 maintained, 24 concluded, 7 replaced, 59 new).

Built through the services (a mid-term review that leaves the source's counts, two published
quarters, an open evaluation round) so the demo shows each process at work.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civic_app.accounts.models import User
from civic_app.committee.committees import ensure_reference
from civic_app.committee.evaluations import open_evaluation_round, record_evaluation
from civic_app.committee.meetings import save_meeting, set_meeting_status
from civic_app.committee.models import (
    DEFAULT_SUBCOMMITTEES,
    CommitteeMeeting,
    CommitteeMember,
    CommitteeTask,
)
from civic_app.committee.reports import open_quarter, publish_quarter, submit_entry
from civic_app.committee.reviews import apply_review, start_review
from civic_app.dongs.models import Department

# Per field, in DEFAULT_SUBCOMMITTEES order: (maintained, concluded, replaced, new, new proposed for next year)
PLAN: tuple[tuple[int, int, int, int, int], ...] = (
    (4, 5, 1, 9, 6),
    (6, 3, 1, 4, 2),
    (17, 6, 2, 8, 5),
    (12, 6, 2, 35, 22),
    (18, 4, 1, 3, 2),
)
FIELD_DEPARTMENTS = (
    ("POLICY", "BUDGET"),
    ("ECONOMY",),
    ("WELFARE",),
    ("URBAN", "ENV", "ROAD", "TRAFFIC"),
    ("CULTURE", "EDU"),
)
THEMES = (
    (
        "주민참여예산",
        "정보공개",
        "민원처리",
        "재정건전성",
        "공공데이터 개방",
        "협치 조례",
        "시정 모니터링",
        "행정서비스 혁신",
        "청렴도 향상",
        "세외수입 관리",
    ),
    (
        "골목상권",
        "청년 일자리",
        "사회적경제",
        "전통시장",
        "소상공인 금융",
        "지역화폐",
        "창업 지원",
        "노동권익 보호",
    ),
    (
        "노인 돌봄",
        "장애인 이동권",
        "공공 산후조리",
        "아동 급식",
        "여성 안심귀가",
        "공공의료 강화",
        "치매 안심",
        "1인 가구 지원",
        "정신건강",
        "보육 공공성",
        "건강 격차 해소",
        "한부모 가족",
    ),
    (
        "대중교통 체계",
        "보행 환경",
        "자전거 도로",
        "미세먼지 저감",
        "도시재생",
        "공원 녹지",
        "하천 복원",
        "에너지 자립",
        "재활용 체계",
        "주거 안정",
        "침수 예방",
        "공공 주차",
        "소음 관리",
        "생활권 도로",
    ),
    (
        "생활문화센터",
        "도서관 확충",
        "마을 교육",
        "평생학습",
        "지역 축제",
        "청소년 공간",
        "문화예술 지원",
        "생활체육",
    ),
)
SUFFIXES = (" 추진", " 기반 조성", " 제도 개선", " 활성화", " 확대")

# (name, position, membership, affiliation, field index or None, gender, age band)
MEMBERS: tuple[tuple[str, str, str, str, int | None, str | None, str | None], ...] = (
    ("정무부시장", "chair", "ex_officio", "official", None, None, None),
    ("기획조정실장", "member", "ex_officio", "official", 0, None, None),
    ("강민주", "chair", "appointed", "civil_society", None, "female", "50s"),
    ("박성훈", "vice_chair", "appointed", "expert", 3, "male", "50s"),
    ("윤하늘", "member", "appointed", "expert", 2, "female", "40s"),
    ("이재원", "member", "appointed", "council", 0, "male", "60s"),
    ("최유진", "member", "appointed", "resident", 0, "female", "30s"),
    ("김도현", "member", "appointed", "expert", 0, "male", "40s"),
    ("한서영", "member", "appointed", "civil_society", 1, "female", "40s"),
    ("오준호", "member", "appointed", "expert", 1, "male", "50s"),
    ("서미경", "member", "appointed", "resident", 1, "female", "60s"),
    ("장우성", "member", "appointed", "council", 1, "male", "50s"),
    ("임수아", "member", "appointed", "civil_society", 2, "female", "30s"),
    ("권태민", "member", "appointed", "expert", 2, "male", "60s"),
    ("배지현", "member", "appointed", "resident", 2, "female", "20s"),
    ("조현우", "member", "appointed", "civil_society", 2, "male", "40s"),
    ("신예린", "member", "appointed", "expert", 3, "female", "30s"),
    ("홍석진", "member", "appointed", "council", 3, "male", "50s"),
    ("문가은", "member", "appointed", "resident", 3, "female", "40s"),
    ("양동훈", "member", "appointed", "civil_society", 3, "male", "60s"),
    ("송지아", "member", "appointed", "expert", 4, "female", "40s"),
    ("유승민", "member", "appointed", "resident", 4, "male", "30s"),
    ("노은비", "member", "appointed", "civil_society", 4, "female", "50s"),
    ("구본철", "member", "appointed", "council", 4, "male", "70+"),
    ("전소희", "member", "appointed", "expert", 4, None, None),
)
LINKED_MEMBER = "윤하늘"  # signs in as member@demo.civic.kr
SEOUL_OFFSET = dt.timedelta(hours=9)


def _utc(year: int, month: int, day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=dt.UTC) - SEOUL_OFFSET


def task_plan() -> list[dict]:
    """The 147 task rows before the review: 88 baseline (all active) and 59 new."""
    rows: list[dict] = []
    for f, (kept, concluded, replaced, new, proposed) in enumerate(PLAN):
        themes = THEMES[f]
        baseline_n = kept + concluded + replaced
        new_codes = [f"N{f + 1}-{i + 1:02d}" for i in range(new)]
        for i in range(baseline_n):
            if i < kept:
                outcome, successors = "maintained", ""
            elif i < kept + concluded:
                outcome, successors = "concluded", ""
            else:
                # 도시계획/환경: each replaced task has its own successor; elsewhere they go to
                # the field's first new task (복지: two tasks merged into one).
                outcome = "replaced"
                successors = new_codes[i - kept - concluded] if f == 3 else new_codes[0]
            rows.append(
                {
                    "code": f"B{f + 1}-{i + 1:02d}",
                    "title": themes[i % len(themes)] + SUFFIXES[(i // len(themes)) % len(SUFFIXES)],
                    "field": f,
                    "origin": "baseline",
                    "status": "active",
                    "outcome": outcome,
                    "successors": successors,
                    "dept": FIELD_DEPARTMENTS[f][i % len(FIELD_DEPARTMENTS[f])],
                    "start_year": 2024,
                }
            )
        for i, code in enumerate(new_codes):
            later = i >= new - proposed
            rows.append(
                {
                    "code": code,
                    "title": "신규 "
                    + themes[(i + 3) % len(themes)]
                    + SUFFIXES[(i // len(themes) + 1) % len(SUFFIXES)],
                    "field": f,
                    "origin": "new",
                    "status": "proposed" if later else "active",
                    "dept": FIELD_DEPARTMENTS[f][(i + 1) % len(FIELD_DEPARTMENTS[f])],
                    "start_year": 2027 if later else 2026,
                }
            )
    return rows


def load_demo(session: Session, ctx: dict) -> None:
    echo = ctx.get("echo", print)
    committee = ensure_reference(session)
    subs = {s.position - 1: s for s in committee.subcommittees if s.name in DEFAULT_SUBCOMMITTEES}
    actor = session.scalar(select(User).where(User.email == "secretariat@demo.civic.kr"))
    if actor is None:
        echo("    위원회 사무국 데모 계정이 없어 위원회 데모 데이터를 건너뜁니다.")
        return
    _load_members(session, committee, subs)
    if session.scalar(select(func.count(CommitteeTask.id)).where(CommitteeTask.committee_id == committee.id)):
        return
    departments = {d.code: d for d in session.scalars(select(Department))}
    plan = task_plan()
    start = _utc(2024, 3, 1)
    for row in plan:
        dept = departments.get(row["dept"])
        session.add(
            CommitteeTask(
                committee_id=committee.id,
                code=row["code"],
                title=row["title"],
                subcommittee_id=subs[row["field"]].id,
                origin=row["origin"],
                status=row["status"],
                department_id=dept.id if dept else None,
                start_year=row["start_year"],
                progress=0,
                created_at=start,
                updated_at=start,
            )
        )
    session.flush()
    review = start_review(
        session, committee, title="2026년 정책합의과제 중간점검", actor=actor, now=_utc(2026, 3, 10)
    )
    wanted = {r["code"]: (r["outcome"], r["successors"]) for r in plan if r["origin"] == "baseline"}
    decisions = {o.id: wanted[o.task_code] for o in review.outcomes}
    apply_review(session, review, decisions, actor=actor, now=_utc(2026, 3, 20))
    _load_quarters(session, committee, actor)
    _load_meetings_and_evaluation(session, committee, actor, subs)
    echo(
        f"    위원회 과제 {len(plan)}건 (정책합의 88: 유지 57 · 종결 24 · 대체 7, 신규 59), 위원 {len(MEMBERS)}명"
    )


def _load_members(session: Session, committee, subs) -> None:
    if session.scalar(
        select(func.count(CommitteeMember.id)).where(CommitteeMember.committee_id == committee.id)
    ):
        return
    linked = session.scalar(select(User).where(User.email == "member@demo.civic.kr"))
    for i, (name, position, membership, affiliation, field, gender, age) in enumerate(MEMBERS):
        term_start = dt.date(2025, 1, 1) if i % 3 else dt.date(2025, 3, 1)
        session.add(
            CommitteeMember(
                committee_id=committee.id,
                name=name,
                position=position,
                membership=membership,
                affiliation=affiliation,
                subcommittee_id=subs[field].id if field is not None else None,
                term_start=term_start,
                term_end=dt.date(2026, 12, 31) if i % 5 == 0 else dt.date(2027, 2, 28),
                gender=gender,
                age_band=age,
                email=f"member{i + 1}@committee.example.kr",
                user_id=linked.id if linked is not None and name == LINKED_MEMBER else None,
                active=True,
            )
        )
    session.flush()


def _load_quarters(session: Session, committee, actor: User) -> None:
    for quarter, opened, published, base in (
        (2, (2026, 7, 1), (2026, 7, 25), 20),
        (3, (2026, 10, 1), (2026, 10, 24), 35),
    ):
        record = open_quarter(
            session,
            committee,
            year=2026,
            quarter=quarter,
            deadline=dt.date(*opened) + dt.timedelta(days=14),
            actor=actor,
            now=_utc(*opened),
        )
        for n, entry in enumerate(record.entries):
            if quarter == 3 and n % 9 == 8:
                continue  # a few departments did not report in time
            submit_entry(
                session,
                entry,
                actor=actor,
                now=_utc(*opened) + dt.timedelta(days=7),
                progress_text=f"{entry.task_title}: 관계기관 협의와 세부 계획 수립을 진행했습니다.",
                progress_pct=min(100, base + (n * 7) % 40),
                issues="예산 확보 협의 필요" if n % 4 == 0 else "",
                next_steps="다음 분기 시범 운영" if n % 2 == 0 else "관련 부서 협의 계속",
            )
        publish_quarter(
            session,
            record,
            actor=actor,
            now=_utc(*published),
            summary=f"2026년 {quarter}분기 정책과제 추진상황을 본회의에 보고했습니다.",
        )


def _load_meetings_and_evaluation(session: Session, committee, actor: User, subs) -> None:
    if session.scalar(
        select(func.count(CommitteeMeeting.id)).where(CommitteeMeeting.committee_id == committee.id)
    ):
        return
    for title, (y, m, d), status in (
        ("2026년 제1차 정기회의", (2026, 4, 16), "held"),
        ("2026년 제2차 정기회의", (2026, 9, 17), "held"),
        ("2027년 제1차 정기회의", (2027, 4, 15), None),
    ):
        meeting = save_meeting(
            session,
            committee,
            None,
            kind="regular",
            title=title,
            start_at=_utc(y, m, d, 14),
            end_at=_utc(y, m, d, 16),
            location="시청 대회의실",
            agenda="정책과제 분기별 추진상황 보고\n신규 정책 제안 심의",
            actor=actor,
            now=_utc(y, m, 1),
        )
        if status:
            set_meeting_status(session, meeting, status, actor=actor, now=_utc(y, m, d, 17))
    record = open_evaluation_round(session, committee, year=2026, half=2, actor=actor, now=_utc(2026, 11, 2))
    member = session.scalar(select(CommitteeMember).where(CommitteeMember.name == LINKED_MEMBER))
    if member is not None and member.user is not None:
        tasks = session.scalars(
            select(CommitteeTask)
            .where(CommitteeTask.subcommittee_id == member.subcommittee_id, CommitteeTask.status == "active")
            .order_by(CommitteeTask.code)
            .limit(3)
        ).all()
        for n, task in enumerate(tasks):
            record_evaluation(
                session,
                record,
                task,
                actor=member.user,
                score=4 - n % 2,
                comment="추진 속도가 적절합니다.",
                now=_utc(2026, 11, 5),
            )
    session.flush()
