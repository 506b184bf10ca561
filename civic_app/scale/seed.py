"""Seoul-scale data set: 426 dongs and four years of activity, written in bulk.

Core tables first (dongs, departments, hosts, accounts, outbox), then each feature (visits,
통통데이, cards, committee). A bench and test tool that writes every feature's tables, so it
imports their models directly; only the columns that shape the pages are named here and
:mod:`civic_app.scale.filler` fills the rest from the column types, so the seeder keeps working
while features add columns.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from civic_app.accounts.models import User, UserRole
from civic_app.accounts.services import hash_password
from civic_app.cards import models as card_models
from civic_app.cards.models import CardItem
from civic_app.committee import models as committee_models
from civic_app.committee.models import Committee, CommitteeTask, SubCommittee
from civic_app.dongs.models import Department, Dong, Host
from civic_app.meetings import models as meeting_models
from civic_app.meetings.models import (
    MeetingBooking,
    MeetingRequest,
    MeetingSlot,
    RequestEvent,
    TongtongRule,
    TongtongSession,
)
from civic_app.meetings.queries import tongtong_days
from civic_app.notify.models import OutboxMessage
from civic_app.scale.filler import Filler
from civic_app.timeutil import SEOUL, seoul_datetime
from civic_app.visits import models as visit_models
from civic_app.visits.models import Visit, VisitCycle

SEOUL_DONGS = 426
DONG_STEMS = (
    "청운", "효자", "사직", "삼청", "부암", "평창", "무악", "교남", "가회", "종로", "이화", "혜화",
    "창신", "숭인", "소공", "회현", "명동", "필동", "장충", "광희", "을지로", "신당", "다산", "약수",
    "청구", "동화", "황학", "중림", "후암", "용산", "남영", "청파", "원효로", "효창", "용문", "한강로",
    "이촌", "이태원", "한남", "서빙고", "보광", "성수", "행당", "응봉", "금호", "옥수", "마장", "사근",
    "왕십리", "용답", "송정", "자양", "구의", "광장", "능동", "중곡", "군자", "화양", "답십리", "장안",
    "청량리", "회기", "휘경", "이문", "전농", "용신", "면목", "상봉", "중화", "묵", "망우", "신내",
)  # fmt: skip
CARD_TITLES = (
    "보도블록 교체", "가로등 추가 설치", "어린이보호구역 과속방지턱", "버스정류장 그늘막", "공원 화장실 개선",
    "하천 산책로 조명", "경로당 냉방기 교체", "불법주정차 단속 요청", "골목길 CCTV 설치", "쓰레기 무단투기 방지",
    "횡단보도 신설", "도로 포트홀 보수", "주민센터 주차장 확충", "마을버스 노선 조정", "놀이터 바닥 교체",
)  # fmt: skip
TOPICS = (
    "재개발 구역 지정 관련 면담", "버스 노선 폐지 반대", "학교 앞 통학로 안전", "지역 상권 활성화 지원",
    "공공주택 건립 주민 의견", "하천 악취 민원", "장애인 이동권 개선", "소음 피해 대책", "청년 창업 공간",
)  # fmt: skip
SURNAMES = "김이박최정강조윤장임한오서신권황안송류홍"
GIVEN = ("민준", "서연", "도윤", "지우", "하준", "서윤", "시우", "지민", "은우", "수아", "예준", "하은")


@dataclass
class ScalePlan:
    dongs: int = SEOUL_DONGS
    requests: int = 40_000
    card_items: int = 100_000
    committee_tasks: int = 2_000
    outbox: int = 200_000
    citizens: int = 20_000
    years: int = 4
    seed: int = 20260

    @classmethod
    def for_dongs(cls, dongs: int, **overrides) -> ScalePlan:
        """Counts proportional to Seoul's for a city of ``dongs`` dongs (explicit counts win)."""
        factor = dongs / SEOUL_DONGS
        base = cls()
        values = {
            "dongs": dongs,
            "requests": round(base.requests * factor),
            "card_items": round(base.card_items * factor),
            "committee_tasks": max(10, round(base.committee_tasks * factor)),
            "outbox": round(base.outbox * factor),
            "citizens": max(10, round(base.citizens * factor)),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def estimated_rows(self) -> int:
        regular_visits = self.dongs * max(1, self.years // 2)
        return (
            self.dongs
            + self.citizens * 2
            + self.outbox
            + self.card_items
            + self.requests * 3
            + self.committee_tasks
            + regular_visits
            + 60 * self.years
        )


@dataclass
class SeedResult:
    counts: dict[str, int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)


def _has(model, *columns: str) -> bool:
    return model is not None and all(c in model.__table__.c for c in columns)


def _only(model, row: dict) -> dict:
    """Drop keys the model (as it is today) does not have."""
    cols = model.__table__.c
    return {k: v for k, v in row.items() if k in cols}


class Seeder:
    def __init__(
        self, session: Session, plan: ScalePlan, now: dt.datetime, tick: Callable[[int], None]
    ) -> None:
        self.s = session
        self.plan = plan
        self.now = now
        self.rng = random.Random(plan.seed)
        self.f = Filler(session, now, tick)
        self.result = SeedResult()
        self.term_start = (now - dt.timedelta(days=round(365.25 * (plan.years - 0.5)))).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        self.term_end = now + dt.timedelta(days=182)
        self.dong_ids: list[int] = []
        self.dept_ids: list[int] = []
        self.host_ids: list[int] = []
        self.citizen_ids: list[int] = []
        self.staff_ids: list[int] = []
        self.card_ids: list[int] = []

    # --- helpers ----------------------------------------------------------------------------
    def when(self, start: dt.datetime | None = None, end: dt.datetime | None = None) -> dt.datetime:
        start = start or self.term_start
        end = end or self.now
        span = max(1, int((end - start).total_seconds()))
        return start + dt.timedelta(seconds=self.rng.randrange(span))

    def person(self) -> str:
        return self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)

    # --- core -------------------------------------------------------------------------------
    def core(self) -> None:
        from civic_app.demo.core import DEMO_ACCOUNTS, DEMO_DEPARTMENTS, DEMO_HOSTS, DEMO_PASSWORD

        rng, now = self.rng, self.now
        stems = DONG_STEMS
        n = self.plan.dongs

        def dong(i: int, _id: int) -> dict:
            stem = stems[i % len(stems)]
            number = i // len(stems) + 1
            flag = rng.random()
            return {
                "code": f"11{i // 20 + 110:03d}{i % 20 * 5 + 10:03d}00",
                "name": f"{stem}{number}동",
                "contested_area": flag < 0.08,
                "natural_village": 0.08 <= flag < 0.12,
                "outlying_area": 0.12 <= flag < 0.2,
                "active": True,
                "updated_at": now,
            }

        self.dong_ids = self.f.insert(Dong, n, dong)

        dept_codes = set(self.s.scalars(sa.select(Department.code)))
        dept_names = set(self.s.scalars(sa.select(Department.name)))
        for code, name, field_ in DEMO_DEPARTMENTS:
            if code not in dept_codes and name not in dept_names:
                self.s.add(Department(code=code, name=name, field=field_, active=True))
        self.s.flush()
        by_code = {d.code: d.id for d in self.s.scalars(sa.select(Department))}
        self.dept_ids = sorted(by_code.values())
        if not self.s.scalar(sa.select(sa.func.count(Host.id))):
            for title, person, rank, dept_code, field_ in DEMO_HOSTS:
                self.s.add(
                    Host(
                        title=title,
                        person_name=person,
                        rank=rank,
                        field=field_,
                        active=True,
                        department_id=by_code.get(dept_code) if dept_code else None,
                    )
                )
            self.s.flush()
        self.host_ids = sorted(self.s.scalars(sa.select(Host.id)))

        # Staff: the demo accounts (known password, for the benchmark's sign-in).
        staff_hash = hash_password(DEMO_PASSWORD)
        existing = set(self.s.scalars(sa.select(User.email)))
        accounts = [a for a in DEMO_ACCOUNTS if a[0] not in existing]
        staff_ids = self.f.insert(
            User,
            len(accounts),
            lambda i, _id: _only(
                User,
                {
                    "email": accounts[i][0],
                    "name": accounts[i][1],
                    "phone": None,
                    "password_hash": staff_hash,
                    "session_token": f"scale-staff-{i}-{rng.getrandbits(64):x}",
                    "active": True,
                    "created_at": self.term_start,
                    "email_verified_at": self.term_start,
                    "privacy_consent_at": self.term_start,
                    "privacy_consent_version": "2026-11",
                    "department_id": by_code.get(accounts[i][3]) if accounts[i][3] else None,
                },
            ),
        )
        self.staff_ids = staff_ids
        role_rows = [(uid, role) for uid, acc in zip(staff_ids, accounts, strict=True) for role in acc[2]]
        self.f.insert(
            UserRole, len(role_rows), lambda i, _id: {"user_id": role_rows[i][0], "role": role_rows[i][1]}
        )

        # Citizens: one shared hash (Argon2 per row would take hours); they never sign in here.
        citizen_hash = staff_hash

        def citizen(i: int, ident: int) -> dict:
            created = self.when()
            return _only(
                User,
                {
                    "email": f"citizen{ident}@scale.example.kr",
                    "name": self.person(),
                    "phone": f"010-{rng.randrange(10000):04d}-{rng.randrange(10000):04d}",
                    "password_hash": citizen_hash,
                    "session_token": f"scale-{ident}-{rng.getrandbits(64):x}",
                    "active": True,
                    "created_at": created,
                    "email_verified_at": created,
                    "privacy_consent_at": created,
                    "privacy_consent_version": "2026-11",
                    "last_login_at": self.when(created),
                },
            )

        self.citizen_ids = self.f.insert(User, self.plan.citizens, citizen)
        self.f.insert(
            UserRole,
            len(self.citizen_ids),
            lambda i, _id: {"user_id": self.citizen_ids[i], "role": "citizen"},
        )

    def outbox(self) -> None:
        rng, now = self.rng, self.now
        kinds = ("visit.published", "visit.results", "tongtong.session", "card.decided", "committee.report")

        def message(i: int, ident: int) -> dict:
            created = self.when()
            telegram = rng.random() < 0.7
            pending = i >= self.plan.outbox - 20  # a few still queued at the end of the term
            row = {
                "channel": "telegram" if telegram else "email",
                "recipient": None
                if telegram
                else f"citizen{rng.choice(self.citizen_ids or [0])}@scale.example.kr",
                "kind": rng.choice(kinds),
                "payload": (
                    {
                        "title": f"소식 {ident}",
                        "summary": "공개 요약",
                        "url": f"/dongs/{rng.choice(self.dong_ids)}",
                    }
                    if telegram
                    else {"subject": "안내", "body": "처리 결과를 알려 드립니다.", "attachments": []}
                ),
                "dedupe_key": f"scale:{ident}",
                "subject_ref": f"scale:{ident % 5000}",
                "status": "queued" if pending else "sent",
                "attempts": 0 if pending else 1,
                "next_attempt_at": now if pending else created,
                "created_at": created,
                "updated_at": created,
                "sent_at": None if pending else created + dt.timedelta(seconds=rng.randrange(1, 90)),
                "external_message_id": None if pending else str(ident),
            }
            return _only(OutboxMessage, row)

        self.f.insert(OutboxMessage, self.plan.outbox, message)

    # --- features ---------------------------------------------------------------------------
    def visits(self) -> None:
        rng, now = self.rng, self.now
        cycles: list[tuple[int, dt.datetime, dt.datetime]] = []
        count = max(1, -(-self.plan.years // 2))  # a two-year rotation cycle
        step = (self.term_end - self.term_start) / count
        spans = [(self.term_start + step * k, self.term_start + step * (k + 1)) for k in range(count)]
        ids = self.f.insert(
            VisitCycle,
            len(spans),
            lambda i, _id: _only(
                VisitCycle,
                {
                    "name": f"{i + 1}차 순회",
                    "start_day": spans[i][0].astimezone(SEOUL).date(),
                    "end_day": spans[i][1].astimezone(SEOUL).date(),
                    "quotas": [[spans[i][0].year, len(self.dong_ids) // 2]],
                    "max_per_week": 6,
                    "created_at": spans[i][0],
                    "updated_at": spans[i][0],
                },
            ),
        )
        cycles = [(cid, a, b) for cid, (a, b) in zip(ids, spans, strict=True)]
        if not cycles:
            cycles = [(None, self.term_start, self.term_end)]
        plan = [(cycle, dong) for cycle in cycles for dong in self.dong_ids]
        statuses = visit_models.STATUSES

        # The first three visits of the running cycle fall in the coming weeks, so pages that
        # list upcoming visits have some whatever the size of the data set.
        current = next((k for k, (_c, a, b) in enumerate(cycles) if a <= now < b), None)
        soon = {}
        if current is not None:
            first = current * len(self.dong_ids)
            soon = {first + k: k for k in range(min(3, len(self.dong_ids)))}

        def visit(i: int, _id: int) -> dict:
            (cycle_id, start, end), dong_id = plan[i]
            if i in soon:
                day = (now + dt.timedelta(days=7 * (soon[i] + 1))).astimezone(SEOUL).date()
            else:
                day = self.when(start, end).astimezone(SEOUL).date()
            while day.weekday() >= 5:
                day += dt.timedelta(days=1)
            begin = seoul_datetime(day, dt.time(10, 0))
            past = begin < now
            status = "results_published" if past and rng.random() < 0.85 else ("held" if past else "planned")
            if status not in statuses:
                status = statuses[0]
            return _only(
                Visit,
                {
                    "kind": "regular",
                    "cycle_id": cycle_id,
                    "dong_id": dong_id,
                    "start_at": begin,
                    "end_at": begin + dt.timedelta(hours=2),
                    "status": status,
                    "published": past or i in soon or rng.random() < 0.5,
                    "agenda": ["dialogue", "issues", "field"],
                    "participant_groups": ["monitors"],
                    "residents_count": rng.randrange(10, 120) if past else None,
                    "result_summary": "주민과의 대화에서 나온 건의를 동 관리카드에 올렸습니다."
                    if past
                    else None,
                    "created_at": start,
                    "updated_at": begin if past else start,
                },
            )

        self.f.insert(Visit, len(plan), visit)

    def meetings(self) -> None:
        rng, now = self.rng, self.now
        past_slots: list[tuple[int, int, dt.datetime]] = []  # (slot id, session id, start)
        rule_id = self.s.scalar(sa.select(TongtongRule.id).order_by(TongtongRule.id).limit(1))
        if rule_id is None:
            rule_id = self.f.insert(
                TongtongRule, 1, lambda _i, _id: _only(TongtongRule, dict(meeting_models.DEFAULT_RULE))
            )[0]
        days = sorted(tongtong_days(self.s, self.term_start.date(), self.term_end.date()))
        existing = set(self.s.scalars(sa.select(TongtongSession.rule_date)))
        days = [d for d in days if d not in existing]
        mayor = self.host_ids[0] if self.host_ids else None

        def session_row(i: int, _id: int) -> dict:
            start = seoul_datetime(days[i], dt.time(14, 0))
            return _only(
                TongtongSession,
                {
                    "rule_id": rule_id,
                    "rule_date": days[i],
                    "start_at": start,
                    "end_at": start + dt.timedelta(hours=1),
                    "status": "held" if start < now else "scheduled",
                    "host_id": mayor,
                    "location": "시장실",
                    "sequence": 0,
                    "created_at": self.term_start,
                    "updated_at": self.term_start,
                },
            )

        session_ids = self.f.insert(TongtongSession, len(days), session_row)
        starts = [
            (sid, seoul_datetime(day, dt.time(14, 0)) + dt.timedelta(minutes=20 * k))
            for sid, day in zip(session_ids, days, strict=True)
            for k in range(3)
        ]
        slot_ids = self.f.insert(
            MeetingSlot,
            len(starts),
            lambda i, _id: _only(
                MeetingSlot,
                {
                    "kind": "tongtong",
                    "session_id": starts[i][0],
                    "host_id": mayor,
                    "start_at": starts[i][1],
                    "end_at": starts[i][1] + dt.timedelta(minutes=20),
                    "location": "시장실",
                    "active": True,
                    "created_at": self.term_start,
                },
            ),
        )
        past_slots = [
            (slot, sid, start) for slot, (sid, start) in zip(slot_ids, starts, strict=True) if start < now
        ]

        categories = meeting_models.CATEGORIES
        closed = ("held", "answered", "declined", "withdrawn", "referred")
        n = self.plan.requests
        open_count = max(1, n * 3 // 200)  # ~1.5 % still in the queue
        booked_for = {}  # request index -> slot tuple
        for k, slot in enumerate(past_slots):
            booked_for[open_count + k] = slot
        request_meta: list[tuple[dt.datetime, str]] = []

        def request(i: int, ident: int) -> dict:
            if i < open_count:
                status, created = (
                    rng.choice(("submitted", "submitted", "waitlisted")),
                    self.when(now - dt.timedelta(days=60)),
                )
            elif i in booked_for:
                status, created = "held", booked_for[i][2] - dt.timedelta(days=rng.randrange(10, 60))
            else:
                status, created = rng.choice(closed), self.when(end=now - dt.timedelta(days=30))
            request_meta.append((created, status))
            uid = rng.choice(self.citizen_ids) if self.citizen_ids and rng.random() < 0.8 else None
            decided = created + dt.timedelta(days=rng.randrange(3, 20))
            return _only(
                MeetingRequest,
                {
                    "code": f"TT-{created.astimezone(SEOUL).year}-{ident:05d}",
                    "requester_id": uid,
                    "requester_name": self.person(),
                    "requester_phone": f"010-{rng.randrange(10000):04d}-{rng.randrange(10000):04d}",
                    "requester_email": f"req{ident}@scale.example.kr",
                    "topic": rng.choice(TOPICS),
                    "category": rng.choice(categories),
                    "desired_outcome": "시장님과 직접 만나 현장 상황을 설명드리고 싶습니다.",
                    "dong_id": rng.choice(self.dong_ids),
                    "is_group": rng.random() < 0.1,
                    "party_size": 1,
                    "preferred_session_ids": [],
                    "consent_at": created,
                    "consent_version": "2026-11",
                    "publish_consent": rng.random() < 0.5,
                    "walk_in": rng.random() < 0.05,
                    "status": status,
                    "queue_since": created,
                    "route": None if status in ("submitted", "waitlisted") else "mayor",
                    "decided_at": None if status == "submitted" else decided,
                    "decided_by_id": None
                    if status == "submitted" or not self.staff_ids
                    else self.staff_ids[0],
                    "department_id": rng.choice(self.dept_ids) if self.dept_ids else None,
                    "public_summary": "면담 결과를 관련 부서에 전달했습니다." if status == "held" else None,
                    "held_at": booked_for[i][2] if i in booked_for else None,
                    "created_at": created,
                    "updated_at": decided if status != "submitted" else created,
                },
            )

        request_ids = self.f.insert(MeetingRequest, n, request)
        if past_slots:
            pairs = [(request_ids[i], slot) for i, slot in booked_for.items() if i < len(request_ids)]
            self.f.insert(
                MeetingBooking,
                len(pairs),
                lambda i, _id: _only(
                    MeetingBooking,
                    {
                        "slot_id": pairs[i][1][0],
                        "request_id": pairs[i][0],
                        "host_id": self.host_ids[0] if self.host_ids else None,
                        "session_id": pairs[i][1][1],
                        "start_at": pairs[i][1][2],
                        "end_at": pairs[i][1][2] + dt.timedelta(minutes=20),
                        "location": "시장실",
                        "active": True,
                        "sequence": 0,
                        "created_at": pairs[i][1][2] - dt.timedelta(days=7),
                        "updated_at": pairs[i][1][2] - dt.timedelta(days=7),
                    },
                ),
            )
        events = []
        for rid, (created, status) in zip(request_ids, request_meta, strict=True):
            events.append((rid, created, "submitted"))
            if status != "submitted":
                events.append((rid, created + dt.timedelta(days=5), status))
        self.f.insert(
            RequestEvent,
            len(events),
            lambda i, _id: _only(
                RequestEvent,
                {"request_id": events[i][0], "at": events[i][1], "kind": events[i][2], "note": ""},
            ),
        )

    def cards(self) -> None:
        rng, now = self.rng, self.now
        statuses = card_models.STATUSES
        reviewable = card_models.REVIEWABLE_STATUSES
        # Merged items need a partner row; the seeder only writes plain items.
        decided = tuple(s for s in statuses if s not in reviewable and s != "merged") or reviewable
        categories = card_models.DEFAULT_CATEGORIES
        sources = card_models.SOURCE_KINDS

        def item(i: int, _id: int) -> dict:
            created = self.when()
            # Old items are mostly decided; the last four months are still in review.
            age = (now - created).days
            status = rng.choice(decided) if age > 120 and rng.random() < 0.9 else rng.choice(reviewable)
            return _only(
                CardItem,
                {
                    "dong_id": rng.choice(self.dong_ids),
                    "title": rng.choice(CARD_TITLES),
                    "description": "현장소통에서 주민이 건의한 내용입니다.",
                    "category": rng.choice(categories),
                    "location": None,
                    "source_kind": rng.choice(sources),
                    "source_ref": None,
                    "department_id": rng.choice(self.dept_ids) if self.dept_ids else None,
                    "estimated_cost": rng.randrange(1, 500) * 1_000_000,
                    "status": status,
                    "created_by_id": self.staff_ids[0] if self.staff_ids else None,
                    "created_at": created,
                    "updated_at": created,
                    "version": 1,
                },
            )

        self.card_ids = self.f.insert(CardItem, self.plan.card_items, item)

    def committee(self) -> None:
        rng = self.rng
        committee_id = self.s.scalar(sa.select(Committee.id).order_by(Committee.id).limit(1))
        if committee_id is None:
            committee_id = self.f.insert(
                Committee, 1, lambda _i, _id: {"name": committee_models.DEFAULT_COMMITTEE}
            )[0]
        sub_ids = list(
            self.s.scalars(sa.select(SubCommittee.id).where(SubCommittee.committee_id == committee_id))
        )
        if not sub_ids:
            names = committee_models.DEFAULT_SUBCOMMITTEES
            sub_ids = self.f.insert(
                SubCommittee,
                len(names),
                lambda i, _id: {"committee_id": committee_id, "name": names[i], "position": i},
            )
        origins = committee_models.ORIGINS
        statuses = committee_models.TASK_STATUSES
        weights = [6 if s == "active" else 1 for s in statuses]

        road = self.s.scalar(sa.select(Department.id).where(Department.code == "ROAD"))

        def task(i: int, ident: int) -> dict:
            created = self.when()
            # The first task is the road department's and under way (it reports every quarter).
            first = i == 0 and road is not None
            return _only(
                CommitteeTask,
                {
                    "committee_id": committee_id,
                    "code": f"S-{ident:05d}",
                    "title": f"정책과제 {ident}: " + rng.choice(CARD_TITLES),
                    "subcommittee_id": rng.choice(sub_ids),
                    "origin": rng.choice(origins),
                    "department_id": road if first else rng.choice(self.dept_ids) if self.dept_ids else None,
                    "start_year": created.year,
                    "status": "active" if first else rng.choices(statuses, weights)[0],
                    "progress": rng.randrange(0, 101),
                    "created_at": created,
                    "updated_at": created,
                },
            )

        self.f.insert(CommitteeTask, self.plan.committee_tasks, task)

    def run(self) -> SeedResult:
        self.core()
        self.s.flush()
        self.visits()
        self.meetings()
        self.cards()
        self.committee()
        from civic_app.scale.seed_more import seed_more

        seed_more(self)  # every other table a page reads: reviews, reports, holidays, chats …
        self.outbox()
        self.f.fix_sequences()
        self.result.counts = dict(self.f.counts)
        return self.result


def seed_scale(
    session: Session, plan: ScalePlan, *, now: dt.datetime, tick: Callable[[int], None]
) -> SeedResult:
    """Write the data set; flushes, the caller commits (the CLI commits once at the end)."""
    if session.scalar(sa.select(sa.func.count(Dong.id))):
        raise ValueError("seed-scale needs a database without dongs")
    return Seeder(session, plan, now, tick).run()
