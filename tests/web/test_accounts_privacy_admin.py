"""Issue 12, finding 5: the account list is personal data; its views are logged, paginated and
searchable."""

from __future__ import annotations

from sqlalchemy import select

from civic_app.audit.models import AuditLog
from civic_app.audit.services import VIEW_PERSONAL_DATA
from civic_app.extensions import db
from tests.factories import login, make_user


def _views() -> list[AuditLog]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(AuditLog).where(AuditLog.action == VIEW_PERSONAL_DATA).order_by(AuditLog.id)
        )
    )


def test_user_list_and_user_page_write_an_access_log_row(client, session):
    admin = make_user("admin", name="관리자", email="admin@example.com")
    citizen = make_user("citizen", name="홍길동", email="hong@example.com")
    login(client, admin)
    page = client.get("/admin/users")
    assert page.status_code == 200
    assert "hong@example.com" in page.get_data(as_text=True)
    [entry] = _views()
    assert (entry.actor_id, entry.target_type) == (admin.id, "user_list")
    assert citizen.id in entry.detail["user_ids"]
    assert entry.ip == "127.0.0.1"
    assert client.get(f"/admin/users/{citizen.id}").status_code == 200
    last = _views()[-1]
    assert (last.actor_id, last.target_type, last.target_id) == (admin.id, "user", str(citizen.id))


def test_user_list_is_paginated_and_searchable(client, session):
    admin = make_user("admin", name="관리자", email="admin@example.com")
    for n in range(60):
        make_user("citizen", name=f"시민{n:02d}", email=f"c{n:02d}@example.com")
    make_user("citizen", name="홍길동", email="gildong@example.org")
    make_user("citizen", name="100%_이름", email="pct@example.org")
    login(client, admin)
    first = client.get("/admin/users").get_data(as_text=True)
    assert first.count("/admin/users/") - first.count("/admin/users/new") == 50
    assert "1 / 2쪽" in first
    second = client.get("/admin/users?page=2").get_data(as_text=True)
    assert "gildong@example.org" in second
    assert "gildong@example.org" not in first
    by_name = client.get("/admin/users?q=길동").get_data(as_text=True)
    assert "gildong@example.org" in by_name
    assert "c00@example.com" not in by_name
    by_mail = client.get("/admin/users?q=GILDONG@example").get_data(as_text=True)
    assert "gildong@example.org" in by_mail
    # LIKE wildcards are searched for literally.
    literal = client.get("/admin/users?q=%25_").get_data(as_text=True)
    assert "pct@example.org" in literal
    assert "c00@example.com" not in literal
    assert client.get("/admin/users?page=99999999999999999999").status_code == 404
    assert _views()[-1].detail["q"] == "%_"
