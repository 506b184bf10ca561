"""Allocated numbers and derived values under concurrency (issue 13), service level.

The PostgreSQL tests run real threads, each with its own connection, released together by a
barrier, and check the invariant after every round: numbers never collide, and every stored
derived value equals the value computed from the stored inputs. The SQLite tests check the
allocator's single-process rules (no gap after a rollback, start above existing codes).
"""

from __future__ import annotations

import datetime as dt
import random
import threading
import traceback
from collections.abc import Callable

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from civic_app.accounts.models import User
from civic_app.cards import priority, reviews, settings, transitions
from civic_app.cards.models import CRITERIA, CardCategory, CardItem, CardReview, CardSettings
from civic_app.committee.committees import get_committee
from civic_app.committee.models import CommitteeTask, QuarterlyEntry, ReportingQuarter
from civic_app.committee.reports import open_quarter, publish_quarter, submit_entry
from civic_app.errors import DomainError
from civic_app.extensions import db
from civic_app.integrity import allocator
from civic_app.integrity.models import AllocationCounter
from civic_app.meetings import schedule
from civic_app.meetings.models import MeetingRequest, TongtongSession
from civic_app.meetings.review import decide_mayor
from civic_app.meetings.submission import submit_request
from civic_app.notify.models import OutboxMessage
from civic_app.notify.services import enqueue_email
from tests.factories import NOW, make_department, make_user
from tests.factories_cards import Cast, make_item, review
from tests.factories_committee import make_task
from tests.factories_meetings import make_request, make_sessions, make_staff

Job = Callable[[Session, Callable[[], None]], object]


def race(app, jobs: list[Job]) -> list[object]:
    """Run each job in its own thread and connection; ``wait()`` releases them together.

    Returns each job's result after its commit, or the DomainError it raised (rolled back).
    Any other exception fails the test.
    """
    barrier = threading.Barrier(len(jobs), timeout=60)
    engine = create_engine(db.engine.url, pool_size=len(jobs), max_overflow=0)  # one each
    results: list[object] = [None] * len(jobs)
    errors: list[BaseException] = []

    def run(i: int, job: Job) -> None:
        try:
            with app.app_context(), Session(engine) as own:
                try:
                    results[i] = job(own, barrier.wait)
                    own.commit()
                except DomainError as outcome:
                    own.rollback()
                    results[i] = outcome
        except BaseException as exc:  # noqa: BLE001 - reported below
            barrier.abort()
            errors.append(exc)
            traceback.print_exc()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    engine.dispose()
    assert not errors, errors
    return results


def stored_vs_computed_scores(session) -> list[tuple[int, float | None, float | None]]:
    """(item id, stored score, score computed from the stored reviews and weights)."""
    session.expire_all()
    weights = session.get(CardSettings, 1).weights()
    out = []
    for item in session.scalars(select(CardItem).order_by(CardItem.id)):
        reviews = session.scalars(select(CardReview).where(CardReview.item_id == item.id)).all()
        computed = (
            round(sum(priority.review_score(r, weights) for r in reviews) / len(reviews), 2)
            if reviews
            else None
        )
        out.append((item.id, item.review_score, computed))
    return out


# --- the allocator (any database) ------------------------------------------------------------


def test_reference_codes_leave_no_gap_after_a_rollback(app, session):
    citizen = make_user("citizen")
    session.commit()
    first = make_request(citizen)
    assert first.code == "TT-2026-0001"
    session.commit()
    make_request(citizen)  # takes 0002, then the transaction is rolled back
    session.rollback()
    third = make_request(session.get(User, citizen.id))
    assert third.code == "TT-2026-0002"


def test_reference_codes_continue_above_codes_written_before_the_counter(app, session):
    citizen = make_user("citizen")
    old = make_request(citizen)
    old.code = "TT-2026-0041"  # as if submitted before the counter existed
    session.flush()
    session.execute(db.delete(AllocationCounter))
    assert make_request(citizen).code == "TT-2026-0042"
    assert allocator.next_value(session, "other", "2026") == 1  # scopes are independent


# --- PostgreSQL: real concurrency ------------------------------------------------------------


@pytest.mark.postgres
def test_concurrent_submissions_get_distinct_codes(app, session):
    make_sessions()
    citizens = [make_user("citizen").id for _ in range(4)]
    session.commit()
    n = 16

    def submit(k: int) -> Job:
        def job(own: Session, wait) -> str:
            actor = own.get(User, citizens[k % len(citizens)])
            wait()
            req = submit_request(
                own,
                actor=actor,
                now=NOW,
                topic=f"동시 신청 {k}",
                category="도로·교통",
                desired_outcome="보도를 놓아 주세요.",
                dong_id=None,
                is_group=False,
                party_size=1,
                preferred_session_ids=[],
                accessibility=None,
                consent=True,
                publish_consent=True,
            )
            return req.code

        return job

    for _round in range(2):
        codes = race(app, [submit(k) for k in range(n)])
        assert all(isinstance(c, str) for c in codes), codes
        assert len(set(codes)) == n
    session.expire_all()
    stored = session.scalars(select(MeetingRequest.code).order_by(MeetingRequest.code)).all()
    assert stored == [f"TT-2026-{i:04d}" for i in range(1, 2 * n + 1)]  # distinct and gap-free


@pytest.mark.postgres
def test_three_offices_reviewing_one_item_leave_the_score_of_the_stored_reviews(app, session):
    cast = Cast()
    rng = random.Random(13)
    items = []
    for k in range(8):
        item = make_item(cast, title=f"동시 검토 {k}")
        review(cast, item, "budget", score=5)
        items.append(item.id)
    session.commit()
    parties = {"budget": cast.budget.id, "policy": cast.policy.id, "department": cast.dept_user.id}

    def review_job(item_id: int, party: str, score: int) -> Job:
        def job(own: Session, wait):
            item = own.get(CardItem, item_id)
            actor = own.get(User, parties[party])
            wait()
            return reviews.record_review(
                own,
                item,
                party=party,
                actor=actor,
                now=NOW,
                scores=dict.fromkeys(CRITERIA, score),
                recommendation="select",
            )

        return job

    for item_id in items:  # one round per item: the policy office adds, the budget office revises
        outcomes = race(
            app,
            [
                review_job(item_id, "policy", rng.randint(1, 3)),
                review_job(item_id, "budget", rng.randint(1, 4)),
                review_job(item_id, "department", rng.randint(1, 5)),
            ],
        )
        assert not [o for o in outcomes if isinstance(o, DomainError)]
        for item_id_, stored, computed in stored_vs_computed_scores(session):
            assert stored == computed, (item_id_, stored, computed)


@pytest.mark.postgres
def test_weight_change_during_reviews_leaves_every_score_right(app, session):
    cast = Cast()
    ids = []
    for k in range(3):
        item = make_item(cast, title=f"가중치 {k}")
        review(cast, item, "budget", score=2)
        ids.append(item.id)
    budget_id, policy_id, dept_id = cast.budget.id, cast.policy.id, cast.dept_user.id
    session.commit()

    def reweigh(weight: float) -> Job:
        def job(own: Session, wait):
            actor = own.get(User, budget_id)
            wait()
            return settings.update_settings(
                own,
                actor=actor,
                now=NOW,
                weights={c: (weight if c == "urgency" else 1.0) for c in CRITERIA},
                dong_flag_bonus=5.0,
                review_deadline_days=14,
            )

        return job

    def add_review(item_id: int, party: str, score: int) -> Job:
        def job(own: Session, wait):
            item = own.get(CardItem, item_id)
            actor = own.get(User, policy_id if party == "policy" else dept_id)
            wait()
            scores = dict.fromkeys(CRITERIA, 3)
            scores["urgency"] = score
            return reviews.record_review(
                own, item, party=party, actor=actor, now=NOW, scores=scores, recommendation="select"
            )

        return job

    for rnd, weight in enumerate((9.0, 0.5, 4.0)):
        jobs = [reweigh(weight)]
        for item_id in ids:
            jobs.append(add_review(item_id, "policy", 1 + (rnd + item_id) % 5))
            jobs.append(add_review(item_id, "department", 1 + (rnd * 2 + item_id) % 5))
        outcomes = race(app, jobs)
        assert not [o for o in outcomes if isinstance(o, DomainError)]
        for item_id, stored, computed in stored_vs_computed_scores(session):
            assert stored == computed, (rnd, item_id, stored, computed)


@pytest.mark.postgres
def test_concurrent_selections_get_distinct_ranks(app, session):
    cast = Cast()
    ids = []
    for k in range(8):
        item = make_item(cast, title=f"선정 {k}")
        for party in ("budget", "policy", "department"):
            review(cast, item, party)
        ids.append(item.id)
    budget_id = cast.budget.id
    session.commit()

    def select_job(item_id: int) -> Job:
        def job(own: Session, wait):
            item = own.get(CardItem, item_id)
            actor = own.get(User, budget_id)
            wait()
            return transitions.select_item(own, item, actor=actor, now=NOW, reason="선정").rank

        return job

    ranks = race(app, [select_job(i) for i in ids])
    assert sorted(ranks) == list(range(1, len(ids) + 1))
    session.expire_all()
    stored = session.scalars(select(CardItem.rank).where(CardItem.status == "selected")).all()
    assert sorted(stored) == list(range(1, len(ids) + 1))


@pytest.mark.postgres
def test_concurrent_category_additions_get_distinct_positions(app, session):
    staff = make_user("civic_staff").id
    session.commit()

    def add(name: str) -> Job:
        def job(own: Session, wait):
            actor = own.get(User, staff)
            wait()
            return settings.add_category(own, actor=actor, name=name).position

        return job

    race(app, [add(f"분류{k}") for k in range(8)])
    session.expire_all()
    positions = session.scalars(select(CardCategory.position)).all()
    assert len(positions) == len(set(positions))


@pytest.mark.postgres
def test_concurrent_moves_of_a_session_raise_its_sequence_once_each(app, session):
    make_sessions(dt.date(2026, 11, 1), dt.date(2027, 3, 31))
    staff_id = make_staff().id
    target = session.scalars(
        select(TongtongSession)
        .where(TongtongSession.start_at > NOW + dt.timedelta(days=30))
        .order_by(TongtongSession.start_at)
    ).first()
    booked = make_request(make_user("citizen"))
    decide_mayor(session, booked, actor=session.get(User, staff_id), now=NOW, slot=target.slots[0])
    session.commit()
    sid, before = target.id, target.sequence
    booking_before = booked.active_booking.sequence
    # Working Wednesdays in February and March 2027: each move is valid on its own.
    days = [dt.date(2027, 2, 17), dt.date(2027, 2, 24), dt.date(2027, 3, 10), dt.date(2027, 3, 17)]

    def move(day: dt.date) -> Job:
        def job(own: Session, wait):
            tsession = own.get(TongtongSession, sid)
            actor = own.get(User, staff_id)
            wait()
            schedule.move_session(own, tsession, day=day, reason="시장 일정", actor=actor, now=NOW)
            return day

        return job

    outcomes = race(app, [move(d) for d in days])
    moved = [o for o in outcomes if isinstance(o, dt.date)]
    assert len(moved) == len(days), outcomes
    session.expire_all()
    assert session.get(TongtongSession, sid).sequence == before + len(days)
    assert session.get(MeetingRequest, booked.id).active_booking.sequence == booking_before + len(days)


@pytest.mark.postgres
def test_department_report_racing_the_publication_is_in_it_or_refused(app, session):
    road = make_department("도로과", code="ROAD")
    secretariat = make_user("committee_secretariat").id
    road_user = make_user("department", department=road).id
    for k in range(6):
        make_task(f"A-{k}", department=road)
    record = open_quarter(
        session,
        get_committee(session),
        year=2026,
        quarter=4,
        deadline=dt.date(2026, 12, 4),
        actor=session.get(User, secretariat),
        now=NOW,
    )
    entry_ids = [e.id for e in record.entries]
    qid = record.id
    session.commit()

    def publish(own: Session, wait):
        record = own.get(ReportingQuarter, qid)
        actor = own.get(User, secretariat)
        wait()
        publish_quarter(own, record, actor=actor, now=NOW)
        return "published"

    def report(entry_id: int, pct: int) -> Job:
        def job(own: Session, wait):
            entry = own.get(QuarterlyEntry, entry_id)
            actor = own.get(User, road_user)
            wait()
            return submit_entry(
                own, entry, actor=actor, now=NOW, progress_text="공사 중", progress_pct=pct
            ).progress_pct

        return job

    outcomes = race(app, [publish, publish] + [report(e, 10 * (i + 1)) for i, e in enumerate(entry_ids)])
    assert sum(1 for o in outcomes[:2] if o == "published") == 1  # one publication
    # the other publisher re-read the quarter under the lock: asked for a correction reason
    assert sum(1 for o in outcomes[:2] if isinstance(o, DomainError)) == 1
    assert not [o for o in outcomes[2:] if isinstance(o, Exception)]  # late reports are accepted
    session.expire_all()
    published = session.get(ReportingQuarter, qid)
    assert published.status == "published"
    assert len(published.versions) == 1
    for entry in published.entries:
        task = session.get(CommitteeTask, entry.task_id)
        if entry.is_late:  # reported after the freeze: waits for a correction, progress unchanged
            assert task.progress == 0
        else:  # reported before the freeze: the published figure is the task's progress
            assert task.progress == entry.progress_pct


@pytest.mark.postgres
def test_one_notice_enqueued_at_once_by_several_requests_is_one_row(app, session):
    def job(own: Session, wait) -> str:
        wait()
        message = enqueue_email(
            own, to="owner@example.com", subject="안내", body="본문", kind="test", dedupe_key="same", now=NOW
        )
        return message.dedupe_key

    for _round in range(3):
        assert race(app, [job] * 6) == ["same"] * 6  # every request goes on as usual
        session.expire_all()
        assert session.scalar(select(func.count(OutboxMessage.id))) == 1
