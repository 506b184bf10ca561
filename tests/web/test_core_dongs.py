"""The dong registry: CSV import (all or nothing), admin pages, the public API's parameters."""

from __future__ import annotations

from sqlalchemy import func, select

from civic_app.dongs.models import Department, Dong, Host
from civic_app.extensions import db
from tests.factories import login, make_department, make_dong, make_user

HEADER = "code,name,contested_area,natural_village,outlying_area\n"


def _write(tmp_path, text: str, name: str = "dongs.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _dongs() -> dict[str, Dong]:
    db.session.expire_all()
    return {d.code: d for d in db.session.scalars(select(Dong))}


# --- CSV import ---------------------------------------------------------------------------


def test_import_good_file(runner, session, tmp_path):
    path = _write(tmp_path, "\ufeff" + HEADER + "4199051000,중앙동,1,0,0\n4199051300,산성동,0,1,1\n")
    result = runner.invoke(args=["dongs", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "새로 2개" in result.output
    dongs = _dongs()
    assert set(dongs) == {"4199051000", "4199051300"}
    assert dongs["4199051000"].contested_area is True
    assert dongs["4199051300"].natural_village is True
    assert dongs["4199051300"].outlying_area is True
    assert dongs["4199051300"].contested_area is False


def test_bad_line_imports_nothing_and_names_the_line(runner, session, tmp_path):
    path = _write(
        tmp_path,
        HEADER + "4199051000,중앙동,1,0,0\n41990,짧은동,0,0,0\n4199051600,태평동,0,2,0\n",
    )
    result = runner.invoke(args=["dongs", "import", str(path)])
    assert result.exit_code == 1
    output = result.output
    assert "CSV에 오류가 있어 아무것도 가져오지 않았습니다." in output
    assert "3행: 행정동코드는 숫자 10자리여야 합니다: '41990'" in output
    assert "4행: natural_village 값은 0 또는 1이어야 합니다: '2'" in output
    assert _dongs() == {}


def test_wrong_header_and_duplicate_codes_are_reported(runner, session, tmp_path):
    bad_header = _write(tmp_path, "code,name\n4199051000,중앙동\n", "a.csv")
    result = runner.invoke(args=["dongs", "import", str(bad_header)])
    assert result.exit_code == 1
    assert "머리글이 올바르지 않습니다" in result.output
    dup = _write(tmp_path, HEADER + "4199051000,중앙동,0,0,0\n4199051000,신흥동,0,0,0\n", "b.csv")
    result = runner.invoke(args=["dongs", "import", str(dup)])
    assert result.exit_code == 1
    assert "3행: 행정동코드 4199051000가 2행에도 있습니다." in result.output
    short = _write(tmp_path, HEADER + "4199051000,중앙동,0\n", "c.csv")
    result = runner.invoke(args=["dongs", "import", str(short)])
    assert "2행: 열 개수가 5개여야 합니다." in result.output
    assert _dongs() == {}


def test_reimport_updates_by_code(runner, session, tmp_path):
    make_dong("옛이름동", code="4199051000")
    session.commit()
    path = _write(tmp_path, HEADER + "4199051000,중앙동,0,0,1\n4199051300,산성동,0,0,0\n")
    result = runner.invoke(args=["dongs", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "새로 1개, 갱신 1개" in result.output
    dongs = _dongs()
    assert len(dongs) == 2
    assert dongs["4199051000"].name == "중앙동"
    assert dongs["4199051000"].outlying_area is True


def test_import_of_a_missing_file_fails_cleanly(runner, session, tmp_path):
    result = runner.invoke(args=["dongs", "import", str(tmp_path / "none.csv")])
    assert result.exit_code == 1
    assert "파일을 읽을 수 없습니다" in result.output


def test_admin_uploads_a_csv_file(client, session):
    import io

    login(client, make_user("admin"))
    good = (HEADER + "4199051000,중앙동,1,0,0\n").encode()
    response = client.post(
        "/admin/dongs/import",
        data={"file": (io.BytesIO(good), "dongs.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert set(_dongs()) == {"4199051000"}
    bad = (HEADER + "4199051300,산성동,0,0,0\nabc,x,0,0,0\n").encode()
    response = client.post(
        "/admin/dongs/import",
        data={"file": (io.BytesIO(bad), "dongs.csv")},
        content_type="multipart/form-data",
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "3행" in body
    assert "행정동코드는 숫자 10자리여야 합니다" in body
    assert set(_dongs()) == {"4199051000"}


# --- admin pages --------------------------------------------------------------------------


def test_admin_dong_form_bad_field_changes_nothing(client, session):
    dong = make_dong("중앙동", code="4199051000")
    login(client, make_user("admin"))
    response = client.post(f"/admin/dongs/{dong.id}", data={"code": "12ab", "name": "바뀐동"})
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "행정동코드는 숫자 10자리여야 합니다." in body
    assert 'aria-invalid="true"' in body
    db.session.expire_all()
    assert db.session.get(Dong, dong.id).code == "4199051000"
    assert db.session.get(Dong, dong.id).name == "중앙동"


def test_admin_edits_a_dong(client, session):
    dong = make_dong("중앙동", code="4199051000")
    login(client, make_user("admin"))
    page = client.get(f"/admin/dongs/{dong.id}")
    assert "중앙동" in page.get_data(as_text=True)
    response = client.post(
        f"/admin/dongs/{dong.id}",
        data={"code": "4199051000", "name": "중앙1동", "contested_area": "y", "active": "y"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    changed = db.session.get(Dong, dong.id)
    assert changed.name == "중앙1동"
    assert changed.contested_area is True
    assert "중앙1동" in client.get("/admin/dongs").get_data(as_text=True)


def test_admin_duplicate_dong_code_is_a_korean_message(client, session):
    make_dong("중앙동", code="4199051000")
    login(client, make_user("admin"))
    response = client.post("/admin/dongs/new", data={"code": "4199051000", "name": "다른동", "active": "y"})
    assert response.status_code == 400
    assert "같은 코드나 이름이 이미 있습니다." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Dong.id))) == 1


def test_renaming_a_department_to_a_name_in_use_is_refused_and_changes_nothing(client, session):
    make_department("도로과", code="ROAD")
    park = make_department("공원과", code="PARK")
    session.commit()
    login(client, make_user("admin"))
    response = client.post(
        f"/admin/departments/{park.id}", data={"code": "PARK", "name": "도로과", "active": "y"}
    )
    assert response.status_code == 400
    assert "같은 코드나 이름이 이미 있습니다." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Department, park.id).name == "공원과"


def test_admin_departments_and_hosts(client, session):
    dept = make_department("도로과", code="ROAD")
    login(client, make_user("admin"))
    response = client.post("/admin/departments/new", data={"code": "PARK", "name": "공원과", "active": "y"})
    assert response.status_code == 302
    assert db.session.scalar(select(Department).where(Department.code == "PARK")).name == "공원과"
    bad = client.post("/admin/hosts/new", data={"title": "국장", "rank": "7", "department_id": "0"})
    assert bad.status_code == 400
    assert "서열은 1에서 3 사이입니다." in bad.get_data(as_text=True)
    ok = client.post(
        "/admin/hosts/new",
        data={"title": "안전건설국장", "rank": "3", "department_id": str(dept.id), "active": "y"},
    )
    assert ok.status_code == 302
    host = db.session.scalar(select(Host).where(Host.title == "안전건설국장"))
    assert host.department_id == dept.id
    none = client.post("/admin/hosts/new", data={"title": "부시장", "rank": "2", "department_id": "0"})
    assert none.status_code == 302
    assert db.session.scalar(select(Host).where(Host.title == "부시장")).department_id is None
    listing = client.get("/admin/hosts").get_data(as_text=True)
    assert "안전건설국장" in listing
    assert "부시장" in listing


# --- API parameters -----------------------------------------------------------------------


def test_api_bad_parameters_are_korean_json(client, session):
    make_dong("중앙동", code="4199051000")
    session.commit()
    for query, param, message in (
        ("per_page=0", "per_page", "per_page 값은 1 이상 500 이하여야 합니다."),
        ("per_page=501", "per_page", "per_page 값은 1 이상 500 이하여야 합니다."),
        ("page=abc", "page", "page 값은 정수여야 합니다."),
        ("page=0", "page", "page 값은 1 이상 1000000 이하여야 합니다."),
    ):
        response = client.get(f"/api/v1/dongs?{query}")
        assert response.status_code == 400, query
        assert response.get_json() == {"error": {"status": 400, "message": message, "param": param}}


def test_api_pagination(client, session):
    for i in range(5):
        make_dong(code=f"41990510{i:02d}")
    make_dong(code="4199059999").active = False
    session.commit()
    body = client.get("/api/v1/dongs?page=2&per_page=2").get_json()
    assert body["total"] == 5
    assert body["page"] == 2
    assert body["per_page"] == 2
    assert [d["code"] for d in body["items"]] == ["4199051002", "4199051003"]


def test_openapi_document_lists_the_dongs_endpoint(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    assert "/api/v1/dongs" in doc["paths"]
    assert "Dong" in doc["components"]["schemas"]
