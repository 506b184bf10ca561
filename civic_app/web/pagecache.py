"""Rendered pages shared by every process and machine, keyed by the data versions.

Which pages: the public endpoints of the public blueprints (home, dong pages, the card
scoreboard, feeds, the open data) for anonymous visitors, and a few staff queues
(:data:`SIGNED_IN_CACHED`) per signed-in user. The key holds the code's build id, the page
(endpoint, path and query, language, htmx headers), the Seoul date, the user for the staff
queues, and every feature's data version (:mod:`civic_app.dataversions`): a write changes the
key at once, so nobody sees a stale page after a write, on any process. Entries also expire
after ``PAGE_CACHE_MAX_AGE`` seconds (time passing: an upcoming session becomes a past one).
``CACHE_PAGES=0`` turns every rendered-page cache off.

Pages are rendered with placeholders where the CSRF token goes; each request puts its own token
in. An anonymous visitor gets a token (and a session cookie) only when the page has a form that
needs one: the page shell's token (htmx header, language switch) is left empty otherwise (the
language switch then checks the request's origin, see ``accounts.set_language``).

Never cached: responses other than 200, pages with flashed messages, pages that set a cookie or
rendered a real token (a WTForms ``hidden_tag``), renders during which the request wrote rows.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from pathlib import Path

import click
from flask import Flask, Response, current_app, g, request, session
from flask.cli import AppGroup
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from civic_app import dataversions
from civic_app.timeutil import SEOUL, utcnow
from civic_app.web.cachestore import make_store
from civic_app.web.i18n import select_locale
from civic_app.web.policy import policy_for_endpoint

PLACEHOLDER = "__civic_csrf_placeholder__"
SHELL_PLACEHOLDER = "__civic_csrf_shell__"
CACHED_BLUEPRINTS = frozenset(
    {
        "public",
        "visits",
        "cards",
        "committee",
        "meetings",
        "calendar",
        "dashboard",
        "api",
        "cards_api",
        "committee_api",
        "dashboard_api",
        "meetings_api",
        "visits_api",
    }
)
# Public endpoints that must always be fresh or carry secrets in the URL.
NEVER_CACHED = frozenset({"public.healthz", "calendar.personal_feed"})
# Signed-in pages cached per user: the staff queues, read often, changed by writes only.
SIGNED_IN_CACHED = frozenset(
    {
        "meetings.review_queue",
        "cards_staff.queue_budget",
        "cards_staff.queue_department",
        "cards_staff.queue_policy",
    }
)
KEPT_HEADERS = ("Content-Type", "ETag", "Last-Modified", "Cache-Control", "Content-Disposition", "Vary")
ROOT = Path(__file__).resolve().parents[2]


@functools.cache
def build_id() -> str:
    """A digest of the code, templates and translations: a deploy changes every key."""
    digest = hashlib.blake2b(digest_size=8)
    for pattern in ("civic_app/**/*.py", "templates/**/*.html", "**/translations/**/*.mo"):
        for path in sorted(ROOT.glob(pattern)):
            if ".venv" in path.parts:
                continue
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


# --- CSRF tokens: placeholders filled per request --------------------------------------------------
def csrf_token_or_placeholder() -> str:
    """The Jinja ``csrf_token()`` of page content (forms): a placeholder while a cacheable page
    renders (filled with each visitor's own token)."""
    if g.get("_render_for_cache"):
        g._csrf_wanted = True
        return PLACEHOLDER
    return generate_csrf()


def shell_csrf_token() -> str:
    """The page shell's token (htmx header, language switch): filled after rendering, and only
    for visitors who need one (signed in, a session already, or a form on the page)."""
    if g.get("_render_for_cache"):
        return SHELL_PLACEHOLDER
    if _has_token_already():
        return generate_csrf()
    g._shell_placeholder = True
    return SHELL_PLACEHOLDER


def _field() -> str:
    return current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")


def _has_token_already() -> bool:
    return current_user.is_authenticated or _field() in session


def _fill(body: str, wanted: bool) -> str:
    if PLACEHOLDER not in body and SHELL_PLACEHOLDER not in body:
        return body
    token = generate_csrf() if wanted or _has_token_already() else ""
    return body.replace(PLACEHOLDER, token).replace(SHELL_PLACEHOLDER, token)


def _fill_shell_token(response: Response) -> Response:
    """after_request: pages rendered without the cache, whose shell waited for the verdict."""
    if not g.pop("_shell_placeholder", False) or response.direct_passthrough or response.is_streamed:
        return response
    body = response.get_data(as_text=True)
    if SHELL_PLACEHOLDER in body:
        response.set_data(_fill(body, _real_token_in(body)))  # a form on the page needs it
    return response


def _real_token_in(body: str) -> bool:
    """Whether the page holds this visitor's real token (a WTForms ``hidden_tag``). A form
    built by the view but not rendered also makes one (in ``g``): that does not count."""
    token = g.get(_field())
    return bool(token) and token in body


# --- the cache -----------------------------------------------------------------------------------
def _enabled() -> bool:
    return bool(current_app.config.get("CACHE_PAGES", True))


def _key(per_user: bool) -> str:
    versions = dataversions.current()  # read before any data the page shows
    parts = [
        build_id(),
        request.endpoint or "",
        request.full_path,
        select_locale(),
        request.headers.get("HX-Request", ""),
        request.headers.get("HX-History-Restore-Request", ""),
        utcnow().astimezone(SEOUL).date().isoformat(),
        str(current_user.get_id()) if per_user else "-",
        ",".join(f"{name}={value}" for name, value in sorted(versions.items())),
    ]
    return "page:" + hashlib.blake2b("\x1f".join(parts).encode(), digest_size=20).hexdigest()


def cached(view: Callable, store, *, per_user: bool) -> Callable:
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if (
            request.method != "GET"
            or not _enabled()
            or current_user.is_authenticated != per_user
            or "_flashes" in session
        ):
            return view(*args, **kwargs)
        key = _key(per_user)
        hit = store.get(key)
        if hit is not None:
            headers, body, wanted = hit
            response = Response(_fill(body, wanted), status=200, headers=headers)
            return response.make_conditional(request)
        g._render_for_cache = True
        g._csrf_wanted = False
        try:
            response = current_app.make_response(view(*args, **kwargs))
        finally:
            g._render_for_cache = False
        if response.direct_passthrough or response.is_streamed:
            return response
        body = response.get_data(as_text=True)
        wanted = bool(g.pop("_csrf_wanted", False))
        if (
            response.status_code == 200
            and not _real_token_in(body)  # a WTForms hidden_tag put this visitor's token in
            and "Set-Cookie" not in response.headers
            and "_flashes" not in session
            and not dataversions.wrote_uncommitted()
        ):
            headers = [(k, v) for k, v in response.headers.items() if k in KEPT_HEADERS]
            store.set(key, (headers, body, wanted), current_app.config.get("PAGE_CACHE_MAX_AGE", 300))
        response.set_data(_fill(body, wanted))
        return response

    return wrapper


def store_of(app: Flask):
    return app.extensions["civic_page_cache"]


cache_cli = AppGroup("cache", help="캐시 (rendered-page and reference-data caches).")


@cache_cli.command("clear")
def clear_command() -> None:
    """모든 캐시를 비웁니다 (new data versions for every feature, e.g. after editing data by hand)."""
    from civic_app.extensions import db

    dataversions.clear_all(db.session)
    db.session.commit()
    store_of(current_app).clear()
    click.echo("캐시를 비웠습니다 (every data version renewed).")


def init_app(app: Flask) -> None:
    """Wrap the cached endpoints (call after every feature has registered its views)."""
    store = make_store(app.config)
    app.extensions["civic_page_cache"] = store
    app.jinja_env.globals["csrf_token"] = csrf_token_or_placeholder
    app.jinja_env.globals["shell_csrf_token"] = shell_csrf_token
    # Flask-WTF also injects csrf_token through a context processor; this later one wins.
    app.context_processor(lambda: {"csrf_token": csrf_token_or_placeholder})
    app.after_request(_fill_shell_token)
    for endpoint, view in list(app.view_functions.items()):
        if endpoint in SIGNED_IN_CACHED:
            app.view_functions[endpoint] = cached(view, store, per_user=True)
            continue
        blueprint = endpoint.rpartition(".")[0]
        if blueprint not in CACHED_BLUEPRINTS or endpoint in NEVER_CACHED:
            continue
        policy = policy_for_endpoint(app, endpoint)
        if policy is None or policy.kind != "public":
            continue
        app.view_functions[endpoint] = cached(view, store, per_user=False)
