"""Retention purge: citizens idle past the retention period are anonymised, nothing else is."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from civic_app.accounts.models import User
from civic_app.accounts.services import verify_password
from civic_app.audit.models import AuditLog
from civic_app.cards.items import create_item
from civic_app.notify.models import OutboxMessage
from civic_app.notify.services import enqueue_email, enqueue_telegram
from civic_app.privacy import services
from civic_app.privacy.services import ANONYMOUS_NAME, run_purge
from tests.factories import NOW, PASSWORD, make_dong, make_user

DAYS = 3 * 365
OLD = NOW - dt.timedelta(days=DAYS + 10)
RECENT = NOW - dt.timedelta(days=30)


def _citizen(email: str, created: dt.datetime, last_login: dt.datetime | None = None) -> User:
    user = make_user("citizen", email=email, name="김민원", phone="010-9876-5432")
    user.created_at = created
    user.last_login_at = last_login
    return user


def test_idle_citizen_is_anonymised_and_active_ones_are_not(session):
    idle = _citizen("idle@example.com", OLD)
    returning = _citizen("back@example.com", OLD, last_login=RECENT)
    new = _citizen("new@example.com", RECENT)
    staff = make_user("civic_staff", email="staff@example.com", name="이직원")
    staff.created_at = OLD

    report = run_purge(session, now=NOW, retention_days=DAYS)

    assert report.counts["users"] == 1
    assert idle.name == ANONYMOUS_NAME
    assert idle.phone is None
    assert "idle@example.com" not in idle.email
    assert idle.anonymized_at == NOW
    assert not idle.is_active
    for kept, email in ((returning, "back@example.com"), (new, "new@example.com")):
        assert kept.email == email
        assert kept.name == "김민원"
        assert kept.anonymized_at is None
    assert staff.name == "이직원"
    audit = session.scalars(select(AuditLog).where(AuditLog.action == services.PURGE_ACTION)).one()
    assert audit.detail["counts"]["users"] == 1


def test_dry_run_changes_nothing(session):
    idle = _citizen("idle@example.com", OLD)
    report = run_purge(session, now=NOW, retention_days=DAYS, dry_run=True)
    assert report.counts["users"] == 1
    assert idle.email == "idle@example.com"
    assert idle.anonymized_at is None
    assert session.scalar(select(func.count(AuditLog.id))) == 0


def test_recent_row_referencing_the_citizen_keeps_them(session):
    """A card item (or meeting request) they raised recently counts as activity."""
    dong = make_dong()
    citizen = _citizen("raised@example.com", OLD)
    create_item(
        session,
        dong_id=dong.id,
        title="가로등 설치",
        description="",
        category="road",
        source_kind="walk_in",
        actor_id=citizen.id,
        now=RECENT,
    )
    report = run_purge(session, now=NOW, retention_days=DAYS)
    assert report.counts["users"] == 0
    assert citizen.anonymized_at is None


def test_public_record_survives_the_purge(session):
    dong = make_dong()
    citizen = _citizen("raised@example.com", OLD)
    item = create_item(
        session,
        dong_id=dong.id,
        title="버스정류장 그늘막",
        description="여름철 그늘막 요청",
        category="road",
        source_kind="walk_in",
        actor_id=citizen.id,
        now=OLD,
    )
    post = enqueue_telegram(
        session,
        kind="visit.published",
        payload={"title": "현장소통", "summary": "요약", "url": "/visits/1"},
        dedupe_key="post-1",
        now=OLD,
    )
    post.status = "sent"
    mail = enqueue_email(
        session,
        to="raised@example.com",
        subject="안내",
        body="김민원님께",
        kind="x",
        dedupe_key="m1",
        now=OLD,
    )
    mail.status = "sent"
    pending = enqueue_email(
        session, to="raised@example.com", subject="안내", body="대기", kind="x", dedupe_key="m2", now=OLD
    )
    report = run_purge(session, now=NOW, retention_days=DAYS)
    session.flush()
    session.expire_all()
    assert report.counts["users"] == 1
    assert report.counts["email_outbox"] == 1
    kept = session.get(type(item), item.id)
    assert (kept.title, kept.description, kept.created_by_id) == (
        "버스정류장 그늘막",
        "여름철 그늘막 요청",
        citizen.id,
    )
    assert session.get(OutboxMessage, post.id).payload["title"] == "현장소통"
    sent = session.get(OutboxMessage, mail.id)
    assert "raised@example.com" not in (sent.recipient or "")
    assert "김민원" not in str(sent.payload)
    # A message not yet delivered is left for the sender (it is not past its purpose yet).
    assert session.get(OutboxMessage, pending.id).recipient == "raised@example.com"


def test_registered_purger_runs_with_dry_run_flag(session):
    calls = []

    def fake(sess, cutoff, now, dry_run):
        calls.append((cutoff, now, dry_run))
        return 7

    services.register_purger("test_fake", fake)
    try:
        report = run_purge(session, now=NOW, retention_days=10, dry_run=True)
    finally:
        services._purgers.pop("test_fake")
    assert report.counts["test_fake"] == 7
    assert calls == [(NOW - dt.timedelta(days=10), NOW, True)]


def test_purge_is_idempotent(session):
    _citizen("idle@example.com", OLD)
    assert run_purge(session, now=NOW, retention_days=DAYS).counts["users"] == 1
    assert run_purge(session, now=NOW, retention_days=DAYS).counts["users"] == 0


@pytest.fixture
def one_year_retention(app):
    app.config["PRIVACY_RETENTION_DAYS"] = 365
    yield
    app.config["PRIVACY_RETENTION_DAYS"] = DAYS


@pytest.mark.usefixtures("one_year_retention")
def test_cli_dry_run_then_purge_and_login_refused(runner, client, session):
    idle = _citizen("idle@example.com", dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    session.commit()

    result = runner.invoke(args=["privacy", "purge", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "dry run" in result.output
    assert "시민 계정 (users): 1건 대상" in result.output
    session.expire_all()
    assert session.get(User, idle.id).email == "idle@example.com"

    result = runner.invoke(args=["privacy", "purge"])
    assert result.exit_code == 0, result.output
    assert "시민 계정 (users): 1건 익명화" in result.output
    session.expire_all()
    purged = session.get(User, idle.id)
    assert purged.anonymized_at is not None
    response = client.post("/login", data={"email": "idle@example.com", "password": PASSWORD})
    assert response.status_code == 400
    assert not verify_password(purged, PASSWORD)
    assert not verify_password(purged, "!")


def _meeting_request(session, code: str, status: str, at: dt.datetime, requester: User | None = None):
    from civic_app.meetings.models import MeetingRequest

    request = MeetingRequest(
        code=code,
        requester_id=requester.id if requester else None,
        requester_name="박신청",
        requester_phone="010-5555-6666",
        requester_email="applicant@example.com",
        topic="통학로 안전",
        category="안전",
        desired_outcome="면담을 원합니다.",
        accessibility="휠체어 사용",
        consent_at=at,
        consent_version="2026-11",
        status=status,
        queue_since=at,
        public_summary="통학로 안전 대책을 마련하기로 했습니다.",
        created_at=at,
        updated_at=at,
    )
    session.add(request)
    session.flush()
    return request


def test_meeting_requests_past_retention_lose_contact_details(session):
    old = _meeting_request(session, "TT-2020-0001", "answered", OLD)
    waiting = _meeting_request(session, "TT-2020-0002", "submitted", OLD)
    recent = _meeting_request(session, "TT-2026-0003", "answered", RECENT)

    dry = run_purge(session, now=NOW, retention_days=DAYS, dry_run=True)
    assert dry.counts["meetings"] == 1
    assert old.requester_phone == "010-5555-6666"

    report = run_purge(session, now=NOW, retention_days=DAYS)
    session.expire_all()
    assert report.counts["meetings"] == 1
    assert (old.requester_name, old.requester_phone, old.requester_email, old.accessibility) == (
        ANONYMOUS_NAME,
        None,
        None,
        None,
    )
    # The public record of what was asked and decided stays.
    assert (old.topic, old.public_summary, old.status) == (
        "통학로 안전",
        "통학로 안전 대책을 마련하기로 했습니다.",
        "answered",
    )
    assert waiting.requester_phone == "010-5555-6666"
    assert recent.requester_email == "applicant@example.com"
    assert run_purge(session, now=NOW, retention_days=DAYS).counts["meetings"] == 0


def test_citizen_with_a_recent_meeting_request_is_kept(session):
    citizen = _citizen("asker@example.com", OLD)
    _meeting_request(session, "TT-2026-0009", "answered", RECENT, requester=citizen)
    assert run_purge(session, now=NOW, retention_days=DAYS).counts["users"] == 0
    assert citizen.anonymized_at is None


def test_consent_text_states_the_configured_retention(app, client):
    """The sign-up consent names the period the purge applies (개인정보보호법: 보유 기간)."""
    years = app.config["PRIVACY_RETENTION_DAYS"] // 365
    body = client.get("/register").get_data(as_text=True)
    assert f"{years}년" in body
    assert "보유 기간" in body
