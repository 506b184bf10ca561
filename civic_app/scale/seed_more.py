# ruff: noqa: N806 - model classes looked up at run time keep their class names
"""The rest of the Seoul-scale data set: every table a page reads gets realistic rows.

Card reviews, events, milestones, photos, comments and contacts; budget envelopes; holidays and
blackout ranges; visit departments, themed tours and their sites; 통통데이 follow-ups; the
committee's members, meetings, attendance, quarters, entries, published report versions,
evaluations, a mid-term review and task lineage; Telegram chats and subscriptions; calendar feed
tokens. Counts follow the plan (items, tasks, citizens, years), so a page whose statements or
time grow with the data shows it at 426 dongs.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import sqlalchemy as sa

from civic_app.calendar import models as calendar_models
from civic_app.cards import models as card_models
from civic_app.meetings import models as meeting_models
from civic_app.scale.seed import Seeder, _only
from civic_app.telegram import models as telegram_models
from civic_app.timeutil import SEOUL, seoul_datetime
from civic_app.visits import models as visit_models
from civic_app.workdays import models as workday_models


class MoreSeeder:
    def __init__(self, base: Seeder) -> None:
        self.b = base
        self.s = base.s
        self.f = base.f
        self.rng = base.rng
        self.now = base.now

    def day(self, at: dt.datetime) -> dt.date:
        return at.astimezone(SEOUL).date()

    # --- calendar days ------------------------------------------------------------------------
    def workdays(self) -> None:
        ClosedDate = workday_models.ClosedDate
        Blackout = workday_models.BlackoutRange
        Unavailable = visit_models.MayorUnavailable
        first, last = self.day(self.b.term_start), self.day(self.b.term_end)
        days = [first + dt.timedelta(days=k) for k in range((last - first).days)]
        if ClosedDate is not None:
            taken = set(self.s.scalars(sa.select(ClosedDate.day)))
            holidays = sorted(set(self.rng.sample(days, min(len(days), 15 * self.b.plan.years))) - taken)
            self.f.insert(ClosedDate, len(holidays), lambda i, _id: {"day": holidays[i], "reason": "공휴일"})
        if Blackout is not None:
            starts = sorted(self.rng.sample(days[:-10], min(len(days) - 10, 2 * self.b.plan.years)))
            self.f.insert(
                Blackout,
                len(starts),
                lambda i, _id: {
                    "start_day": starts[i],
                    "end_day": starts[i] + dt.timedelta(days=4),
                    "reason": "선거 기간",
                },
            )
        if Unavailable is not None:
            away = sorted(set(self.rng.sample(days, min(len(days), 10 * self.b.plan.years))))
            self.f.insert(Unavailable, len(away), lambda i, _id: {"day": away[i], "reason": "출장"})

    # --- visits -------------------------------------------------------------------------------
    def visits(self) -> None:
        Visit = visit_models.Visit
        Site = visit_models.TourSite
        links = visit_models.visit_departments
        if Visit is None:
            return
        regular = list(self.s.scalars(sa.select(Visit.id).where(Visit.kind == "regular")))
        if links is not None and self.b.dept_ids:
            pairs = sorted(
                {
                    (v, d)
                    for v in regular
                    for d in self.rng.sample(self.b.dept_ids, min(2, len(self.b.dept_ids)))
                }
            )
            self.f.insert(
                links, len(pairs), lambda i, _id: {"visit_id": pairs[i][0], "department_id": pairs[i][1]}
            )
        tours = 6 * self.b.plan.years
        rng, now = self.rng, self.now

        def tour(i: int, _id: int) -> dict:
            day = self.day(self.b.when()) if i else self.day(now + dt.timedelta(days=10))
            while day.weekday() >= 5:
                day += dt.timedelta(days=1)
            begin = seoul_datetime(day, dt.time(14, 0))
            past = begin < now
            return _only(
                Visit,
                {
                    "kind": "tour",
                    "cycle_id": None,
                    "dong_id": None,
                    "start_at": begin,
                    "end_at": begin + dt.timedelta(hours=3),
                    "status": "results_published" if past else "planned",
                    "published": True,
                    "theme_group": rng.choice(("issue", "season", "field")),
                    "theme": "하천 정비 현장 점검",
                    "agenda": ["field"],
                    "participant_groups": ["reporters"],
                    "result_summary": "현장에서 나온 의견을 부서에 전달했습니다." if past else None,
                    "created_at": begin - dt.timedelta(days=30),
                    "updated_at": begin,
                },
            )

        tour_ids = self.f.insert(Visit, tours, tour)
        if Site is not None:
            sites = [(t, k) for t in tour_ids for k in range(3)]
            self.f.insert(
                Site,
                len(sites),
                lambda i, _id: {
                    "visit_id": sites[i][0],
                    "position": sites[i][1],
                    "name": f"현장 {sites[i][1] + 1}",
                    "dong_id": rng.choice(self.b.dong_ids),
                },
            )

    # --- 통통데이 follow-ups ----------------------------------------------------------------------
    def followups(self) -> None:
        Request = meeting_models.MeetingRequest
        FollowUp = meeting_models.FollowUp
        if Request is None or FollowUp is None:
            return
        done = self.s.execute(
            sa.select(Request.id, Request.created_at).where(
                Request.status.in_(("held", "referred", "answered"))
            )
        ).all()
        picked = [row for row in done if self.rng.random() < 0.05]
        rng, _now = self.rng, self.now
        self.f.insert(
            FollowUp,
            len(picked),
            lambda i, _id: {
                "request_id": picked[i][0],
                "title": "현장 확인 후 결과 회신",
                "department_id": rng.choice(self.b.dept_ids) if self.b.dept_ids else None,
                "due_date": self.day(picked[i][1]) + dt.timedelta(days=30),
                "local_budget": rng.random() < 0.2,
                "status": "open" if rng.random() < 0.2 else "done",
                "done_at": None,
                "created_at": picked[i][1],
            },
        )

    # --- cards --------------------------------------------------------------------------------
    def cards(self) -> None:
        Item = card_models.CardItem
        if Item is None:
            return
        Review, Event = card_models.CardReview, card_models.CardEvent
        Milestone, Photo = card_models.CardMilestone, card_models.CardPhoto
        Comment, Contact = card_models.CardComment, card_models.CardContact
        Envelope = card_models.BudgetEnvelope
        parties = card_models.PARTIES
        recommendations = card_models.RECOMMENDATIONS
        items = self.s.execute(sa.select(Item.id, Item.status, Item.created_at)).all()
        rng, staff = self.rng, self.b.staff_ids or [None]
        if Review is not None:
            reviews = []
            for ident, status, created in items:
                if status == "received":
                    continue
                count = rng.randint(1, 2) if status == "under_review" else len(parties)
                reviews += [(ident, party, created) for party in rng.sample(parties, count)]
            self.f.insert(
                Review,
                len(reviews),
                lambda i, _id: {
                    "item_id": reviews[i][0],
                    "party": reviews[i][1],
                    "reviewer_id": rng.choice(staff),
                    **{
                        c: rng.randint(1, 5)
                        for c in ("feasibility", "legality", "urgency", "safety", "beneficiaries")
                    },
                    "cost_estimate": rng.randrange(1, 300) * 1_000_000,
                    "recommendation": rng.choice(recommendations),
                    "comment": "검토 의견입니다.",
                    "created_at": reviews[i][2] + dt.timedelta(days=7),
                    "updated_at": reviews[i][2] + dt.timedelta(days=7),
                },
            )
        decided = [(i, s, c) for i, s, c in items if s not in ("received", "under_review")]
        if Event is not None:
            self.f.insert(
                Event,
                len(decided),
                lambda i, _id: {
                    "item_id": decided[i][0],
                    "kind": "status",
                    "from_status": "under_review",
                    "to_status": decided[i][1],
                    "reason": "검토 결과에 따라 결정했습니다.",
                    "public": True,
                    "actor_id": rng.choice(staff),
                    "at": decided[i][2] + dt.timedelta(days=30),
                },
            )
        building = [(i, c) for i, s, c in items if s in ("in_progress", "done")]
        milestone_ids: list[int] = []
        if Milestone is not None:
            kinds = card_models.MILESTONE_KINDS
            milestone_ids = self.f.insert(
                Milestone,
                len(building),
                lambda i, _id: {
                    "item_id": building[i][0],
                    "kind": rng.choice(kinds),
                    "day": self.day(building[i][1]) + dt.timedelta(days=60),
                    "note": "공사 진행",
                    "actor_id": rng.choice(staff),
                    "created_at": building[i][1] + dt.timedelta(days=60),
                },
            )
        if Photo is not None and milestone_ids:
            shots = [(m, building[k][0]) for k, m in enumerate(milestone_ids) if k % 20 == 0]
            self.f.insert(
                Photo,
                len(shots),
                lambda i, ident: {
                    "item_id": shots[i][1],
                    "milestone_id": shots[i][0],
                    "stored_name": f"scale-{ident}.jpg",
                    "content_type": "image/jpeg",
                    "caption": "공사 사진",
                    "uploaded_by_id": rng.choice(staff),
                    "created_at": self.now,
                },
            )
        sample = [row for k, row in enumerate(items) if k % 10 == 0]
        if Comment is not None:
            self.f.insert(
                Comment,
                len(sample),
                lambda i, _id: {
                    "item_id": sample[i][0],
                    "author_id": rng.choice(staff),
                    "body": "담당 부서와 협의 중입니다.",
                    "created_at": sample[i][2] + dt.timedelta(days=3),
                },
            )
        if Contact is not None:
            self.f.insert(
                Contact,
                len(sample),
                lambda i, ident: {
                    "item_id": sample[i][0],
                    "contact_email": f"contact{ident}@scale.example.kr",
                    "consent_at": sample[i][2],
                    "created_at": sample[i][2],
                },
            )
        if Envelope is not None:
            have = set(self.s.scalars(sa.select(Envelope.fiscal_year)))
            years = [y for y in range(self.b.term_start.year, self.b.term_end.year + 2) if y not in have]
            self.f.insert(
                Envelope,
                len(years),
                lambda i, _id: {
                    "fiscal_year": years[i],
                    "amount": 30_000_000_000,
                    "updated_by_id": staff[0],
                    "updated_at": self.now,
                },
            )

    def run(self) -> None:
        self.workdays()
        self.visits()
        self.followups()
        self.cards()
        from civic_app.scale.seed_committee import CommitteeSeeder

        CommitteeSeeder(self).run()
        self.people()
        from civic_app.scale.seed_citizens import CitizenSeeder

        CitizenSeeder(self).run()

    # --- people: Telegram chats, calendar feeds -------------------------------------------------
    def people(self) -> None:
        Chat = telegram_models.TelegramChat
        Sub = telegram_models.TelegramSubscription
        Kind = telegram_models.TelegramKindSetting
        Token = calendar_models.FeedToken
        rng, now = self.rng, self.now
        if Chat is not None:
            users = self.b.citizen_ids[
                :: max(1, len(self.b.citizen_ids) // max(1, len(self.b.citizen_ids) // 100))
            ]
            chat_ids = self.f.insert(
                Chat,
                len(users),
                lambda i, ident: {
                    "chat_id": str(900_000_000 + ident),
                    "user_id": users[i],
                    "locale": "ko",
                    "linked_at": now,
                    "created_at": now,
                    "updated_at": now,
                },
            )
            if Sub is not None:
                pairs = sorted(
                    {
                        (c, d)
                        for c in chat_ids
                        for d in rng.sample(self.b.dong_ids, min(2, len(self.b.dong_ids)))
                    }
                )
                self.f.insert(
                    Sub,
                    len(pairs),
                    lambda i, _id: {"chat_pk": pairs[i][0], "dong_id": pairs[i][1], "created_at": now},
                )
        if Kind is not None and not self.s.scalar(sa.select(sa.func.count()).select_from(Kind)):
            kinds = (
                "visit.published",
                "visit.results",
                "tongtong.session",
                "card.decided",
                "committee.report",
            )
            self.f.insert(
                Kind,
                len(kinds),
                lambda i, _id: {"kind": kinds[i], "requires_approval": i % 2 == 0, "updated_at": now},
            )
        if Token is not None and self.b.staff_ids:
            staff = self.b.staff_ids
            self.f.insert(
                Token,
                len(staff),
                lambda i, ident: {
                    "user_id": staff[i],
                    "token_hash": hashlib.sha256(f"scale-feed-{ident}".encode()).hexdigest(),
                    "created_at": now,
                },
            )


def seed_more(base: Seeder) -> None:
    MoreSeeder(base).run()
