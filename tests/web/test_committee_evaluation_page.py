"""Members do not score blind: each task links to its reports, shows the latest progress and a count."""

from __future__ import annotations

import datetime as dt
import html

from civic_app.committee.committees import get_committee
from civic_app.committee.evaluations import open_evaluation_round, record_evaluation
from civic_app.committee.reports import open_quarter, publish_quarter, submit_entry
from tests.factories import NOW, login, make_department, make_user
from tests.factories_committee import make_member, make_task


def _setup(session):
    road = make_department("도로과", code="ROAD")
    secretariat = make_user("committee_secretariat")
    member_user = make_user("committee_member")
    make_member("윤위원", user=member_user, field="도시계획/환경")
    tasks = [
        make_task("U-1", title="보행 환경 개선", field="도시계획/환경", department=road),
        make_task("U-2", title="공원 확충", field="도시계획/환경", department=road),
        make_task("U-3", title="하천 정비", field="도시계획/환경"),
        make_task("A-1", title="다른 분과 과제", field="행정/재정", department=road),
    ]
    committee = get_committee(session)
    q3 = open_quarter(
        session,
        committee,
        year=2026,
        quarter=3,
        deadline=dt.date(2026, 10, 20),
        actor=secretariat,
        now=NOW - dt.timedelta(days=60),
    )
    by_code = {e.task_code: e for e in q3.entries}
    submit_entry(
        session,
        by_code["U-1"],
        actor=secretariat,
        now=NOW - dt.timedelta(days=50),
        progress_text="설계 착수",
        progress_pct=20,
    )
    publish_quarter(session, q3, actor=secretariat, now=NOW - dt.timedelta(days=40))
    q4 = open_quarter(
        session,
        committee,
        year=2026,
        quarter=4,
        deadline=NOW.date() + dt.timedelta(days=10),
        actor=secretariat,
        now=NOW,
    )
    u2 = next(e for e in q4.entries if e.task_code == "U-2")
    submit_entry(
        session,
        u2,
        actor=secretariat,
        now=NOW,
        progress_text="부지 매입 협의",
        progress_pct=35,
        issues="예산 부족",
    )
    record = open_evaluation_round(session, committee, year=2026, half=2, actor=secretariat, now=NOW)
    record_evaluation(session, record, tasks[0], actor=member_user, score=4, comment="", now=NOW)
    return member_user, record, tasks, q3


def test_evaluation_page_links_reports_shows_latest_progress_and_counts(client, session):
    member_user, record, tasks, q3 = _setup(session)
    login(client, member_user)
    page = html.unescape(client.get("/committee/evaluate").get_data(as_text=True))
    assert "1 / 3 평가 완료" in page  # U-1, U-2, U-3: the member's sub-committee only
    assert "A-1" not in page
    assert 'href="/committee/tasks/U-1"' in page
    assert 'href="/committee/tasks/U-3#history-h"' in page
    u1_entry = next(e for e in q3.entries if e.task_code == "U-1")
    # U-1: its latest report is the published 3rd quarter, linked to its row.
    assert f'href="/committee/reports/{q3.id}#entry-{u1_entry.id}"' in page
    u1 = page[page.index(f'id="task-{tasks[0].id}"') : page.index(f'id="task-{tasks[1].id}"')]
    assert "2026년 3분기 · 20%" in u1
    assert "설계 착수" in u1
    assert "평가함: 4점" in u1
    # U-2: reported this quarter, not yet published.
    u2 = page[page.index(f'id="task-{tasks[1].id}"') : page.index(f'id="task-{tasks[2].id}"')]
    assert "2026년 4분기 · 35%" in u2
    assert "부지 매입 협의" in u2
    assert "예산 부족" in u2
    assert "접수 중 (미공개)" in u2
    assert "미평가" in u2
    u3 = page[page.index(f'id="task-{tasks[2].id}"') :]
    assert "아직 제출된 분기 보고가 없습니다." in u3

    response = client.post(
        f"/committee/evaluate/{record.id}/{tasks[1].id}", data={f"t{tasks[1].id}-score": "3"}
    )
    assert response.status_code == 302
    page = html.unescape(client.get("/committee/evaluate").get_data(as_text=True))
    assert "2 / 3 평가 완료" in page


def test_evaluation_page_in_english(client, session):
    member_user, *_ = _setup(session)
    login(client, member_user)
    client.post("/lang", data={"lang": "en", "next": "/committee/evaluate"})
    page = html.unescape(client.get("/committee/evaluate").get_data(as_text=True))
    assert "1 / 3 evaluated" in page
