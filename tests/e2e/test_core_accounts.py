"""Accounts in a real browser (Debian's Chromium): register, verify, log in and out, language.

Every page visited is checked with axe-core: no serious or critical violations.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from civic_app.accounts.models import User
from civic_app.extensions import db
from civic_app.notify.models import OutboxMessage
from tests.e2e.conftest import assert_accessible
from tests.factories import PASSWORD, make_dong, make_user

pytestmark = pytest.mark.e2e

EMAIL = "browser.citizen@example.com"
NEW_PASSWORD = "browser-password-1"


def _verification_path(live_server: str) -> str:
    db.session.expire_all()
    mail = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.kind == "account.verify", OutboxMessage.recipient == EMAIL)
    )
    assert mail is not None, "no verification e-mail in the outbox"
    match = re.search(re.escape(live_server) + r"(/account/verify/\S+)", mail.payload["body"])
    assert match, mail.payload["body"]
    return match.group(1)


def _log_out(page) -> None:
    page.get_by_role("button", name=re.compile("로그아웃|Log out")).click()
    page.wait_for_load_state()


def test_register_verify_login_logout(page, live_server, session):
    make_dong("중앙동", code="4199051000")
    session.commit()
    page.goto(live_server + "/")
    assert page.locator("h1").first.is_visible()
    assert_accessible(page)

    page.get_by_role("link", name="회원가입").first.click()
    assert_accessible(page)
    page.get_by_label("이름", exact=True).fill("김브라우저")
    page.get_by_label("이메일", exact=True).fill(EMAIL)
    page.get_by_label("휴대전화").fill("010-2345-6789")
    page.get_by_label("비밀번호 (10자 이상)").fill(NEW_PASSWORD)
    page.get_by_label("비밀번호 확인").fill(NEW_PASSWORD)
    # Without the required consent the form comes back with a message and no account.
    page.get_by_role("button", name="가입하기").click()
    assert page.get_by_text("개인정보 수집·이용에 동의해야 가입할 수 있습니다.").first.is_visible()
    assert_accessible(page)
    db.session.expire_all()
    assert db.session.scalar(select(User).where(User.email == EMAIL)) is None

    page.get_by_label("비밀번호 (10자 이상)").fill(NEW_PASSWORD)
    page.get_by_label("비밀번호 확인").fill(NEW_PASSWORD)
    page.get_by_label("[필수] 개인정보 수집·이용에 동의합니다.").check()
    page.get_by_role("button", name="가입하기").click()
    # Registration signs nobody in (the answer must not tell whether the address was known).
    page.wait_for_url(re.compile(r"/login$"))
    assert page.get_by_text("가입 신청을 받았습니다.", exact=False).is_visible()
    assert_accessible(page)
    page.get_by_label("이메일").fill(EMAIL)
    page.get_by_label("비밀번호", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="로그인").click()
    page.get_by_role("link", name="내 계정").click()
    assert page.get_by_text("미확인").is_visible()
    assert_accessible(page)

    page.goto(live_server + _verification_path(live_server))
    assert page.get_by_text("이메일 주소가 확인되었습니다.").first.is_visible()
    assert_accessible(page)
    db.session.expire_all()
    assert db.session.scalar(select(User).where(User.email == EMAIL)).email_verified_at is not None

    _log_out(page)
    assert page.get_by_text("로그아웃했습니다.").is_visible()
    assert page.get_by_role("link", name="로그인").first.is_visible()

    page.get_by_role("link", name="로그인").first.click()
    assert_accessible(page)
    page.get_by_label("이메일").fill(EMAIL)
    page.get_by_label("비밀번호", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="로그인").click()
    page.get_by_text("로그인했습니다.").wait_for()
    assert page.get_by_text("로그인했습니다.").is_visible()
    page.get_by_role("link", name="내 계정").click()
    assert page.get_by_text("확인됨").is_visible()
    assert_accessible(page)
    _log_out(page)
    page.goto(live_server + "/account")
    assert "/login" in page.url


def test_wrong_password_shows_a_korean_message(page, live_server, session):
    user = make_user("citizen", email="wrong.pw@example.com")
    session.commit()
    page.goto(live_server + "/login")
    page.get_by_label("이메일").fill(user.email)
    page.get_by_label("비밀번호", exact=True).fill("not-the-password")
    page.get_by_role("button", name="로그인").click()
    error = page.get_by_text("이메일 또는 비밀번호가 맞지 않습니다.")
    error.wait_for()  # the click only starts the navigation: wait for the answer, then check
    assert error.is_visible()
    assert page.get_by_label("비밀번호", exact=True).get_attribute("aria-invalid") == "true"
    assert_accessible(page)
    page.get_by_label("비밀번호", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="로그인").click()
    page.get_by_text("로그인했습니다.").wait_for()
    assert page.get_by_text("로그인했습니다.").is_visible()


def test_language_switch_persists_across_pages(page, live_server, session):
    # expect(...) waits for the page the click leads to (a plain read could see the old one).
    page.goto(live_server + "/login")
    assert page.locator("html").get_attribute("lang") == "ko"
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert page.url.endswith("/login")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Sign up").first.click()
    expect(page.get_by_role("heading", name="Sign up")).to_be_visible()
    expect(page.get_by_text("Right to refuse")).to_be_visible()
    assert_accessible(page)
    page.goto(live_server + "/")
    assert page.locator("html").get_attribute("lang") == "en"
    assert_accessible(page)
    page.get_by_role("button", name="한국어").click()
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    expect(page.get_by_role("link", name="회원가입").first).to_be_visible()


def test_admin_pages_are_accessible(page, live_server, session):
    admin = make_user("admin", email="admin.browser@example.com")
    make_dong("중앙동", code="4199051000", contested_area=True)
    session.commit()
    page.goto(live_server + "/login")
    page.get_by_label("이메일").fill(admin.email)
    page.get_by_label("비밀번호", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="로그인").click()
    page.get_by_text("로그인했습니다.").wait_for()
    assert page.get_by_text("로그인했습니다.").is_visible()
    for path in ("/admin/dongs", "/admin/dongs/new", "/admin/hosts", "/admin/users", "/admin/workdays"):
        page.goto(live_server + path)
        assert page.locator("h1").first.is_visible()
        assert_accessible(page)
    page.goto(live_server + "/admin/dongs/new")
    page.get_by_label("행정동코드 (10자리)").fill("12ab")
    page.get_by_label("동 이름").fill("새빛동")
    page.get_by_role("button", name="저장").click()
    assert page.get_by_text("행정동코드는 숫자 10자리여야 합니다.").is_visible()
    assert_accessible(page)
