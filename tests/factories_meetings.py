"""Factories of 통통데이 tests (flush, never commit)."""

from __future__ import annotations

import datetime as dt

from civic_app.dongs.models import Host
from civic_app.extensions import db
from civic_app.meetings import schedule
from civic_app.meetings.models import MeetingSlot, TongtongSession
from civic_app.meetings.submission import submit_request
from tests.factories import NOW, make_host, make_user


def make_mayor() -> Host:
    return make_host("시장", rank=1, person_name="김시장")


def make_sessions(
    start: dt.date = dt.date(2026, 11, 1), end: dt.date = dt.date(2027, 1, 31)
) -> list[TongtongSession]:
    rule = schedule.ensure_default_rule(db.session)
    schedule.generate(db.session, rule, start, end, now=NOW)
    return list(db.session.scalars(db.select(TongtongSession).order_by(TongtongSession.start_at)))


def next_session(now: dt.datetime = NOW) -> TongtongSession:
    return db.session.scalars(
        db.select(TongtongSession)
        .where(TongtongSession.start_at > now, TongtongSession.status == "scheduled")
        .order_by(TongtongSession.start_at)
    ).first()


def make_staff(**kw):
    return make_user("civic_staff", name="소통주무관", **kw)


def make_request(citizen=None, *, now: dt.datetime = NOW, **kw):
    citizen = citizen or make_user("citizen")
    data = {
        "topic": "통학로 보도 설치",
        "category": "도로·교통",
        "desired_outcome": "아이들이 안전하게 다닐 보도를 바랍니다.",
        "dong_id": None,
        "is_group": False,
        "party_size": 1,
        "preferred_session_ids": [],
        "accessibility": None,
        "consent": True,
        "publish_consent": True,
    }
    data.update(kw)
    return submit_request(db.session, actor=citizen, now=now, **data)


def make_host_slot(host: Host, start_at: dt.datetime, minutes: int = 30) -> MeetingSlot:
    return schedule.publish_host_slot(
        db.session, host, start_at=start_at, minutes=minutes, location="부시장실", now=NOW
    )
