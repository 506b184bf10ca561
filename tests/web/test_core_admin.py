"""Audit log, development mailbox, working-day admin, health check, home page."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from civic_app import create_app
from civic_app.audit.models import AuditLog
from civic_app.audit.services import VIEW_PERSONAL_DATA
from civic_app.extensions import db
from civic_app.notify.services import enqueue_email
from civic_app.workdays.models import BlackoutRange, ClosedDate
from civic_app.workdays.services import WorkCalendar
from tests import conftest
from tests.factories import NOW, login, make_dong, make_user


def _audit(action: str) -> list[AuditLog]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditLog).where(AuditLog.action == action)))


def test_admin_changes_are_audited(client, session):
    admin = make_user("admin")
    dong = make_dong("중앙동", code="4199051000")
    login(client, admin)
    client.post(f"/admin/dongs/{dong.id}", data={"code": "4199051000", "name": "중앙1동", "active": "y"})
    [entry] = _audit("dongs.update")
    assert entry.actor_id == admin.id
    assert entry.target_type == "dongs"
    assert entry.target_id == str(dong.id)
    assert entry.at is not None


def test_dev_mailbox_is_staff_only_and_audited(client, session):
    enqueue_email(
        session, to="hong@example.com", subject="확인", body="본문", kind="k", dedupe_key="d", now=NOW
    )
    staff = make_user("civic_staff")
    login(client, staff)
    page = client.get("/dev/mailbox")
    assert page.status_code == 200
    assert "hong@example.com" in page.get_data(as_text=True)
    [entry] = _audit(VIEW_PERSONAL_DATA)
    assert entry.actor_id == staff.id
    assert entry.target_type == "dev_mailbox"


def test_dev_mailbox_does_not_exist_in_production(session):
    staff = make_user("civic_staff")
    db.session.commit()
    other = create_app(
        conftest.test_config(db.engine.url.render_as_string(hide_password=False), DEV_MAILBOX=False)
    )
    with other.app_context():
        client = other.test_client()
        login(client, staff)
        assert client.get("/dev/mailbox").status_code == 404


def test_workday_admin_adds_closed_days_and_blackouts(client, session):
    login(client, make_user("civic_staff"))
    assert client.get("/admin/workdays").status_code == 200
    response = client.post("/admin/workdays/closed", data={"c-day": "2026-12-24", "c-reason": "임시공휴일"})
    assert response.status_code == 302
    again = client.post("/admin/workdays/closed", data={"c-day": "2026-12-24", "c-reason": "중복"})
    assert again.status_code == 400
    assert "이미 등록된 날짜입니다." in again.get_data(as_text=True)
    bad = client.post(
        "/admin/workdays/blackouts",
        data={"b-start_day": "2026-05-20", "b-end_day": "2026-05-01", "b-reason": "지방선거"},
    )
    assert bad.status_code == 400
    assert "종료일은 시작일과 같거나 뒤여야 합니다." in bad.get_data(as_text=True)
    assert db.session.scalar(select(BlackoutRange)) is None
    ok = client.post(
        "/admin/workdays/blackouts",
        data={"b-start_day": "2026-05-01", "b-end_day": "2026-06-03", "b-reason": "지방선거"},
    )
    assert ok.status_code == 302
    closed = db.session.scalar(select(ClosedDate))
    assert client.post(f"/admin/workdays/closed/{closed.id}/delete").status_code == 302
    assert db.session.scalar(select(ClosedDate)) is None


def test_work_calendar_knows_holidays_closed_days_and_blackouts(session):
    session.add(ClosedDate(day=dt.date(2026, 12, 24), reason="임시공휴일"))
    session.add(BlackoutRange(start_day=dt.date(2026, 5, 21), end_day=dt.date(2026, 6, 3), reason="지방선거"))
    session.flush()
    cal = WorkCalendar.load(session, dt.date(2025, 1, 1), dt.date(2026, 12, 31))
    assert cal.is_working_day(dt.date(2025, 10, 2))
    assert "공휴일" in cal.closed_reason(dt.date(2025, 10, 6))  # 추석
    assert cal.closed_reason(dt.date(2025, 10, 4)) == "주말"
    assert "임시공휴일" in cal.closed_reason(dt.date(2026, 12, 24))
    assert "지방선거" in cal.closed_reason(dt.date(2026, 5, 28))
    assert not cal.is_working_day(dt.date(2026, 6, 3))
    assert cal.working_days(dt.date(2025, 10, 1), dt.date(2025, 10, 10)) == [
        dt.date(2025, 10, 1),
        dt.date(2025, 10, 2),
        dt.date(2025, 10, 10),
    ]


def test_healthz(client):
    assert client.get("/healthz").get_json() == {"status": "ok", "database": "ok"}


def test_healthz_reports_an_unreachable_database(tmp_path):
    broken = create_app(conftest.test_config(f"sqlite:///{tmp_path / 'missing' / 'db.sqlite3'}"))
    with broken.app_context():
        response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"


def test_only_active_dongs_are_public_and_staff_nav_follows_roles(client, session):
    make_dong()
    make_dong()
    make_dong().active = False
    session.commit()
    assert client.get("/api/v1/dongs").get_json()["total"] == 2
    body = client.get("/").get_data(as_text=True)
    assert "시장이 모든 동을 찾아가고" in body
    assert "업무 메뉴" not in body
    login(client, make_user("admin"))
    admin_body = client.get("/").get_data(as_text=True)
    assert "계정 관리" in admin_body
    assert "기준정보" in admin_body


def test_admin_keeps_and_adds_roles_without_error(client, session):
    from tests.factories import login, make_user

    admin = make_user("admin", email="roles-admin@example.com")
    staff = make_user("civic_staff", email="roles-staff@example.com")
    login(client, admin)
    response = client.post(
        f"/admin/users/{staff.id}", data={"roles": ["civic_staff", "budget_office"], "active": "y"}
    )
    assert response.status_code == 302
    session.expire_all()
    assert staff.role_set == {"civic_staff", "budget_office"}
    # An empty submission removes every role instead of failing.
    assert client.post(f"/admin/users/{staff.id}", data={"active": "y"}).status_code == 302
    session.expire_all()
    assert staff.role_set == frozenset()
