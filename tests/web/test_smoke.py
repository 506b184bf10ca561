from tests.factories import login, make_dong, make_user


def test_home_page_is_korean_and_secure(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "시민소통실" in response.get_data(as_text=True)
    csp = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_staff_page_requires_role(client, session):
    citizen = make_user("citizen")
    login(client, citizen)
    assert client.get("/admin/users").status_code == 403


def test_dongs_api_lists_dongs(client, session):
    make_dong("중앙동", code="4199051000", contested_area=True)
    session.commit()
    body = client.get("/api/v1/dongs").get_json()
    assert body["total"] == 1
    assert body["items"][0] == {
        "code": "4199051000",
        "name": "중앙동",
        "contested_area": True,
        "natural_village": False,
        "outlying_area": False,
    }
