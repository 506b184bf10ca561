"""Committee rules without HTTP: quarters, evaluations, mid-term reviews, meetings."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from civic_app.committee import queries
from civic_app.committee.committees import ensure_reference, get_committee
from civic_app.committee.evaluations import close_evaluation_round, open_evaluation_round, record_evaluation
from civic_app.committee.meetings import add_advisory_item, record_minutes, save_meeting, set_meeting_status
from civic_app.committee.models import TaskLineage
from civic_app.committee.reports import due_reminders, open_quarter, publish_quarter, submit_entry
from civic_app.committee.reviews import apply_review, start_review
from civic_app.errors import Conflict, InvalidTransition, NotAllowed, ValidationFailed
from civic_app.notify.models import OutboxMessage
from tests.factories import NOW, make_department, make_user
from tests.factories_committee import make_member, make_task

DEADLINE = dt.date(2026, 12, 4)


@pytest.fixture
def setup(session):
    road = make_department("도로과", code="ROAD")
    welfare = make_department("복지정책과", code="WELFARE")
    return {
        "road": road,
        "welfare": welfare,
        "secretariat": make_user("committee_secretariat", email="sec@example.com"),
        "road_user": make_user("department", email="road@example.com", department=road),
        "welfare_user": make_user("department", email="welfare@example.com", department=welfare),
        "committee": get_committee(session),
    }


def open_q(session, s, quarter=4, now=NOW, year=2026):
    return open_quarter(
        session,
        s["committee"],
        year=year,
        quarter=quarter,
        deadline=DEADLINE,
        actor=s["secretariat"],
        now=now,
    )


def test_opening_a_quarter_lists_each_departments_tasks_and_mails_them(session, setup):
    make_task("A-1", department=setup["road"])
    make_task("A-2", department=setup["welfare"], origin="advisory")
    make_task("A-3", department=setup["road"], status="concluded")
    make_task("A-4")  # no department yet: nobody to report
    quarter = open_q(session, setup)
    assert sorted(e.task_code for e in quarter.entries) == ["A-1", "A-2"]
    mails = session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "email")).all()
    assert sorted(m.recipient for m in mails) == ["road@example.com", "welfare@example.com"]
    road_mail = next(m for m in mails if m.recipient == "road@example.com")
    assert "A-1" in road_mail.payload["body"]
    assert "A-2" not in road_mail.payload["body"]
    assert "2026-12-04" in road_mail.payload["body"]
    # An absolute link (PUBLIC_BASE_URL): e-mails are read outside the site.
    assert "보고 화면: http://civic.test/committee/department" in road_mail.payload["body"]
    road_entries = queries.open_entries_for_department(session, setup["road"].id)
    assert [e.task_code for e in road_entries] == ["A-1"]


def test_only_the_responsible_department_reports(session, setup):
    make_task("A-1", department=setup["road"])
    entry = open_q(session, setup).entries[0]
    with pytest.raises(NotAllowed):
        submit_entry(session, entry, actor=setup["welfare_user"], now=NOW, progress_text="x", progress_pct=10)
    with pytest.raises(ValidationFailed) as info:
        submit_entry(session, entry, actor=setup["road_user"], now=NOW, progress_text=" ", progress_pct=120)
    assert {f for f, _m in info.value.errors} == {"progress_text", "progress_pct"}
    submit_entry(
        session, entry, actor=setup["road_user"], now=NOW, progress_text="설계 완료", progress_pct=30
    )
    assert entry.status == "submitted"


def test_publish_freezes_records_change_from_last_quarter_and_posts_to_telegram(session, setup):
    task = make_task("A-1", department=setup["road"], title="보행 환경 개선")
    make_task("A-2", department=setup["road"])
    q3 = open_q(session, setup, quarter=3, now=NOW - dt.timedelta(days=60))
    for entry in q3.entries:
        submit_entry(session, entry, actor=setup["road_user"], now=NOW, progress_text="착수", progress_pct=20)
    publish_quarter(session, q3, actor=setup["secretariat"], now=NOW)
    q4 = open_q(session, setup, quarter=4)
    a1 = next(e for e in q4.entries if e.task_code == "A-1")
    submit_entry(session, a1, actor=setup["road_user"], now=NOW, progress_text="공사 중", progress_pct=55)
    publish_quarter(session, q4, actor=setup["secretariat"], now=NOW, summary="4분기 보고")
    assert (a1.previous_pct, a1.progress_pct, a1.change) == (20, 55, 35)
    a2 = next(e for e in q4.entries if e.task_code == "A-2")
    assert a2.status == "pending"  # published as 미제출
    assert task.progress == 55
    with pytest.raises(InvalidTransition):  # publishing again needs something to amend
        publish_quarter(session, q4, actor=setup["secretariat"], now=NOW, note="재공개")
    posts = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.kind == "committee_quarterly_report")
        .order_by(OutboxMessage.id)
    ).all()
    assert len(posts) == 2
    payload = posts[1].payload
    assert payload["url"] == f"/committee/reports/{q4.id}"
    assert payload["summary"] == "4분기 보고"
    assert "A-1 보행 환경 개선: 20% → 55%" in payload["lines"]
    assert posts[1].subject_ref == f"committee_report:{q4.id}"
    assert "road@example.com" not in str(payload)


def test_one_open_quarter_at_a_time_and_no_duplicates(session, setup):
    make_task("A-1", department=setup["road"])
    open_q(session, setup, quarter=4)
    with pytest.raises(Conflict):
        open_q(session, setup, quarter=4)
    with pytest.raises(Conflict):
        open_q(session, setup, quarter=1, year=2027)
    with pytest.raises(NotAllowed):
        open_quarter(
            session,
            setup["committee"],
            year=2027,
            quarter=2,
            deadline=DEADLINE,
            actor=setup["road_user"],
            now=NOW,
        )


def test_reminders_go_to_departments_with_pending_entries_once_a_day(session, setup):
    make_task("A-1", department=setup["road"])
    make_task("A-2", department=setup["welfare"])
    quarter = open_q(session, setup)
    entry = next(e for e in quarter.entries if e.task_code == "A-2")
    submit_entry(session, entry, actor=setup["welfare_user"], now=NOW, progress_text="완료", progress_pct=100)
    near_deadline = dt.datetime(2026, 12, 2, 0, 0, tzinfo=dt.UTC)
    assert due_reminders(session, now=near_deadline) == 1
    due_reminders(session, now=near_deadline)  # same day: deduplicated
    reminders = session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "committee_quarter_reminder")
    ).all()
    assert [m.recipient for m in reminders] == ["road@example.com"]
    assert due_reminders(session, now=NOW) == 0  # two weeks before: too early


def test_members_score_only_their_subcommittees_tasks(session, setup):
    user = make_user("committee_member")
    make_member(user=user, field="행정/재정")
    own = make_task("A-1")
    other = make_task("W-1", field="복지/여성/보건의료")
    record = open_evaluation_round(
        session, setup["committee"], year=2026, half=2, actor=setup["secretariat"], now=NOW
    )
    record_evaluation(session, record, own, actor=user, score=4, comment="좋음", now=NOW)
    record_evaluation(session, record, own, actor=user, score=5, comment="", now=NOW)  # replaces
    with pytest.raises(NotAllowed):
        record_evaluation(session, record, other, actor=user, score=3, comment="", now=NOW)
    with pytest.raises(ValidationFailed):
        record_evaluation(session, record, own, actor=user, score=6, comment="", now=NOW)
    with pytest.raises(NotAllowed):
        record_evaluation(
            session, record, own, actor=make_user("committee_member"), score=3, comment="", now=NOW
        )
    second = make_user("committee_member")
    make_member("이위원", user=second, field="행정/재정")
    record_evaluation(session, record, own, actor=second, score=2, comment="더딤", now=NOW)
    results = queries.evaluation_results(session, record)
    assert results["tasks"] == [
        {
            "code": "A-1",
            "title": own.title,
            "field": "행정/재정",
            "average": 3.5,
            "count": 2,
            "comments": ["더딤"],
        }
    ]
    assert results["fields"] == [{"field": "행정/재정", "average": 3.5, "count": 2}]
    close_evaluation_round(session, record, actor=setup["secretariat"], now=NOW)
    with pytest.raises(InvalidTransition):
        record_evaluation(session, record, own, actor=user, score=3, comment="", now=NOW)


def test_midterm_review_applies_outcomes_and_keeps_a_snapshot(session, setup):
    kept = make_task("B-1")
    ended = make_task("B-2")
    old_a = make_task("B-3")
    old_b = make_task("B-4")
    successor = make_task("N-1", origin="new")
    review = start_review(session, setup["committee"], title="중간점검", actor=setup["secretariat"], now=NOW)
    assert [o.task_code for o in review.outcomes] == ["B-1", "B-2", "B-3", "B-4"]
    ids = {o.task_code: o.id for o in review.outcomes}
    with pytest.raises(ValidationFailed):
        apply_review(session, review, {ids["B-3"]: ("replaced", "")}, actor=setup["secretariat"], now=NOW)
    decisions = {
        ids["B-1"]: ("maintained", ""),
        ids["B-2"]: ("concluded", ""),
        ids["B-3"]: ("replaced", "N-1"),
        ids["B-4"]: ("replaced", "N-1"),
    }
    apply_review(session, review, decisions, actor=setup["secretariat"], now=NOW)
    assert (kept.status, ended.status, old_a.status, old_b.status) == (
        "active",
        "concluded",
        "replaced",
        "replaced",
    )
    links = session.scalars(select(TaskLineage).where(TaskLineage.successor_id == successor.id)).all()
    assert sorted((link.predecessor_id, link.kind) for link in links) == sorted(
        [(old_a.id, "merged"), (old_b.id, "merged")]
    )
    ended.title = "나중에 바뀐 이름"
    assert next(o for o in review.outcomes if o.task_code == "B-2").task_title == "과제 B-2"
    with pytest.raises(InvalidTransition):
        apply_review(session, review, {}, actor=setup["secretariat"], now=NOW)


def test_meeting_changes_raise_the_sequence_and_advisory_items_become_tasks(session, setup):
    start = dt.datetime(2027, 4, 15, 5, 0, tzinfo=dt.UTC)
    meeting = save_meeting(
        session,
        setup["committee"],
        None,
        kind="regular",
        title="정기회의",
        start_at=start,
        end_at=start + dt.timedelta(hours=2),
        location="대회의실",
        agenda="안건",
        actor=setup["secretariat"],
        now=NOW,
    )
    assert (meeting.sequence, meeting.status) == (0, "scheduled")
    save_meeting(
        session,
        setup["committee"],
        meeting,
        kind="regular",
        title="정기회의",
        start_at=start + dt.timedelta(hours=1),
        end_at=start + dt.timedelta(hours=3),
        location="",
        agenda="",
        actor=setup["secretariat"],
        now=NOW,
    )
    set_meeting_status(session, meeting, "held", actor=setup["secretariat"], now=NOW)
    assert (meeting.sequence, meeting.status) == (2, "held")
    with pytest.raises(InvalidTransition):
        set_meeting_status(session, meeting, "cancelled", actor=setup["secretariat"], now=NOW)
    member = make_member()
    absent = make_member("결석위원")
    record_minutes(
        session,
        meeting,
        minutes="회의록",
        present_member_ids={member.id},
        actor=setup["secretariat"],
        now=NOW,
    )
    assert {(a.member_id, a.present) for a in meeting.attendance} == {(member.id, True), (absent.id, False)}
    sub = setup["committee"].subcommittees[1]
    task = add_advisory_item(
        session,
        meeting,
        code="M-1",
        title="청년 일자리 자문",
        subcommittee_id=sub.id,
        department_id=setup["road"].id,
        actor=setup["secretariat"],
        now=NOW,
    )
    assert (task.origin, task.status, task.meeting_id) == ("advisory", "active", meeting.id)
    quarter = open_q(session, setup)
    assert [e.origin for e in quarter.entries] == ["advisory"]  # reported the same way
    with pytest.raises(ValidationFailed):
        add_advisory_item(
            session,
            meeting,
            code="M-1",
            title="중복",
            subcommittee_id=sub.id,
            department_id=None,
            actor=setup["secretariat"],
            now=NOW,
        )


def test_reference_loader_is_idempotent(session):
    first = ensure_reference(session)
    second = ensure_reference(session)
    assert first.id == second.id
    assert [s.name for s in second.subcommittees] == [
        "행정/재정",
        "지역경제/일자리",
        "복지/여성/보건의료",
        "도시계획/환경",
        "문화/교육",
    ]
