"""The benchmark's baseline: the least a Flask app can do for a page of a given size.

``GET /<n>`` returns a precomputed HTML body of exactly ``n`` bytes. It runs under the same
gunicorn settings as civic_app, so the ratio of throughputs says how much of the framework's
limit the real pages reach on this machine.

    gunicorn -w 2 -b 127.0.0.1:8001 'bench.baseline_app:create_app()'
"""

from __future__ import annotations

import functools

from flask import Flask, Response

CHUNK = "<p>시민소통실 기준 페이지 baseline page.</p>\n"


@functools.lru_cache(maxsize=64)
def page(size: int) -> bytes:
    head = b"<!doctype html><html lang=ko><meta charset=utf-8><title>baseline</title><body>\n"
    body = (CHUNK * (size // max(1, len(CHUNK.encode())) + 1)).encode()
    return (head + body)[:size]


def create_app() -> Flask:
    app = Flask(__name__)

    @app.get("/<int:size>")
    def sized(size: int) -> Response:
        return Response(page(min(size, 8_000_000)), content_type="text/html; charset=utf-8")

    return app
