"""One URL serves a page or, for htmx, its fragment (never for a history restore)."""

from __future__ import annotations

from jinja2 import DictLoader

from civic_app import create_app
from civic_app.web.htmx import render_page_or_fragment
from civic_app.web.policy import public
from tests import conftest


def _app():
    other = create_app(conftest.test_config("sqlite://"))
    other.jinja_loader = DictLoader(
        {
            "page.html": "<html><body>PAGE {% include 'fragment.html' %}</body></html>",
            "fragment.html": "<p>FRAG</p>",
        }
    )

    @other.route("/__htmx")
    @public
    def view():
        return render_page_or_fragment("page.html", "fragment.html")

    return other


def test_plain_request_gets_the_page():
    response = _app().test_client().get("/__htmx")
    assert "PAGE" in response.get_data(as_text=True)
    assert "HX-Request" in response.headers["Vary"]


def test_htmx_request_gets_the_fragment():
    response = _app().test_client().get("/__htmx", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert body == "<p>FRAG</p>"
    assert "HX-Request" in response.headers["Vary"]


def test_history_restore_gets_the_page():
    response = (
        _app()
        .test_client()
        .get("/__htmx", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    )
    assert "PAGE" in response.get_data(as_text=True)


def test_htmx_is_vendored_and_configured_for_the_csp(client):
    body = client.get("/").get_data(as_text=True)
    assert "/static/js/htmx-2.0.8.min.js" in body
    assert '"allowEval": false' in body
    assert '"includeIndicatorStyles": false' in body
    assert client.get("/static/js/htmx-2.0.8.min.js").status_code == 200
