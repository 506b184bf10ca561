"""Published quarterly reports are versions: late reports stay possible and go out as amendments."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import insert, select, update

from civic_app.committee import queries
from civic_app.committee.committees import get_committee
from civic_app.committee.models import ReportingQuarter, ReportVersion
from civic_app.committee.reports import open_quarter, publish_quarter, report_diff, submit_entry
from civic_app.errors import Conflict, InvalidTransition, ValidationFailed
from civic_app.notify.models import OutboxMessage
from tests.factories import NOW, make_department, make_user
from tests.factories_committee import make_task

DEADLINE = dt.date(2026, 12, 4)  # NOW is 2026-11-20


@pytest.fixture
def setup(session):
    road = make_department("도로과", code="ROAD")
    return {
        "road": road,
        "sec": make_user("committee_secretariat"),
        "road_user": make_user("department", department=road),
        "committee": get_committee(session),
    }


def _open(session, s, *, year=2026, quarter=4, now=NOW, deadline=DEADLINE):
    return open_quarter(
        session, s["committee"], year=year, quarter=quarter, deadline=deadline, actor=s["sec"], now=now
    )


def _report(session, s, entry, pct, now, text="보고"):
    return submit_entry(session, entry, actor=s["road_user"], now=now, progress_text=text, progress_pct=pct)


def test_late_reports_after_publishing_are_marked_and_published_as_an_amendment(session, setup):
    a1 = make_task("A-1", department=setup["road"], title="보행 환경")
    a2 = make_task("A-2", department=setup["road"], title="가로등")
    quarter = _open(session, setup)
    e1, e2 = quarter.entries
    _report(session, setup, e1, 40, NOW, "설계")
    assert e1.is_late is False
    v1 = publish_quarter(session, quarter, actor=setup["sec"], now=NOW + dt.timedelta(days=1))
    assert v1.number == 1
    assert [(r["task_code"], r["status"], r["progress_pct"]) for r in v1.rows] == [
        ("A-1", "submitted", 40),
        ("A-2", "pending", None),
    ]

    # The department of A-2 reports after publication: allowed, and marked late.
    _report(session, setup, e2, 10, NOW + dt.timedelta(days=2), "착수")
    assert e2.is_late is True
    assert e2 in queries.open_entries_for_department(session, setup["road"].id)
    assert quarter.versions[-1].rows[1]["status"] == "pending"  # the public version is unchanged

    with pytest.raises(ValidationFailed) as error:
        publish_quarter(session, quarter, actor=setup["sec"], now=NOW + dt.timedelta(days=3))
    assert error.value.errors == [("note", "정정 사유를 적어 주세요.")]
    v2 = publish_quarter(
        session, quarter, actor=setup["sec"], now=NOW + dt.timedelta(days=3), note="A-2 지연 보고 반영"
    )
    assert (v2.number, v2.note, v2.is_amendment) == (2, "A-2 지연 보고 반영", True)
    assert quarter.published_at == NOW + dt.timedelta(days=1)  # the first publication stays
    rows = {r.task_code: r for r in v2.report_rows()}
    assert (rows["A-2"].status, rows["A-2"].progress_pct, rows["A-2"].late) == ("submitted", 10, True)
    assert v1.rows[1]["status"] == "pending"  # version 1 stays as it was published
    diff = report_diff(v1.report_rows(), v2.report_rows())
    assert [d["code"] for d in diff] == ["A-2"]
    assert ("progress_pct", None, 10) in diff[0]["changes"]
    assert ("status", "pending", "submitted") in diff[0]["changes"]
    assert a1.progress == 40
    posts = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.kind == "committee_quarterly_report")
        .order_by(OutboxMessage.id)
    ).all()
    assert [p.dedupe_key for p in posts] == [
        f"committee-report-{quarter.id}-published",
        f"committee-report-{quarter.id}-v2",
    ]
    assert posts[1].payload["title"].startswith("[정정]")
    assert posts[1].payload["summary"] == "정정 사유: A-2 지연 보고 반영"
    assert posts[1].payload["lines"] == ["A-2 가로등: 10%"]
    history = queries.task_history(session, a2)
    assert [(q.id, r.progress_pct, r.late) for q, r in history] == [(quarter.id, 10, True)]


def test_a_report_after_the_deadline_is_late_even_before_publishing(session, setup):
    make_task("A-1", department=setup["road"])
    quarter = _open(session, setup, deadline=dt.date(2026, 11, 21))
    entry = quarter.entries[0]
    _report(session, setup, entry, 30, dt.datetime(2026, 11, 21, 14, 59, tzinfo=dt.UTC))  # 23:59 KST
    assert entry.is_late is False
    _report(session, setup, entry, 30, dt.datetime(2026, 11, 21, 15, 0, tzinfo=dt.UTC))  # 00:00 KST
    assert entry.is_late is True


def test_amending_an_older_quarter_keeps_the_newer_progress_and_compares_with_earlier_quarters(
    session, setup
):
    task = make_task("A-1", department=setup["road"])
    q3 = _open(session, setup, quarter=3, now=NOW - dt.timedelta(days=60), deadline=DEADLINE)
    _report(session, setup, q3.entries[0], 20, NOW - dt.timedelta(days=50))
    publish_quarter(session, q3, actor=setup["sec"], now=NOW - dt.timedelta(days=40))
    q4 = _open(session, setup)
    _report(session, setup, q4.entries[0], 60, NOW)
    publish_quarter(session, q4, actor=setup["sec"], now=NOW)
    assert q4.entries[0].previous_pct == 20
    assert task.progress == 60
    # A correction of the 3rd quarter: 25 instead of 20.
    _report(session, setup, q3.entries[0], 25, NOW + dt.timedelta(days=1))
    v2 = publish_quarter(session, q3, actor=setup["sec"], now=NOW + dt.timedelta(days=1), note="오기 정정")
    assert v2.rows[0]["previous_pct"] is None  # the 4th quarter is not "before" the 3rd
    assert task.progress == 60  # not set back by the older quarter
    # The next version of the 4th quarter compares with the amended 3rd quarter.
    _report(session, setup, q4.entries[0], 65, NOW + dt.timedelta(days=2))
    v = publish_quarter(session, q4, actor=setup["sec"], now=NOW + dt.timedelta(days=2), note="보완")
    assert (v.rows[0]["previous_pct"], v.rows[0]["progress_pct"]) == (25, 65)
    assert task.progress == 65


def test_amending_without_changes_is_refused(session, setup):
    make_task("A-1", department=setup["road"])
    quarter = _open(session, setup)
    publish_quarter(session, quarter, actor=setup["sec"], now=NOW)
    with pytest.raises(InvalidTransition):
        publish_quarter(session, quarter, actor=setup["sec"], now=NOW, note="정정")
    assert len(quarter.versions) == 1


def test_a_publisher_who_read_the_quarter_before_another_published_is_refused_not_crashed(session, setup):
    """publish_quarter re-reads the quarter under its row lock: the second of two simultaneous
    publishers sees the first one's version and is asked for a correction reason instead of
    writing a second version 1 (the unique constraint stays the backstop)."""
    make_task("A-1", department=setup["road"])
    quarter = _open(session, setup)
    assert quarter.versions == []  # this request read the quarter before the other one published
    session.execute(insert(ReportVersion).values(quarter_id=quarter.id, number=1, published_at=NOW, rows=[]))
    session.execute(
        update(ReportingQuarter).where(ReportingQuarter.id == quarter.id).values(status="published")
    )
    with pytest.raises((ValidationFailed, Conflict)):
        publish_quarter(session, quarter, actor=setup["sec"], now=NOW)
    session.rollback()


def test_a_report_that_waited_for_the_publication_is_late_whatever_its_clock_said(session, setup):
    """Found by the PostgreSQL race test: a department's report read the clock, waited for the
    publication's lock, and was stored with a time equal to (or before) the publication's, so
    it counted as published while the task's progress had been frozen without it."""
    task = make_task("A-1", department=setup["road"], title="보행 환경")
    quarter = _open(session, setup)
    [entry] = quarter.entries
    publish_quarter(session, quarter, actor=setup["sec"], now=NOW)
    _report(session, setup, entry, 30, NOW)  # the clock read before the wait ties
    assert entry.is_late is True
    assert task.progress == 0  # the published figure stays until an amendment


def test_a_publication_is_never_stamped_before_a_report_it_holds(session, setup):
    make_task("A-1", department=setup["road"], title="보행 환경")
    quarter = _open(session, setup)
    [entry] = quarter.entries
    _report(session, setup, entry, 30, NOW + dt.timedelta(seconds=5))  # got the lock first
    publish_quarter(session, quarter, actor=setup["sec"], now=NOW)  # its clock read earlier
    assert entry.is_late is False  # it is in version 1
    assert quarter.versions[0].rows[0]["progress_pct"] == 30
