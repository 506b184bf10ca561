"""Static files with a content version in their URL, kept by browsers for a year.

Every ``url_for("static", filename=...)`` carries ``?v=`` and the first 12 hex digits of the
file's SHA-256. A request carrying the file's current version is answered with
``Cache-Control: public, max-age=31536000, immutable``: a phone loads the design system's
stylesheet, the web fonts and the scripts once, instead of revalidating each of them on every
page (ten conditional requests per page view before). A changed file gets a new URL, so nobody
keeps an old copy. A request without the current version (a font linked from inside a
stylesheet, a page rendered before a deploy) keeps Flask's ``no-cache``: revalidated, never
stale.
"""

from __future__ import annotations

import hashlib
import os

from flask import Flask, Response, request
from werkzeug.security import safe_join

YEAR = 365 * 24 * 3600
VERSION_ARG = "v"


class StaticVersions:
    """Content versions of the files under one static folder, recomputed when a file's size or
    modification time changes (a deploy, or an edit while developing)."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self._known: dict[str, tuple[tuple[int, int], str]] = {}

    def __call__(self, filename: str) -> str | None:
        path = safe_join(self.folder, filename)
        if path is None:
            return None
        try:
            stat = os.stat(path)
        except OSError:
            return None
        key = (stat.st_mtime_ns, stat.st_size)
        known = self._known.get(filename)
        if known is not None and known[0] == key:
            return known[1]
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 16), b""):
                digest.update(chunk)
        version = digest.hexdigest()[:12]
        self._known[filename] = (key, version)
        return version


def init_app(app: Flask) -> None:
    if not app.static_folder:
        return
    versions = StaticVersions(app.static_folder)
    app.extensions["static_versions"] = versions

    @app.url_defaults
    def _add_version(endpoint: str, values: dict) -> None:
        if endpoint == "static" and VERSION_ARG not in values and "filename" in values:
            version = versions(values["filename"])
            if version:
                values[VERSION_ARG] = version

    flask_default = app.get_send_file_max_age

    def get_send_file_max_age(filename: str | None) -> int | None:
        wanted = request.args.get(VERSION_ARG)
        if wanted and filename and wanted == versions(filename):
            return YEAR
        return flask_default(filename)

    app.get_send_file_max_age = get_send_file_max_age  # type: ignore[method-assign]

    @app.after_request
    def _immutable(response: Response) -> Response:
        if request.endpoint == "static" and response.cache_control.max_age == YEAR:
            response.cache_control.public = True
            response.cache_control.immutable = True
        return response
