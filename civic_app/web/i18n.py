"""Locale selection: an explicit choice (cookie or account) wins, Korean otherwise."""

from __future__ import annotations

from flask import current_app, request
from flask_login import current_user

LANG_COOKIE = "lang"


def select_locale() -> str:
    supported = current_app.config["LANGUAGES"]
    chosen = request.cookies.get(LANG_COOKIE) if request else None
    if chosen in supported:
        return chosen
    if current_user and current_user.is_authenticated:
        locale = getattr(current_user, "locale", None)
        if locale in supported:
            return locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]
