"""`flask departments import FILE.csv` and the same upload on the admin page: all or nothing."""

from __future__ import annotations

import io

from sqlalchemy import select

from civic_app.dongs.models import Department
from civic_app.extensions import db
from tests.factories import login, make_department, make_user

HEADER = "code,name\n"


def _write(tmp_path, text: str, name: str = "departments.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _departments() -> dict[str, str]:
    db.session.expire_all()
    return {d.code: d.name for d in db.session.scalars(select(Department))}


def test_cli_imports_a_good_file(runner, session, tmp_path):
    path = _write(tmp_path, "\ufeff" + HEADER + "ROAD,도로과\nPARK,공원녹지과\n")
    result = runner.invoke(args=["departments", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "새로 2개, 갱신 0개" in result.output
    assert _departments() == {"ROAD": "도로과", "PARK": "공원녹지과"}


def test_cli_bad_lines_import_nothing_and_are_named_by_line(runner, session, tmp_path):
    path = _write(
        tmp_path,
        HEADER + "ROAD,도로과\nbad code!,이상한과\nROAD,도로관리과\nPARK,\nWEL,도로과\nX,Y,Z\n",
    )
    result = runner.invoke(args=["departments", "import", str(path)])
    assert result.exit_code == 1
    out = result.output
    assert "CSV에 오류가 있어 아무것도 가져오지 않았습니다." in out
    assert "3행: 부서 코드는 1~20자의 글자, 숫자, '.', '-', '_'여야 합니다: 'bad code!'" in out
    assert "4행: 부서 코드 ROAD가 2행에도 있습니다." in out
    assert "5행: 부서 이름은 1~100자여야 합니다." in out
    assert "6행: 부서 이름 '도로과'이(가) 2행에도 있습니다." in out
    assert "7행: 열 개수가 2개여야 합니다." in out
    assert _departments() == {}


def test_cli_header_must_be_exactly_code_name(runner, session, tmp_path):
    path = _write(tmp_path, "code,name,field\nROAD,도로과,도로\n")
    result = runner.invoke(args=["departments", "import", str(path)])
    assert result.exit_code == 1
    assert "머리글이 올바르지 않습니다. 필요한 머리글: code,name" in result.output
    assert _departments() == {}


def test_reimport_renames_by_code_and_may_swap_names(runner, session, tmp_path):
    make_department("도로과", code="ROAD")
    make_department("공원과", code="PARK")
    make_department("복지과", code="WEL")
    session.commit()
    path = _write(tmp_path, HEADER + "ROAD,공원과\nPARK,도로과\nNEW,신설과\n")
    result = runner.invoke(args=["departments", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "새로 1개, 갱신 2개" in result.output
    assert _departments() == {"ROAD": "공원과", "PARK": "도로과", "WEL": "복지과", "NEW": "신설과"}


def test_a_name_held_by_another_department_is_an_error(runner, session, tmp_path):
    make_department("도로과", code="ROAD")
    session.commit()
    path = _write(tmp_path, HEADER + "PARK,공원과\nROAD2,도로과\n")
    result = runner.invoke(args=["departments", "import", str(path)])
    assert result.exit_code == 1
    assert "3행: 부서 이름 '도로과'은(는) 이미 코드 ROAD인 부서가 쓰고 있습니다." in result.output
    assert _departments() == {"ROAD": "도로과"}


def test_admin_uploads_departments_on_the_reference_page(client, session):
    admin = make_user("admin")
    login(client, admin)
    page = client.get("/admin/departments").get_data(as_text=True)
    assert 'action="/admin/departments/import"' in page
    assert "CSV 파일 (code,name)" in page
    good = (HEADER + "ROAD,도로과\n").encode()
    response = client.post(
        "/admin/departments/import",
        data={"file": (io.BytesIO(good), "departments.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert _departments() == {"ROAD": "도로과"}
    bad = (HEADER + "PARK,공원과\nPARK,공원2과\n").encode()
    response = client.post(
        "/admin/departments/import",
        data={"file": (io.BytesIO(bad), "departments.csv")},
        content_type="multipart/form-data",
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "3행" in body
    assert "부서 코드 PARK가 2행에도 있습니다." in body
    assert _departments() == {"ROAD": "도로과"}


def test_department_upload_is_for_admins_only(client, session):
    login(client, make_user("committee_secretariat"))
    response = client.post(
        "/admin/departments/import",
        data={"file": (io.BytesIO(HEADER.encode()), "departments.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 403
