"""Admins create committees and sub-committees on a page; the secretariat uploads the task CSV."""

from __future__ import annotations

import html
import io

from sqlalchemy import func, select

from civic_app.audit.models import AuditLog
from civic_app.committee import queries
from civic_app.committee.models import Committee, CommitteeTask
from civic_app.extensions import db
from tests.factories import login, make_department, make_user

HEADER = "code,title,field,origin,status,replaced_by,department\n"


def _default_id() -> int:
    return db.session.scalar(select(Committee.id).where(Committee.name == "시정참여정책위원회"))


def _upload(client, text: str | bytes, committee_id: int | None = None):
    raw = text.encode() if isinstance(text, str) else text
    return client.post(
        "/committee/admin/import",
        data={"file": (io.BytesIO(raw), "tasks.csv"), "committee_id": str(committee_id or _default_id())},
        content_type="multipart/form-data",
    )


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _task_codes() -> set[str]:
    return set(db.session.scalars(select(CommitteeTask.code)))


def test_admin_creates_a_committee_with_subcommittees_and_adds_one(client, session, runner, tmp_path):
    login(client, make_user("admin"))
    page = client.get("/committee/admin/committees").get_data(as_text=True)
    assert "시정참여정책위원회" in page
    response = client.post(
        "/committee/admin/committees",
        data={
            "name": "청년정책위원회",
            "description": "청년 정책 자문",
            "subcommittees": "일자리\n\n주거 \n",
        },
    )
    assert response.status_code == 302
    committee = session.scalar(select(Committee).where(Committee.name == "청년정책위원회"))
    assert [s.name for s in committee.subcommittees] == ["일자리", "주거"]
    response = client.post(
        f"/committee/admin/committees/{committee.id}/subcommittees", data={f"c{committee.id}-name": "문화"}
    )
    assert response.status_code == 302
    session.expire_all()
    committee = session.get(Committee, committee.id)
    assert [(s.name, s.position) for s in committee.subcommittees] == [
        ("일자리", 1),
        ("주거", 2),
        ("문화", 3),
    ]

    # The new committee is what `--committee NAME` of the import now finds.
    path = tmp_path / "youth.csv"
    path.write_text(HEADER + "Y-1,청년 창업 지원,일자리,new,active,,\n", encoding="utf-8")
    result = runner.invoke(args=["committee", "import", str(path), "--committee", "청년정책위원회"])
    assert result.exit_code == 0, result.output
    task = session.scalar(select(CommitteeTask).where(CommitteeTask.code == "Y-1"))
    assert task.committee_id == committee.id


def test_committee_and_subcommittee_errors_are_korean_and_change_nothing(client, session):
    login(client, make_user("admin"))
    duplicate = client.post("/committee/admin/committees", data={"name": "시정참여정책위원회"})
    assert duplicate.status_code == 400
    assert "위원회 '시정참여정책위원회'이(가) 이미 있습니다." in _text(duplicate)
    twice = client.post("/committee/admin/committees", data={"name": "새위원회", "subcommittees": "가\n가"})
    assert twice.status_code == 400
    assert "분과 '가'이(가) 이미 있습니다." in _text(twice)
    default = session.scalar(select(Committee).where(Committee.name == "시정참여정책위원회"))
    taken = client.post(
        f"/committee/admin/committees/{default.id}/subcommittees", data={f"c{default.id}-name": "문화/교육"}
    )
    assert taken.status_code == 400
    assert "분과 '문화/교육'이(가) 이미 있습니다." in _text(taken)
    assert session.scalar(select(func.count(Committee.id))) == 1
    assert len(default.subcommittees) == 5


def test_only_admins_manage_committees(client, session):
    login(client, make_user("committee_secretariat"))
    assert client.get("/committee/admin/committees").status_code == 403
    assert client.post("/committee/admin/committees", data={"name": "몰래위원회"}).status_code == 403
    assert "위원회와 분과" not in client.get("/committee/admin").get_data(as_text=True)
    assert session.scalar(select(func.count(Committee.id))) == 1


def test_secretariat_uploads_the_task_csv_all_or_nothing_with_errors_by_line(client, session):
    make_department("도로과", code="ROAD")
    login(client, make_user("committee_secretariat"))
    page = client.get("/committee/admin").get_data(as_text=True)
    assert 'href="/committee/admin/import"' in page
    form = client.get("/committee/admin/import").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in form
    bad = HEADER + (
        "A-1,정보공개 확대,행정/재정,baseline,active,,ROAD\n"
        "A-2,없는 분야,우주/항공,baseline,active,,\n"
        "A-3,없는 부서,행정/재정,baseline,active,,하늘과\n"
    )
    response = _upload(client, bad)
    body = _text(response)
    assert response.status_code == 400
    assert "CSV에 오류가 있어 아무것도 가져오지 않았습니다." in body
    assert "3행: 분야 '우주/항공'은(는) 이 위원회의 분과가 아닙니다" in body
    assert "4행: 부서 '하늘과'을(를) 찾을 수 없습니다" in body
    assert _task_codes() == set()
    header = _upload(client, "code,title\nA-1,x\n")
    assert header.status_code == 400
    assert "머리글이 올바르지 않습니다" in header.get_data(as_text=True)
    good = _upload(client, HEADER + "A-1,정보공개 확대,행정/재정,baseline,active,,ROAD\n")
    assert good.status_code == 302
    assert "새로 1개, 갱신 0개" in client.get(good.headers["Location"]).get_data(as_text=True)
    assert _task_codes() == {"A-1"}
    assert session.scalar(select(func.count(AuditLog.id)).where(AuditLog.action == "committee.import")) == 1


def test_upload_into_another_committee_and_not_utf8(client, session):
    admin = make_user("admin")
    login(client, admin)
    client.post("/committee/admin/committees", data={"name": "청년정책위원회", "subcommittees": "일자리"})
    youth = session.scalar(select(Committee).where(Committee.name == "청년정책위원회"))
    response = _upload(client, HEADER + "Y-1,청년 창업,일자리,new,active,,\n", committee_id=youth.id)
    assert response.status_code == 302
    assert queries.summary(session, youth)["total"]["new"] == 1
    latin = _upload(
        client, (HEADER + "Y-2,caf\xe9,일자리,new,active,,\n").encode("latin-1", "replace"), youth.id
    )
    assert latin.status_code == 400
    assert "파일이 UTF-8 인코딩이 아닙니다." in _text(latin)


def test_task_upload_is_refused_to_departments(client, session):
    login(client, make_user("department", department=make_department()))
    assert _upload(client, HEADER).status_code == 403
