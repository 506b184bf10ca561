"""Public committee pages and API: lineage both ways, filters, no personal data, fixed SQL cost."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event, func, select

from civic_app.committee.committees import get_committee
from civic_app.committee.models import CommitteeTask
from civic_app.committee.tasks import import_tasks
from civic_app.extensions import db
from tests.factories import NOW, login, make_department, make_user
from tests.factories_committee import make_member, make_task


def lineage_section(html: str) -> str:
    match = re.search(r'<section class="lineage".*?</section>', html, re.S)
    assert match, "no lineage section"
    return match.group(0)


def test_replaced_and_merged_tasks_show_their_lineage_on_both_ends(client, session, tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(
        "code,title,field,origin,status,replaced_by,department\n"
        "R-1,옛 교통 과제,도시계획/환경,baseline,replaced,S-1,\n"
        "S-1,새 교통 과제,도시계획/환경,new,active,,\n"
        "M-1,돌봄 가,복지/여성/보건의료,baseline,replaced,M-9,\n"
        "M-2,돌봄 나,복지/여성/보건의료,baseline,replaced,M-9,\n"
        "M-9,통합 돌봄,복지/여성/보건의료,new,active,,\n",
        encoding="utf-8",
    )
    import_tasks(session, path, now=NOW)
    session.commit()
    old = lineage_section(client.get("/committee/tasks/R-1").get_data(as_text=True))
    assert 'href="/committee/tasks/S-1"' in old
    assert "대체" in old
    new = lineage_section(client.get("/committee/tasks/S-1").get_data(as_text=True))
    assert 'href="/committee/tasks/R-1"' in new
    merged = lineage_section(client.get("/committee/tasks/M-9").get_data(as_text=True))
    assert 'href="/committee/tasks/M-1"' in merged
    assert 'href="/committee/tasks/M-2"' in merged
    assert "통합" in merged
    for code in ("M-1", "M-2"):
        part = lineage_section(client.get(f"/committee/tasks/{code}").get_data(as_text=True))
        assert 'href="/committee/tasks/M-9"' in part
        assert "통합" in part
    assert client.get("/committee/tasks/NOPE").status_code == 404


def test_task_list_filters_and_api_lists_public_fields(client, session):
    road = make_department("도로과", code="ROAD")
    make_task("A-1", title="보행 환경", department=road)
    make_task("A-2", title="재정 공시", status="concluded")
    make_task("W-1", title="돌봄", field="복지/여성/보건의료", origin="new")
    session.commit()
    html = client.get("/committee/?status=concluded").get_data(as_text=True)
    assert "재정 공시" in html
    assert "보행 환경" not in html
    sub_id = session.scalar(select(CommitteeTask.subcommittee_id).where(CommitteeTask.code == "W-1"))
    html = client.get(f"/committee/?field={sub_id}").get_data(as_text=True)
    assert "돌봄" in html
    assert "재정 공시" not in html
    html = client.get(f"/committee/?department={road.id}&q=보행").get_data(as_text=True)
    assert "보행 환경" in html
    assert "돌봄" not in html
    body = client.get("/api/v1/committee/tasks?origin=new").get_json()
    assert body["total"] == 1
    assert body["items"][0] == {
        "code": "W-1",
        "title": "돌봄",
        "field": "복지/여성/보건의료",
        "origin": "new",
        "status": "active",
        "department": None,
        "start_year": 2026,
        "progress": 0,
        "url": "/committee/tasks/W-1",
    }
    assert client.get("/api/v1/committee/tasks?field=행정/재정").get_json()["total"] == 2
    assert [i["code"] for i in client.get("/api/v1/committee/tasks?department=ROAD").get_json()["items"]] == [
        "A-1"
    ]
    assert client.get("/api/v1/committee/tasks?department=도로과").get_json()["total"] == 1
    assert client.get("/api/v1/committee/tasks?department=없는과").status_code == 400
    bad = client.get("/api/v1/committee/tasks?status=finished")
    assert bad.status_code == 400
    assert bad.get_json()["error"]["param"] == "status"
    assert client.get("/api/v1/committee/summary?committee=없음").status_code == 404


def test_openapi_documents_both_endpoints(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/committee/summary" in doc["paths"]
    assert "/api/v1/committee/tasks" in doc["paths"]
    row = doc["components"]["schemas"]["CommitteeSummaryRow"]
    assert set(row["required"]) == {"field", "baseline", "maintained", "concluded", "replaced", "new"}


def test_task_list_costs_a_fixed_number_of_statements(client, session):
    def count_statements(url: str) -> int:
        counter = {"n": 0}

        def before(*_args, **_kw):
            counter["n"] += 1

        event.listen(db.engine, "before_cursor_execute", before)
        try:
            assert client.get(url).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", before)
        return counter["n"]

    road = make_department("도로과", code="ROAD")
    make_task("A-1", department=road)
    session.commit()
    few = count_statements("/committee/")
    for i in range(25):
        make_task(f"B-{i}", department=road, field="문화/교육")
    session.commit()
    assert count_statements("/committee/") == few


def test_member_contacts_never_reach_public_pages_or_api(client, session):
    user = make_user("committee_member", email="member-login@example.com")
    make_member("윤위원", user=user)
    make_task("A-1")
    session.commit()
    for url in ("/committee/", "/committee/tasks/A-1", "/committee/reports", "/api/v1/committee/tasks"):
        text = client.get(url).get_data(as_text=True)
        assert "private-member@example.com" not in text
        assert "9876" not in text
        assert "member-login@example.com" not in text


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("/committee/admin", ("committee_secretariat", "admin")),
        ("/committee/admin/members", ("committee_secretariat", "admin")),
        ("/committee/admin/meetings", ("committee_secretariat", "admin")),
        ("/committee/department", ("department",)),
        ("/committee/evaluate", ("committee_member",)),
    ],
)
def test_staff_pages_are_role_gated(client, session, url, allowed):
    assert client.get(url).status_code == 302  # anonymous → login
    for role in ("citizen", "committee_secretariat", "department", "committee_member"):
        user = make_user(role)
        login(client, user)
        expected = 200 if role in allowed else 403
        assert client.get(url).status_code == expected, (role, url)
        client.post("/logout")


def test_secretariat_sees_members_and_composition(client, session):
    secretariat = make_user("committee_secretariat")
    make_member("강위원", gender="female", age_band="40s", position="chair")
    make_member("정무부시장", membership="ex_officio", affiliation="official", field=None)
    login(client, secretariat)
    html = client.get("/committee/admin/members").get_data(as_text=True)
    assert "강위원" in html
    assert "당연직" in html
    assert "40대" in html


def test_demo_data_reproduces_the_source_table(session):
    from civic_app.committee.demo import load_demo
    from civic_app.demo.core import load_core

    ctx = {"now": NOW, "echo": lambda *_a: None}
    load_core(session, ctx)
    load_demo(session, ctx)
    load_demo(session, ctx)  # idempotent
    summary = get_committee(session)
    from civic_app.committee import queries

    table = queries.summary(session, summary)
    assert [r["maintained"] for r in table["rows"]] == [4, 6, 17, 12, 18]
    assert [r["new"] for r in table["rows"]] == [9, 4, 8, 35, 3]
    assert [r["maintained"] + r["new"] for r in table["rows"]] == [13, 10, 25, 47, 21]
    assert table["total"] == {"baseline": 88, "maintained": 57, "concluded": 24, "replaced": 7, "new": 59}
    from civic_app.committee.models import CommitteeMember, ReportingQuarter, TaskLineage

    members = session.scalars(select(CommitteeMember)).all()
    assert len(members) == 25
    assert sum(m.membership == "ex_officio" for m in members) == 2
    assert any(m.user is not None and m.user.email == "member@demo.civic.kr" for m in members)
    replaced = session.scalars(select(CommitteeTask).where(CommitteeTask.status == "replaced")).all()
    linked = set(session.scalars(select(TaskLineage.predecessor_id)))
    assert {t.id for t in replaced} <= linked
    assert (
        session.scalar(select(func.count(ReportingQuarter.id)).where(ReportingQuarter.status == "published"))
        == 2
    )


def test_public_pages_speak_english_when_asked(client, session):
    make_task("A-1", title="보행 환경")
    session.commit()
    client.post("/lang", data={"lang": "en", "next": "/committee/"})
    html = client.get("/committee/").get_data(as_text=True)
    assert "Policy tasks by field" in html
    assert "Baseline tasks" in html
    assert "추진 중" not in html  # the status label is translated (whichever catalog words it)


def test_htmx_filter_gets_only_the_results_fragment(client, session):
    make_task("A-1", title="보행 환경")
    session.commit()
    response = client.get("/committee/?q=보행", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert "<html" not in html
    assert "보행 환경" in html
    assert "HX-Request" in response.headers["Vary"]
    assert "<html" in client.get("/committee/?q=보행").get_data(as_text=True)


def test_task_list_pages_through_results(client, session):
    for i in range(31):
        make_task(f"P-{i:02d}")
    session.commit()
    first = client.get("/committee/").get_data(as_text=True)
    assert "1 / 2쪽" in first
    assert "P-29" in first
    assert "P-30" not in first
    second = client.get("/committee/?page=2").get_data(as_text=True)
    assert "P-30" in second
    assert "P-00" not in second


def test_home_page_shows_the_committee_totals(client, session):
    make_task("A-1")
    make_task("N-1", origin="new")
    session.commit()
    html = client.get("/").get_data(as_text=True)
    assert "정책합의과제 1건 (유지 1 · 종결 0 · 대체·통합 0), 신규과제 1건" in html
