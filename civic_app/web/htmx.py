"""One URL serves a page or, for htmx requests, its fragment."""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import Response, make_response, render_template, request


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true" and (
        request.headers.get("HX-History-Restore-Request") != "true"
    )


def varies_on_htmx(response: Response) -> Response:
    """Mark an answer that depends on the HX-Request header, so caches keep page and fragment apart."""
    response.vary.add("HX-Request")
    return response


def htmx_view(view: Callable) -> Callable:
    """Decorate a view that answers htmx requests differently: every answer carries
    ``Vary: HX-Request``, redirects included."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        return varies_on_htmx(make_response(view(*args, **kwargs)))

    return wrapper


def render_page_or_fragment(page: str, fragment: str, status: int = 200, **context):
    """Render ``fragment`` for htmx requests and ``page`` (which includes it) otherwise."""
    template = fragment if is_htmx() else page
    return varies_on_htmx(make_response(render_template(template, **context), status))
