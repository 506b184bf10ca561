"""Secretariat pages through the test client: members, meetings, reviews, evaluations, quarters."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from civic_app.committee.committees import get_committee
from civic_app.committee.evaluations import record_evaluation
from civic_app.committee.meetings import add_advisory_item, record_minutes, save_meeting
from civic_app.committee.models import (
    CommitteeMeeting,
    CommitteeMember,
    CommitteeTask,
    EvaluationRound,
    MidtermReview,
    ReportingQuarter,
)
from civic_app.notify.models import OutboxMessage
from tests.factories import NOW, login, make_department, make_user
from tests.factories_committee import make_member, make_task, subcommittee


def secretariat(client):
    user = make_user("committee_secretariat", email="sec@example.com")
    login(client, user)
    return user


def test_secretariat_adds_a_member_linked_to_an_account(client, session):
    secretariat(client)
    account = make_user("committee_member", email="new-member@example.com")
    session.commit()
    form = {
        "name": "한위원",
        "position": "member",
        "membership": "appointed",
        "affiliation": "resident",
        "subcommittee_id": str(subcommittee("문화/교육").id),
        "term_start": "2026-01-01",
        "term_end": "2027-12-31",
        "gender": "",
        "age_band": "30s",
        "email": "",
        "phone": "",
        "account_email": "new-member@example.com",
        "active": "y",
    }
    bad = client.post("/committee/admin/members/new", data={**form, "term_end": "2025-01-01"})
    assert bad.status_code == 400
    assert "임기 종료일은 시작일 뒤여야 합니다." in bad.get_data(as_text=True)
    citizen_link = client.post(
        "/committee/admin/members/new", data={**form, "account_email": "sec@example.com"}
    )
    assert citizen_link.status_code == 400
    assert "committee_member" in citizen_link.get_data(as_text=True)
    assert session.scalar(select(CommitteeMember)) is None
    ok = client.post("/committee/admin/members/new", data=form)
    assert ok.status_code == 302
    member = session.scalar(select(CommitteeMember))
    assert (member.name, member.user_id, member.gender, member.age_band) == (
        "한위원",
        account.id,
        None,
        "30s",
    )
    page = client.get(f"/committee/admin/members/{member.id}").get_data(as_text=True)
    assert "new-member@example.com" in page


def test_meeting_schedule_change_minutes_and_advisory_item(client, session):
    secretariat(client)
    road = make_department("도로과", code="ROAD")
    present = make_member("출석위원")
    make_member("결석위원")
    form = {
        "kind": "regular",
        "title": "2027년 제1차 정기회의",
        "day": "2027-04-15",
        "start": "14:00",
        "duration": "120",
        "location": "대회의실",
        "agenda": "분기 보고",
    }
    response = client.post("/committee/admin/meetings/new", data=form)
    assert response.status_code == 302
    meeting = session.scalar(select(CommitteeMeeting))
    assert meeting.start_at == dt.datetime(2027, 4, 15, 5, 0, tzinfo=dt.UTC)
    assert meeting.end_at - meeting.start_at == dt.timedelta(hours=2)
    assert meeting.sequence == 0
    page = client.get(f"/committee/admin/meetings/{meeting.id}").get_data(as_text=True)
    assert 'value="14:00"' in page
    client.post(f"/committee/admin/meetings/{meeting.id}", data={**form, "start": "15:00"})
    client.post(f"/committee/admin/meetings/{meeting.id}/held")
    client.post(
        f"/committee/admin/meetings/{meeting.id}/minutes",
        data={"minutes": "안건 모두 의결", "present": [str(present.id)]},
    )
    session.expire_all()
    meeting = session.get(CommitteeMeeting, meeting.id)
    assert meeting.status == "held"
    assert meeting.sequence == 3
    assert meeting.minutes == "안건 모두 의결"
    assert {(a.member.name, a.present) for a in meeting.attendance} == {
        ("출석위원", True),
        ("결석위원", False),
    }
    item = {
        "code": "M-1",
        "title": "청년 주거 자문",
        "subcommittee_id": str(subcommittee("도시계획/환경").id),
        "department_id": str(road.id),
    }
    assert client.post(f"/committee/admin/meetings/{meeting.id}/items", data=item).status_code == 302
    duplicate = client.post(f"/committee/admin/meetings/{meeting.id}/items", data=item)
    assert duplicate.status_code == 400
    assert "이미 있습니다" in duplicate.get_data(as_text=True)
    task = session.scalar(select(CommitteeTask).where(CommitteeTask.code == "M-1"))
    assert (task.origin, task.meeting_id, task.department_id) == ("advisory", meeting.id, road.id)
    public = client.get("/committee/tasks/M-1").get_data(as_text=True)
    assert "2027년 제1차 정기회의" in public


def test_midterm_review_through_the_page(client, session):
    secretariat(client)
    make_task("B-1")
    make_task("B-2")
    make_task("N-1", origin="new")
    session.commit()
    client.post("/committee/admin/reviews", data={"title": "중간점검"})
    review = session.scalar(select(MidtermReview))
    ids = {o.task_code: o.id for o in review.outcomes}
    bad = client.post(
        f"/committee/admin/reviews/{review.id}",
        data={f"outcome-{ids['B-2']}": "replaced", f"successors-{ids['B-2']}": "Z-9", "apply": "1"},
    )
    assert bad.status_code == 400
    assert "Z-9" in bad.get_data(as_text=True)
    ok = client.post(
        f"/committee/admin/reviews/{review.id}",
        data={
            f"outcome-{ids['B-1']}": "concluded",
            f"outcome-{ids['B-2']}": "replaced",
            f"successors-{ids['B-2']}": "N-1",
            "apply": "1",
        },
    )
    assert ok.status_code == 302
    session.expire_all()
    statuses = dict(session.execute(select(CommitteeTask.code, CommitteeTask.status)).all())
    assert statuses == {"B-1": "concluded", "B-2": "replaced", "N-1": "active"}
    page = client.get(f"/committee/admin/reviews/{review.id}").get_data(as_text=True)
    assert "<select" not in page  # applied: a read-only snapshot


def test_evaluation_round_results_page(client, session):
    sec = secretariat(client)
    client.post("/committee/admin/evaluations", data={"year": "2026", "half": "2"})
    record = session.scalar(select(EvaluationRound))
    assert record is not None
    user = make_user("committee_member")
    make_member(user=user)
    task = make_task("A-1", title="정보공개")
    record_evaluation(session, record, task, actor=user, score=4, comment="좋습니다", now=NOW)
    session.commit()
    page = client.get(f"/committee/admin/evaluations/{record.id}").get_data(as_text=True)
    assert "4.00" in page
    assert "좋습니다" in page
    client.post(f"/committee/admin/evaluations/{record.id}")
    session.expire_all()
    assert session.get(EvaluationRound, record.id).closed_at is not None
    assert sec is not None


def test_quarter_reminder_button_and_department_cannot_touch_other_departments(client, session):
    road = make_department("도로과", code="ROAD")
    welfare = make_department("복지정책과", code="WELFARE")
    make_user("department", email="road@example.com", department=road)
    make_task("A-1", department=road)
    secretariat(client)
    deadline = (dt.datetime.now(dt.UTC) + dt.timedelta(days=10)).date().isoformat()
    response = client.post(
        "/committee/admin/quarters", data={"year": "2026", "quarter": "4", "deadline": deadline}
    )
    assert response.status_code == 302
    record = session.scalar(select(ReportingQuarter))
    client.post(f"/committee/admin/quarters/{record.id}/remind")
    kinds = session.scalars(
        select(OutboxMessage.kind).where(OutboxMessage.recipient == "road@example.com")
    ).all()
    assert sorted(kinds) == ["committee_quarter_opened", "committee_quarter_reminder"]
    client.post("/logout")
    other = make_user("department", department=welfare)
    login(client, other)
    entry_id = record.entries[0].id
    assert client.get(f"/committee/department/entries/{entry_id}").status_code == 403
    assert client.get("/committee/department").status_code == 200


def test_state_changes_need_the_csrf_token(csrf_app, session):
    client = csrf_app.test_client()
    user = make_user("committee_secretariat")
    login(client, user)
    response = client.post("/committee/admin/evaluations", data={"year": "2026", "half": "1"})
    assert response.status_code == 400
    assert session.scalar(select(EvaluationRound)) is None


def test_viewing_a_members_contacts_is_audited(client, session):
    from civic_app.audit.models import AuditLog

    user = secretariat(client)
    member = make_member("연락위원")
    session.commit()
    page = client.get(f"/committee/admin/members/{member.id}").get_data(as_text=True)
    assert "private-member@example.com" in page
    log = session.scalar(select(AuditLog).where(AuditLog.target_type == "committee_member"))
    assert (log.actor_id, log.action, log.target_id) == (user.id, "personal_data.view", str(member.id))


def test_public_meeting_page_shows_agenda_and_items_but_not_attendance(client, session):
    sec = make_user("committee_secretariat")
    committee = get_committee(session)
    start = dt.datetime(2027, 4, 15, 5, 0, tzinfo=dt.UTC)
    meeting = save_meeting(
        session,
        committee,
        None,
        kind="regular",
        title="정기회의",
        start_at=start,
        end_at=start + dt.timedelta(hours=2),
        location="대회의실",
        agenda="분기 보고",
        actor=sec,
        now=NOW,
    )
    member = make_member("출석위원")
    record_minutes(session, meeting, minutes="의결함", present_member_ids={member.id}, actor=sec, now=NOW)
    add_advisory_item(
        session,
        meeting,
        code="M-1",
        title="청년 주거",
        subcommittee_id=subcommittee().id,
        department_id=None,
        actor=sec,
        now=NOW,
    )
    session.commit()
    html = client.get(f"/committee/meetings/{meeting.id}").get_data(as_text=True)
    assert "분기 보고" in html
    assert "의결함" in html
    assert 'href="/committee/tasks/M-1"' in html
    assert "출석위원" not in html
    assert "정기회의" in client.get("/committee/meetings").get_data(as_text=True)
    task_page = client.get("/committee/tasks/M-1").get_data(as_text=True)
    assert f'href="/committee/meetings/{meeting.id}"' in task_page


def test_secretariat_starts_a_proposed_task_but_cannot_mark_it_replaced(client, session):
    secretariat(client)
    road = make_department("도로과", code="ROAD")
    make_task("N-1", origin="new", status="proposed")
    session.commit()
    form = {"title": "신규 과제", "status": "replaced", "department_id": str(road.id), "start_year": "2027"}
    refused = client.post("/committee/admin/tasks/N-1", data=form)
    assert refused.status_code == 400
    assert "중간점검" in refused.get_data(as_text=True)
    ok = client.post("/committee/admin/tasks/N-1", data={**form, "status": "active"})
    assert ok.status_code == 302
    session.expire_all()
    task = session.scalar(select(CommitteeTask).where(CommitteeTask.code == "N-1"))
    assert (task.status, task.department_id, task.start_year, task.title) == (
        "active",
        road.id,
        2027,
        "신규 과제",
    )
    assert "과제 고치기" in client.get("/committee/tasks/N-1").get_data(as_text=True)
    client.post("/logout")
    assert "과제 고치기" not in client.get("/committee/tasks/N-1").get_data(as_text=True)


def test_a_bad_dashboard_form_is_shown_again_with_its_errors_and_opens_nothing(client, session):
    secretariat(client)
    make_task("A-1", department=make_department("도로과", code="ROAD"))
    session.commit()
    bad_year = client.post("/committee/admin/quarters", data={"year": "1999", "quarter": "1", "deadline": ""})
    assert bad_year.status_code == 400
    page = bad_year.get_data(as_text=True)
    assert "연도는 2000~2100 사이여야 합니다." in page
    assert "마감일을 입력해 주세요." in page
    past = client.post(
        "/committee/admin/quarters", data={"year": "2026", "quarter": "1", "deadline": "2020-01-01"}
    )
    assert past.status_code == 400
    assert "마감일은 오늘 이후여야 합니다." in past.get_data(as_text=True)  # the service's rule, on the field
    assert session.scalar(select(ReportingQuarter)) is None
    no_title = client.post("/committee/admin/reviews", data={"title": ""})
    assert no_title.status_code == 400
    assert session.scalar(select(MidtermReview)) is None
