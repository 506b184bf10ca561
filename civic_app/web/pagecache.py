"""A short-lived cache of public pages for anonymous visitors.

Public pages (home, dong pages, the card scoreboard, feeds, the open-data API) are the same
for every anonymous visitor except for the CSRF token in the page shell. They are rendered
once per ``PUBLIC_PAGE_CACHE_SECONDS`` per process with a placeholder where the token goes;
each hit puts the visitor's own token in. Signed-in users, non-GET requests, responses other
than 200, pages with flashed messages and pages whose real token leaked past the placeholder
are never cached. Staff see their changes at once; the public sees them within the TTL.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from flask import Flask, Response, current_app, g, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from civic_app.web.i18n import select_locale
from civic_app.web.policy import policy_for_endpoint

PLACEHOLDER = "__civic_csrf_placeholder__"
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
KEPT_HEADERS = ("Content-Type", "ETag", "Last-Modified", "Cache-Control", "Content-Disposition", "Vary")


class _Store:
    """A bounded, thread-safe LRU of (expires, status, headers, body)."""

    def __init__(self, max_entries: int = 1000) -> None:
        self.max_entries = max_entries
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> tuple | None:
        with self._lock:
            hit = self._data.get(key)
            if hit is None:
                return None
            if hit[0] < time.monotonic():
                del self._data[key]
                return None
            self._data.move_to_end(key)
            return hit

    def set(self, key: tuple, value: tuple) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


def csrf_token_or_placeholder() -> str:
    """The Jinja ``csrf_token()``: the placeholder while a cacheable page renders."""
    if g.get("_render_for_cache"):
        return PLACEHOLDER
    return generate_csrf()


def _cacheable() -> bool:
    return (
        request.method == "GET"
        and not current_user.is_authenticated
        and "_flashes" not in session
        and current_app.config.get("PUBLIC_PAGE_CACHE_SECONDS", 0) > 0
    )


def _fill(body: str) -> str:
    return body.replace(PLACEHOLDER, generate_csrf()) if PLACEHOLDER in body else body


def cached(view: Callable, store: _Store) -> Callable:
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if not _cacheable():
            return view(*args, **kwargs)
        key = (
            request.endpoint,
            request.full_path,
            select_locale(),  # the locale's name, without parsing a babel Locale
            request.headers.get("HX-Request", ""),
            request.headers.get("HX-History-Restore-Request", ""),
        )
        hit = store.get(key)
        if hit is not None:
            _expires, status, headers, body = hit
            response = Response(_fill(body), status=status, headers=headers)
            return response.make_conditional(request)
        g._render_for_cache = True
        try:
            response = current_app.make_response(view(*args, **kwargs))
        finally:
            g._render_for_cache = False
        if response.direct_passthrough or response.is_streamed:
            return response
        body = response.get_data(as_text=True)
        real_token_used = "csrf_token" in g  # a form rendered Flask-WTF's own token
        if (
            response.status_code == 200
            and not real_token_used
            and "Set-Cookie" not in response.headers
            and "_flashes" not in session
        ):
            headers = [(k, v) for k, v in response.headers.items() if k in KEPT_HEADERS]
            ttl = current_app.config["PUBLIC_PAGE_CACHE_SECONDS"]
            store.set(key, (time.monotonic() + ttl, 200, headers, body))
        response.set_data(_fill(body))
        return response

    return wrapper


def init_app(app: Flask) -> None:
    """Wrap the public endpoints of the cached blueprints (call after every feature)."""
    store = _Store()
    app.extensions["civic_page_cache"] = store
    app.config.setdefault("PUBLIC_PAGE_CACHE_SECONDS", 5)
    app.jinja_env.globals["csrf_token"] = csrf_token_or_placeholder
    # Flask-WTF also injects csrf_token through a context processor; this later one wins.
    app.context_processor(lambda: {"csrf_token": csrf_token_or_placeholder})
    for endpoint, view in list(app.view_functions.items()):
        blueprint = endpoint.rpartition(".")[0]
        if blueprint not in CACHED_BLUEPRINTS or endpoint in NEVER_CACHED:
            continue
        policy = policy_for_endpoint(app, endpoint)
        if policy is None or policy.kind != "public":
            continue
        app.view_functions[endpoint] = cached(view, store)
