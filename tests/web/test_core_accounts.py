"""Accounts: registration with consent, e-mail verification, password reset, sessions, limits."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import func, select

from civic_app import create_app
from civic_app.accounts.models import User
from civic_app.extensions import db, limiter
from civic_app.notify.models import CHANNEL_EMAIL, OutboxMessage
from tests import conftest
from tests.factories import PASSWORD, login, make_user

LINK_RE = re.compile(r"http://civic\.test(/account/(?:verify|reset)/\S+)")
REGISTER = {
    "name": "김시민",
    "email": "Kim.Citizen@Example.com",
    "phone": "01098765432",
    "password": "a-long-password-1",
    "password_confirm": "a-long-password-1",
    "privacy_consent": "y",
}


def _mails(kind: str) -> list[OutboxMessage]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.channel == CHANNEL_EMAIL, OutboxMessage.kind == kind)
            .order_by(OutboxMessage.id)
        )
    )


def _link(mail: OutboxMessage) -> str:
    match = LINK_RE.search(mail.payload["body"])
    assert match, mail.payload["body"]
    return match.group(1)


def _user(email: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == email))


# --- registration -------------------------------------------------------------------------


def test_register_without_consent_is_refused_and_creates_nothing(client, session):
    data = {k: v for k, v in REGISTER.items() if k != "privacy_consent"}
    response = client.post("/register", data=data)
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "개인정보 수집·이용에 동의해야 가입할 수 있습니다." in body
    assert db.session.scalar(select(func.count(User.id))) == 0
    assert _mails("account.verify") == []


def test_register_form_states_purpose_items_retention_and_right_to_refuse(client):
    body = client.get("/register").get_data(as_text=True)
    for words in ("수집 목적", "수집 항목", "보유 기간", "동의를 거부할 권리"):
        assert words in body
    # The required consent box is separate and not ticked in advance.
    box = re.search(r"<input[^>]*name=\"privacy_consent\"[^>]*>", body).group(0)
    assert "checked" not in box
    assert 'name="optional_consent"' in body


def test_register_bad_phone_gives_a_korean_message(client, session):
    response = client.post("/register", data={**REGISTER, "phone": "12345"})
    assert response.status_code == 400
    assert "휴대전화 번호 형식이 올바르지 않습니다" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(User.id))) == 0


def test_register_verify_email_then_the_link_is_spent(client, session):
    response = client.post("/register", data=REGISTER)
    assert response.status_code == 302
    user = _user("kim.citizen@example.com")
    assert user is not None
    assert user.role_set == {"citizen"}
    assert user.phone == "010-9876-5432"
    assert user.privacy_consent_at is not None
    assert user.privacy_consent_version
    assert user.optional_consent_at is None
    assert user.email_verified_at is None
    assert user.password_hash.startswith("$argon2id$")
    assert "a-long-password-1" not in user.password_hash

    [mail] = _mails("account.verify")
    assert mail.recipient == "kim.citizen@example.com"
    link = _link(mail)
    page = client.get(link)
    assert page.status_code == 200
    assert "이메일 주소가 확인되었습니다" in page.get_data(as_text=True)
    assert _user("kim.citizen@example.com").email_verified_at is not None
    again = client.get(link)
    assert again.status_code == 400
    assert "이미 사용했거나 올바르지 않은 링크입니다." in again.get_data(as_text=True)


def test_registering_a_known_address_answers_like_a_new_one_and_tells_the_owner(client, session):
    """Issue 12, finding 8e: the answer must not reveal whether an address is registered."""
    make_user("citizen", name="김원래", email="kim.citizen@example.com")
    session.commit()
    taken = client.post("/register", data=REGISTER)
    taken_page = client.get(taken.headers["Location"]).get_data(as_text=True)
    fresh = client.post("/register", data={**REGISTER, "email": "new.citizen@example.com"})
    fresh_page = client.get(fresh.headers["Location"]).get_data(as_text=True)
    assert (taken.status_code, taken.headers["Location"]) == (fresh.status_code, fresh.headers["Location"])
    assert taken_page == fresh_page
    assert "이미 가입된 이메일입니다." not in taken_page
    assert db.session.scalar(select(func.count(User.id)).where(User.email == "kim.citizen@example.com")) == 1
    [notice] = _mails("account.register_existing")
    assert notice.recipient == "kim.citizen@example.com"
    assert "가입하려고 했습니다" in notice.payload["body"]
    assert "/account/forgot" in notice.payload["body"]
    # No verification mail for the existing account; one for the new one.
    assert [m.recipient for m in _mails("account.verify")] == ["new.citizen@example.com"]
    # Repeating the attempt does not flood the owner's mailbox.
    client.post("/register", data=REGISTER)
    assert len(_mails("account.register_existing")) == 1


def test_csrf_token_is_rotated_at_login(csrf_app, session):
    user = make_user("citizen")
    session.commit()
    client = csrf_app.test_client()
    page = client.get("/login").get_data(as_text=True)
    before = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    with client.session_transaction() as sess:
        raw_before = sess["csrf_token"]
    response = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": before})
    assert response.status_code == 302
    with client.session_transaction() as sess:
        assert sess.get("csrf_token") != raw_before
    # The token from before sign-in no longer works for the signed-in session.
    assert client.post("/logout", data={"csrf_token": before}).status_code == 400
    page = client.get("/account").get_data(as_text=True)
    after = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/logout", data={"csrf_token": after}).status_code == 302


def test_tampered_verification_link_is_refused(client, session):
    client.post("/register", data=REGISTER)
    link = _link(_mails("account.verify")[0])
    response = client.get(link[:-3] + "xyz")
    assert response.status_code == 400
    assert "링크가 올바르지 않습니다." in response.get_data(as_text=True)
    assert _user("kim.citizen@example.com").email_verified_at is None


def test_optional_consent_is_recorded_separately(client, session):
    client.post("/register", data={**REGISTER, "optional_consent": "y"})
    assert _user("kim.citizen@example.com").optional_consent_at is not None


# --- sign-in ------------------------------------------------------------------------------


def test_wrong_password_is_refused_in_korean(client, session):
    user = make_user("citizen")
    session.commit()
    response = client.post("/login", data={"email": user.email, "password": "not-the-password"})
    assert response.status_code == 400
    assert "이메일 또는 비밀번호가 맞지 않습니다." in response.get_data(as_text=True)
    assert client.get("/account").status_code == 302


def test_unknown_account_gets_the_same_message(client, session):
    response = client.post("/login", data={"email": "nobody@example.com", "password": "whatever-1234"})
    assert response.status_code == 400
    assert "이메일 또는 비밀번호가 맞지 않습니다." in response.get_data(as_text=True)


def test_login_redirects_only_to_local_paths(client, session):
    user = make_user("citizen")
    session.commit()
    response = client.post("/login?next=//evil.example/x", data={"email": user.email, "password": PASSWORD})
    assert response.headers["Location"] == "/"
    client.post("/logout")
    response = client.post("/login?next=/account", data={"email": user.email, "password": PASSWORD})
    assert response.headers["Location"] == "/account"


def test_deactivated_account_cannot_sign_in(client, session):
    user = make_user("citizen", active=False)
    response = login(client, user)
    assert response.status_code == 400


def test_logout_ends_every_session_of_the_account(app, session):
    user = make_user("citizen")
    first, second = app.test_client(), app.test_client()
    login(first, user)
    login(second, user)
    assert second.get("/account").status_code == 200
    assert first.post("/logout").status_code == 302
    assert first.get("/account").status_code == 302
    assert second.get("/account").status_code == 302  # the other device is signed out too


def test_password_change_keeps_this_session_and_ends_the_others(app, session):
    user = make_user("citizen")
    here, elsewhere = app.test_client(), app.test_client()
    login(here, user)
    login(elsewhere, user)
    wrong = here.post(
        "/account/password",
        data={
            "current_password": "nope-nope-nope",
            "password": "brand-new-pass",
            "password_confirm": "brand-new-pass",
        },
    )
    assert wrong.status_code == 400
    assert "현재 비밀번호가 맞지 않습니다." in wrong.get_data(as_text=True)
    response = here.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "password": "brand-new-pass",
            "password_confirm": "brand-new-pass",
        },
    )
    assert response.status_code == 302
    assert here.get("/account").status_code == 200
    assert elsewhere.get("/account").status_code == 302
    fresh = app.test_client()
    assert login(fresh, user, "brand-new-pass").status_code == 302
    assert login(app.test_client(), user).status_code == 400  # the old password is gone


# --- password reset -----------------------------------------------------------------------


def test_password_reset_by_email_link(app, client, session):
    user = make_user("citizen", email="reset@example.com")
    other_device = app.test_client()
    login(other_device, user)
    response = client.post("/account/forgot", data={"email": "RESET@example.com"})
    assert response.status_code == 302
    [mail] = _mails("account.reset")
    assert mail.recipient == "reset@example.com"
    link = _link(mail)
    assert client.get(link).status_code == 200
    short = client.post(link, data={"password": "short", "password_confirm": "short"})
    assert short.status_code == 200
    assert "비밀번호는 10자 이상이어야 합니다." in short.get_data(as_text=True)
    done = client.post(link, data={"password": "reset-password-2", "password_confirm": "reset-password-2"})
    assert done.status_code == 302
    assert login(app.test_client(), user, "reset-password-2").status_code == 302
    assert other_device.get("/account").status_code == 302  # sessions ended with the change
    # The link works once: it is bound to the old password hash.
    spent = client.get(link, follow_redirects=True)
    assert "이미 사용했거나 올바르지 않은 링크입니다." in spent.get_data(as_text=True)


def test_password_reset_for_unknown_email_says_the_same_and_sends_nothing(client, session):
    response = client.post("/account/forgot", data={"email": "ghost@example.com"}, follow_redirects=True)
    assert "가입된 주소라면 비밀번호 재설정 메일을 보냈습니다." in response.get_data(as_text=True)
    assert _mails("account.reset") == []


# --- staff accounts -----------------------------------------------------------------------


def test_users_create_cli_reads_the_password_from_stdin(runner, session):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "Clerk@City.kr",
            "--role",
            "civic_staff",
            "--role",
            "admin",
            "--name",
            "이주무",
        ],
        input="clerk-password-1\n",
    )
    assert result.exit_code == 0, result.output
    user = _user("clerk@city.kr")
    assert user.role_set == {"civic_staff", "admin"}
    assert user.email_verified_at is not None
    client = runner.app.test_client()
    assert login(client, user, "clerk-password-1").status_code == 302


def test_users_create_cli_refuses_a_short_password(runner, session):
    result = runner.invoke(
        args=["users", "create", "x@city.kr", "--role", "civic_staff", "--name", "이주무"], input="short\n"
    )
    assert result.exit_code != 0
    assert "10자 이상" in result.output
    assert _user("x@city.kr") is None


def test_admin_creates_a_staff_account(client, session):
    admin = make_user("admin")
    login(client, admin)
    bad = client.post("/admin/users/new", data={"name": "", "email": "bad", "password": "x", "roles": []})
    assert bad.status_code == 400
    assert "이름을 입력해 주세요." in bad.get_data(as_text=True)
    response = client.post(
        "/admin/users/new",
        data={
            "name": "박주무",
            "email": "park@city.kr",
            "password": "staff-password-1",
            "roles": ["budget_office"],
        },
    )
    assert response.status_code == 302
    assert _user("park@city.kr").role_set == {"budget_office"}


# --- rate limits --------------------------------------------------------------------------


def _limited_app(**extra):
    return create_app(
        conftest.test_config(
            db.engine.url.render_as_string(hide_password=False),
            RATELIMIT_ENABLED=True,
            **{"RATELIMIT_STORAGE_URI": "memory://", **extra},
        )
    )


def _attempt(client, email: str, addr: str = "10.0.0.1") -> int:
    return client.post(
        "/login", data={"email": email, "password": "wrong-password"}, environ_base={"REMOTE_ADDR": addr}
    ).status_code


def test_login_is_rate_limited_per_account(session):
    make_user("citizen", email="target@example.com")
    session.commit()
    limited = _limited_app(LOGIN_RATE_LIMIT_ACCOUNT="3 per minute", LOGIN_RATE_LIMIT_ADDRESS="100 per minute")
    with limited.app_context():
        client = limited.test_client()
        assert [_attempt(client, "target@example.com", f"10.0.0.{i}") for i in range(3)] == [400] * 3
        # A fourth try on the same account is refused, whatever the address.
        assert _attempt(client, "target@example.com", "10.0.0.99") == 429
        assert _attempt(client, "TARGET@example.com", "10.0.0.98") == 429
        # Other accounts are not affected.
        assert _attempt(client, "someone-else@example.com", "10.0.0.99") == 400


def test_login_is_rate_limited_per_address(session):
    limited = _limited_app(LOGIN_RATE_LIMIT_ACCOUNT="100 per minute", LOGIN_RATE_LIMIT_ADDRESS="3 per minute")
    with limited.app_context():
        client = limited.test_client()
        assert [_attempt(client, f"u{i}@example.com", "10.0.0.7") for i in range(3)] == [400] * 3
        assert _attempt(client, "u9@example.com", "10.0.0.7") == 429
        assert _attempt(client, "u9@example.com", "10.0.0.8") == 400


def test_rate_limit_switch_is_per_app(app, client, session):
    """Building an app with limits on must not switch them on for the test app."""
    with _limited_app(LOGIN_RATE_LIMIT_ACCOUNT="1 per minute").app_context():
        pass
    statuses = {_attempt(client, "same@example.com") for _ in range(3)}
    assert statuses == {400}
    assert limiter.enabled


def test_login_limit_is_shared_through_redis(session):
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url).ping()
    except redis.exceptions.ConnectionError:
        pytest.fail("Redis is not reachable at 127.0.0.1:6379 (the suite needs it)")
    email = f"shared-{uuid.uuid4().hex[:8]}@example.com"
    cfg = {
        "RATELIMIT_STORAGE_URI": url,
        "LOGIN_RATE_LIMIT_ACCOUNT": "4 per minute",
        "LOGIN_RATE_LIMIT_ADDRESS": "1000 per minute",
    }
    first, second = _limited_app(**cfg), _limited_app(**cfg)
    a, b = first.test_client(), second.test_client()
    statuses = []
    for i in range(4):
        app_, client = (first, a) if i % 2 == 0 else (second, b)
        with app_.app_context():
            statuses.append(_attempt(client, email))
    assert statuses == [400] * 4
    with first.app_context():
        assert _attempt(a, email) == 429
    with second.app_context():
        assert _attempt(b, email) == 429


def test_register_keeps_only_a_supported_language_from_the_cookie(client, session):
    client.set_cookie("lang", "x" * 40)
    assert client.post("/register", data=REGISTER).status_code == 302
    assert _user("kim.citizen@example.com").locale is None


def test_register_records_the_chosen_language(client, session):
    client.set_cookie("lang", "en")
    assert client.post("/register", data=REGISTER).status_code == 302
    assert _user("kim.citizen@example.com").locale == "en"
