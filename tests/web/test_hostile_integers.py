"""Issue 12, finding 7: the reported HTTP 500s on integers beyond the column range, each now a
404 (a lookup in the URL or query) or a Korean form error. The fuzz in test_fuzz_inputs.py walks
every route; these name the reported cases."""

from __future__ import annotations

import io

import pytest

from civic_app.extensions import db
from civic_app.meetings.models import MeetingRequest
from tests.factories import login, make_department, make_user
from tests.factories_cards import Cast, make_item
from tests.factories_meetings import make_mayor, make_request, make_sessions, make_staff

HUGE = "99999999999999999999"
OUT_OF_RANGE = "입력한 숫자가 허용 범위를 벗어났습니다."


@pytest.fixture
def no_propagation(app):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    yield
    app.config["PROPAGATE_EXCEPTIONS"] = None


@pytest.mark.parametrize("arg", ["page", "field", "department"])
def test_anonymous_committee_filters(client, session, no_propagation, arg):
    assert client.get(f"/committee/?{arg}={HUGE}").status_code == 404
    assert client.get(f"/committee/?{arg}=abc").status_code == 200  # not a number: ignored


def test_staff_queue_dong_filter_and_page(client, session, no_propagation):
    login(client, make_staff())
    assert client.get(f"/staff/tongtong/requests?dong={HUGE}").status_code == 404
    assert client.get(f"/staff/tongtong/requests?page={HUGE}").status_code == 404
    assert client.get("/staff/tongtong/requests?page=2").status_code == 200


@pytest.mark.parametrize(
    ("action", "name"), [("mayor", "m-slot_id"), ("fallback", "f-slot_id"), ("written", "w-department_id")]
)
def test_decision_form_ids(client, session, no_propagation, action, name):
    make_mayor()
    make_sessions()
    make_department("도로과")
    staff = make_staff()
    req = make_request()
    db.session.commit()
    login(client, staff)
    prefix = name.split("-")[0]
    data = {name: HUGE, f"{prefix}-reason_code": "mayor_priority", f"{prefix}-route": "written"}
    response = client.post(f"/staff/tongtong/requests/{req.id}/decide/{action}", data=data)
    assert response.status_code == 400
    assert db.session.get(MeetingRequest, req.id).status == "submitted"


def test_host_slot_minutes(client, session, no_propagation):
    host = make_mayor()
    staff = make_staff()
    db.session.commit()
    login(client, staff)
    response = client.post(
        "/staff/tongtong/slots",
        data={"host_id": str(host.id), "start": "2026-12-10T10:00", "minutes": HUGE, "location": "x"},
    )
    assert response.status_code == 400
    assert OUT_OF_RANGE in response.get_data(as_text=True)


def test_card_merge_target_id(client, session, no_propagation):
    cast = Cast()
    item = make_item(cast)
    db.session.commit()
    login(client, cast.staff)
    response = client.post(
        f"/staff/cards/items/{item.id}/merge", data={"target_id": HUGE, "version": str(item.version)}
    )
    assert response.status_code == 400
    assert OUT_OF_RANGE in response.get_data(as_text=True)


def test_nul_byte_in_uploaded_csv(client, session, no_propagation):
    login(client, make_user("admin"))
    body = "code,name,contested_area,natural_village,outlying_area\n4199051000,중앙\x00동,0,0,0\n".encode()
    response = client.post(
        "/admin/dongs/import",
        data={"file": (io.BytesIO(body), "dongs.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "NUL 문자" in response.get_data(as_text=True)
