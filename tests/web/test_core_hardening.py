"""Issue 12, finding 8 (a-c): the OpenAPI server URL, formulas in CSV exports, and one
safe-redirect check for every ``next`` parameter."""

from __future__ import annotations

import csv
import io

import pytest

from civic_app.csvutil import csv_bytes, neutralise_cell
from civic_app.extensions import db
from civic_app.web.redirects import is_safe_path, safe_next
from tests.factories import PASSWORD, login, make_user
from tests.factories_cards import Cast, make_item
from tests.factories_telegram import queue_raw, sample_payload

HOSTILE_NEXT = [
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "//evil.example",
    "/\\evil.example",
    "https://evil.example/",
    "javascript:alert(1)",
    "evil.example",
    "/ /evil.example",
    "/\x7f/evil.example",
    "/\u3000/evil.example",
]


def test_openapi_servers_come_from_public_base_url_not_the_host_header(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://civic.city.example.kr")
    evil = client.get("/api/v1/openapi.json", headers={"Host": "evil.example"})
    assert evil.get_json()["servers"] == [{"url": "https://civic.city.example.kr"}]
    # The next visitor (same per-process page cache) gets the configured URL too.
    plain = client.get("/api/v1/openapi.json")
    assert plain.get_json()["servers"] == [{"url": "https://civic.city.example.kr"}]
    assert "evil.example" not in plain.get_data(as_text=True)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1", "'+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("보안등 설치", "보안등 설치"),
        (-5, -5),
        (30_000_000, 30_000_000),
    ],
)
def test_formula_cells_are_neutralised(value, expected):
    assert neutralise_cell(value) == expected


def test_shared_writer_neutralises_every_text_cell():
    body = csv_bytes(["a", "b"], [["=1+1", None], ["ok", 3]]).decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows == [["a", "b"], ["'=1+1", ""], ["ok", "3"]]


def test_public_card_csv_export_passes_no_formula(client, session):
    cast = Cast()
    make_item(cast, title='=HYPERLINK("http://evil.example","클릭")', description="@cmd")
    session.commit()
    body = client.get(f"/api/v1/cards/items.csv?dong={cast.dong.code}").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    cells = [c for row in rows[1:] for c in row]
    assert '\'=HYPERLINK("http://evil.example","클릭")' in cells
    assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r")]


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_safe_next_refuses_off_site_targets(target):
    assert not is_safe_path(target)
    assert safe_next(target, "/home") == "/home"


def test_safe_next_keeps_local_paths():
    assert safe_next("/staff/telegram?tab=sent", "/") == "/staff/telegram?tab=sent"
    assert safe_next("/staff/visits/3", "/", prefix="/staff/visits") == "/staff/visits/3"
    assert safe_next("/staff/visitsX", "/d", prefix="/staff/visits") == "/d"
    assert safe_next("/admin", "/d", prefix="/staff/visits") == "/d"


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_staff_telegram_actions_never_redirect_off_site(app, client, session, target):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        login(client, make_user("civic_staff"))
        row = queue_raw("card_done", sample_payload("card_done"), status="failed")
        session.commit()
        response = client.post(f"/staff/telegram/{row.id}/retry", data={"next": target})
        assert response.status_code == 302
        assert response.headers["Location"] == f"/staff/telegram/{row.id}"
    finally:
        app.config["PROPAGATE_EXCEPTIONS"] = None


@pytest.mark.parametrize("target", ["/\t/evil.example", "/\n/x", "//evil.example"])
def test_login_and_language_next_use_the_same_check(client, session, target):
    response = client.post("/lang", data={"lang": "en", "next": target})
    assert response.headers["Location"] == "/"
    user = make_user("citizen")
    db.session.commit()
    response = client.post(
        "/login", query_string={"next": target}, data={"email": user.email, "password": PASSWORD}
    )
    assert response.headers.get("Location", "/") == "/"
