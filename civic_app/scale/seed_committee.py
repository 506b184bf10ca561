# ruff: noqa: N806 - model classes looked up at run time keep their class names
"""The committee part of the Seoul-scale data set: members, meetings and attendance, quarterly
reports (entries of every reportable task, published versions), evaluation rounds, a mid-term
review and task lineage."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import sqlalchemy as sa

from civic_app.committee import models as committee_models
from civic_app.timeutil import SEOUL, seoul_datetime

if TYPE_CHECKING:
    from civic_app.scale.seed_more import MoreSeeder

MEMBERS = 30


class CommitteeSeeder:
    def __init__(self, more: MoreSeeder) -> None:
        self.m = more
        self.b = more.b
        self.s, self.f, self.rng, self.now = more.s, more.f, more.rng, more.now

    def run(self) -> None:
        Committee, Task = committee_models.Committee, committee_models.CommitteeTask
        if Committee is None or Task is None:
            return
        committee_id = self.s.scalar(sa.select(Committee.id).order_by(Committee.id).limit(1))
        if committee_id is None:
            return
        self.committee_id = committee_id
        self.tasks = self.s.execute(
            sa.select(
                Task.id,
                Task.code,
                Task.title,
                Task.subcommittee_id,
                Task.origin,
                Task.department_id,
                Task.status,
            ).where(Task.committee_id == committee_id)
        ).all()
        Sub = committee_models.SubCommittee
        self.fields = dict(self.s.execute(sa.select(Sub.id, Sub.name)).tuples().all())
        self.members()
        self.meetings()
        self.quarters()
        self.evaluations()
        self.midterm()

    def members(self) -> None:
        Member = committee_models.CommitteeMember
        from civic_app.accounts.models import User

        member_user = self.s.scalar(sa.select(User.id).where(User.email == "member@demo.civic.kr"))
        subs = sorted(self.fields)
        rng, start = self.rng, self.b.term_start.astimezone(SEOUL).date()

        def member(i: int, _id: int) -> dict:
            return {
                "committee_id": self.committee_id,
                "name": self.b.person(),
                "position": "chair" if i == 0 else ("vice_chair" if i == 1 else "member"),
                "membership": "ex_officio" if i < 3 else "appointed",
                "affiliation": rng.choice(("expert", "civil_society", "council", "resident", "official")),
                "subcommittee_id": subs[i % len(subs)] if subs else None,
                "term_start": start,
                "term_end": start + dt.timedelta(days=730),
                "gender": rng.choice(("female", "male")),
                "age_band": rng.choice(("30s", "40s", "50s", "60s")),
                "email": f"member{i}@scale.example.kr",
                "phone": f"010-5{i:03d}-0000",
                "user_id": member_user if i == 2 else None,
                "active": True,
            }

        self.member_ids = self.f.insert(Member, MEMBERS, member)

    def meetings(self) -> None:
        Meeting, Attendance = committee_models.CommitteeMeeting, committee_models.MeetingAttendance
        count = 4 * self.b.plan.years
        step = (self.b.term_end - self.b.term_start) / count
        starts = [
            seoul_datetime((self.b.term_start + step * k).astimezone(SEOUL).date(), dt.time(15, 0))
            for k in range(count)
        ]
        now = self.now
        ids = self.f.insert(
            Meeting,
            count,
            lambda i, _id: {
                "committee_id": self.committee_id,
                "kind": "regular",
                "title": f"제{i + 1}차 정기회의",
                "start_at": starts[i],
                "end_at": starts[i] + dt.timedelta(hours=2),
                "location": "시청 대회의실",
                "status": "held" if starts[i] < now else "scheduled",
                "sequence": 0,
                "agenda": "정책과제 추진상황 보고",
                "minutes": "회의록" if starts[i] < now else None,
                "created_at": starts[i] - dt.timedelta(days=20),
                "updated_at": starts[i],
            },
        )
        held = [m for m, s in zip(ids, starts, strict=True) if s < now]
        pairs = [(m, p) for m in held for p in self.member_ids]
        rng = self.rng
        self.f.insert(
            Attendance,
            len(pairs),
            lambda i, _id: {
                "meeting_id": pairs[i][0],
                "member_id": pairs[i][1],
                "present": rng.random() < 0.85,
            },
        )

    def quarters(self) -> None:
        Quarter, Entry = committee_models.ReportingQuarter, committee_models.QuarterlyEntry
        Version = committee_models.ReportVersion
        from civic_app.dongs.models import Department

        names = dict(self.s.execute(sa.select(Department.id, Department.name)).tuples().all())
        now_local = self.now.astimezone(SEOUL)
        first = self.b.term_start.astimezone(SEOUL)
        spans = []
        year, quarter = first.year, (first.month - 1) // 3 + 1
        while (year, quarter) <= (now_local.year, (now_local.month - 1) // 3 + 1):
            spans.append((year, quarter))
            year, quarter = (year, quarter + 1) if quarter < 4 else (year + 1, 1)
        current = spans[-1]

        def quarter_row(i: int, _id: int) -> dict:
            y, q = spans[i]
            end_month = q * 3
            deadline = dt.date(y + (end_month == 12), end_month % 12 + 1, 10)
            opened = seoul_datetime(dt.date(y, end_month - 2, 1), dt.time(9, 0))
            published = spans[i] != current
            return {
                "committee_id": self.committee_id,
                "year": y,
                "quarter": q,
                "deadline": deadline,
                "status": "published" if published else "open",
                "summary": f"{y}년 {q}분기 추진상황" if published else None,
                "opened_at": opened,
                "published_at": seoul_datetime(deadline, dt.time(18, 0)) if published else None,
            }

        quarter_ids = self.f.insert(Quarter, len(spans), quarter_row)
        reportable = [t for t in self.tasks if t.status == "active" and t.department_id is not None]
        rng = self.rng
        entries = [(qid, t, spans[k] != current) for k, qid in enumerate(quarter_ids) for t in reportable]
        staff = self.b.staff_ids or [None]

        def entry(i: int, _id: int) -> dict:
            qid, task, published = entries[i]
            done = published or rng.random() < 0.5
            pct = rng.randrange(0, 101)
            return {
                "quarter_id": qid,
                "task_id": task.id,
                "department_id": task.department_id,
                "task_code": task.code,
                "task_title": task.title,
                "field_name": self.fields.get(task.subcommittee_id, ""),
                "origin": task.origin,
                "status": ("reviewed" if published else "submitted") if done else "pending",
                "progress_text": "계획대로 추진 중" if done else None,
                "progress_pct": pct if done else None,
                "previous_pct": max(0, pct - 10),
                "issues": None,
                "next_steps": "다음 분기 계속 추진" if done else None,
                "submitted_at": self.now - dt.timedelta(days=5) if done else None,
                "submitted_by_id": staff[0] if done else None,
                "reviewed_at": self.now if published else None,
            }

        entry_ids = self.f.insert(Entry, len(entries), entry)
        if Version is None:
            return
        rows_by_quarter: dict[int, list[dict]] = {}
        for ident, (qid, task, published) in zip(entry_ids, entries, strict=True):
            if published:
                rows_by_quarter.setdefault(qid, []).append(
                    {
                        "entry_id": ident,
                        "task_id": task.id,
                        "task_code": task.code,
                        "task_title": task.title,
                        "field_name": self.fields.get(task.subcommittee_id, ""),
                        "origin": task.origin,
                        "department": names.get(task.department_id, ""),
                        "status": "submitted",
                        "progress_text": "계획대로 추진 중",
                        "progress_pct": 50,
                        "previous_pct": 40,
                        "issues": None,
                        "next_steps": "다음 분기 계속 추진",
                        "late": False,
                    }
                )
        published_ids = [q for k, q in enumerate(quarter_ids) if spans[k] != current]
        self.f.insert(
            Version,
            len(published_ids),
            lambda i, _id: {
                "quarter_id": published_ids[i],
                "number": 1,
                "published_at": self.now,
                "published_by_id": staff[0],
                "summary": "분기 보고",
                "note": None,
                "rows": rows_by_quarter.get(published_ids[i], []),
            },
        )

    def evaluations(self) -> None:
        Round, Evaluation = committee_models.EvaluationRound, committee_models.Evaluation
        first, last = self.b.term_start.year, self.now.year
        halves = [(y, h) for y in range(first, last + 1) for h in (1, 2)]
        round_ids = self.f.insert(
            Round,
            len(halves),
            lambda i, _id: {
                "committee_id": self.committee_id,
                "year": halves[i][0],
                "half": halves[i][1],
                "opened_at": seoul_datetime(dt.date(halves[i][0], 6 * halves[i][1] - 5, 1), dt.time(9, 0)),
                "closed_at": None if i == len(halves) - 1 else self.now,
            },
        )
        tasks = [t.id for t in self.tasks if t.status == "active"][:40]
        members = self.member_ids[:10]
        triples = [(r, t, m) for r in round_ids for t in tasks for m in members]
        rng = self.rng
        self.f.insert(
            Evaluation,
            len(triples),
            lambda i, _id: {
                "round_id": triples[i][0],
                "task_id": triples[i][1],
                "member_id": triples[i][2],
                "score": rng.randint(1, 5),
                "comment": None,
                "updated_at": self.now,
            },
        )

    def midterm(self) -> None:
        Review, Outcome = committee_models.MidtermReview, committee_models.MidtermOutcome
        Lineage = committee_models.TaskLineage
        review_id = self.f.insert(
            Review,
            1,
            lambda _i, _id: {
                "committee_id": self.committee_id,
                "title": "중간 점검",
                "created_at": self.now - dt.timedelta(days=200),
                "applied_at": self.now - dt.timedelta(days=180),
            },
        )[0]
        sample = self.tasks[:: max(1, len(self.tasks) // 50)]
        self.f.insert(
            Outcome,
            len(sample),
            lambda i, _id: {
                "review_id": review_id,
                "task_id": sample[i].id,
                "task_code": sample[i].code,
                "task_title": sample[i].title,
                "field_name": self.fields.get(sample[i].subcommittee_id, ""),
                "previous_status": sample[i].status,
                "outcome": "maintained",
                "successor_codes": None,
                "note": None,
            },
        )
        replaced = [t.id for t in self.tasks if t.status == "replaced"]
        others = [t.id for t in self.tasks if t.status == "active"]
        pairs = sorted({(p, self.rng.choice(others)) for p in replaced} if others else set())
        self.f.insert(
            Lineage,
            len(pairs),
            lambda i, _id: {"predecessor_id": pairs[i][0], "successor_id": pairs[i][1], "kind": "replaced"},
        )
