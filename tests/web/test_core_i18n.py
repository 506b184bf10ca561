"""Korean first, a complete English translation, and a language switch that persists."""

from __future__ import annotations

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from flask_babel import gettext

from civic_app import ROOT, create_app
from civic_app.extensions import babel
from tests import conftest
from tests.factories import login, make_user


def test_korean_is_the_default(client):
    body = client.get("/").get_data(as_text=True)
    assert '<html lang="ko">' in body
    assert "본문 바로가기" in body


def test_english_ui_with_the_language_cookie(client):
    client.set_cookie("lang", "en")
    body = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in body
    assert "Skip to content" in body
    assert "Forgot your password?" in body
    assert "비밀번호를 잊으셨나요?" not in body


def test_language_switch_persists_across_pages(client):
    response = client.post("/lang", data={"lang": "en", "next": "/register"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/register"
    for path in ("/register", "/", "/account/forgot"):
        body = client.get(path).get_data(as_text=True)
        assert '<html lang="en">' in body, path
    client.post("/lang", data={"lang": "ko", "next": "/"})
    assert '<html lang="ko">' in client.get("/").get_data(as_text=True)


def test_language_switch_refuses_other_targets(client):
    response = client.post("/lang", data={"lang": "en", "next": "https://evil.example/"})
    assert response.headers["Location"] == "/"


def test_signed_in_users_keep_their_language(app, client, session):
    user = make_user("citizen")
    login(client, user)
    client.post("/lang", data={"lang": "en", "next": "/"})
    session.expire_all()
    assert user.locale == "en"
    other = app.test_client()  # a new browser without the cookie
    login(other, user)
    assert '<html lang="en">' in other.get("/account").get_data(as_text=True)


def test_english_error_messages(client):
    client.set_cookie("lang", "en")
    assert "Page not found." in client.get("/no-such-page").get_data(as_text=True)
    api = client.get("/api/v1/dongs?per_page=0").get_json()
    assert api["error"]["message"] == "per_page must be between 1 and 500."


def test_feature_catalogs_from_several_directories_are_merged(tmp_path):
    """Each feature keeps its own catalog; Flask-Babel merges every directory listed."""
    feature_dir = tmp_path / "translations"
    lc = feature_dir / "en" / "LC_MESSAGES"
    lc.mkdir(parents=True)
    catalog = Catalog(locale="en")
    catalog.add("기능 전용 문구", "A feature-only phrase")
    with (lc / "messages.mo").open("wb") as fh:
        write_mo(fh, catalog)
    dirs = f"{ROOT / 'translations'};{feature_dir}"
    other = create_app(conftest.test_config("sqlite://", BABEL_TRANSLATION_DIRECTORIES=dirs))
    try:
        with other.test_request_context("/", headers={"Cookie": "lang=en"}):
            assert gettext("기능 전용 문구") == "A feature-only phrase"
            assert gettext("본문 바로가기") == "Skip to content"
        with other.test_request_context("/"):
            assert gettext("기능 전용 문구") == "기능 전용 문구"
    finally:
        babel.domain_instance.cache.clear()  # the catalog cache is process-wide


def test_the_app_lists_every_feature_catalog_directory(app):
    from civic_app.features import FEATURES

    dirs = app.config["BABEL_TRANSLATION_DIRECTORIES"].split(";")
    assert dirs[0] == str(ROOT / "translations")
    for feature in FEATURES:
        path = ROOT / "civic_app" / feature / "translations"
        if path.is_dir():
            assert str(path) in dirs
