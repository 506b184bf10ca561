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


TRANSLATIONS_KEY = "_civic_translations"


def _translations(context):
    found = context.get(TRANSLATIONS_KEY)
    if found is None:  # a macro imported without context, a template rendered by hand
        from flask_babel import get_translations

        return get_translations()
    return found


def init_app(app) -> None:
    """Template gettext that finds the translations once per render, not once per string.

    Flask-Babel's template functions look the translations up through its request context on
    every call (~20 µs, more than the translation); a table of 50 rows calls them hundreds of
    times. Here a context processor puts the translations (of the locale in force when the
    template is rendered, ``force_locale`` included) into the render context, and the
    template functions read them from there."""
    from flask_babel import get_translations
    from jinja2 import pass_context

    app.context_processor(lambda: {TRANSLATIONS_KEY: get_translations()})

    @pass_context
    def gettext(context, string):
        return _translations(context).ugettext(string)

    @pass_context
    def ngettext(context, singular, plural, n):
        return _translations(context).ungettext(singular, plural, n)

    @pass_context
    def pgettext(context, message_context, string):
        return _translations(context).upgettext(message_context, string)

    @pass_context
    def npgettext(context, message_context, singular, plural, n):
        return _translations(context).unpgettext(message_context, singular, plural, n)

    app.jinja_env.install_gettext_callables(
        gettext=gettext, ngettext=ngettext, newstyle=True, pgettext=pgettext, npgettext=npgettext
    )
