"""Card pages: the two blueprints and what their views share.

The routes live in ``public_views`` (public card per dong, scoreboard), ``queue_views`` (staff
overview, review queues, the htmx review), ``item_views`` (the staff item page and its forms)
and ``budget_views`` (budget view, envelope, carry-over, settings, categories).

A POST runs its service through :func:`civic_app.web.actions.run` (see :func:`submit`).
Errors show one way: when the answer shows the form again, WTForms' and the service's errors
stand next to its fields (a service error without a field is a flash message); when the answer
is a redirect, :func:`run` flashes them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Blueprint, abort, flash, redirect
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response

from civic_app.cards import policy, queries
from civic_app.cards.models import (
    BUDGET_KIND_LABELS,
    CRITERIA,
    CRITERION_LABELS,
    MILESTONE_LABELS,
    PARTY_LABELS,
    RECOMMENDATION_LABELS,
    SOURCE_LABELS,
    STATUS_LABELS,
    CardPhoto,
)
from civic_app.dongs.models import Dong
from civic_app.errors import DomainError, ValidationFailed
from civic_app.extensions import db
from civic_app.storage import storage
from civic_app.timeutil import utcnow
from civic_app.web.actions import run
from civic_app.web.inputs import query_int
from civic_app.web.policy import ADMIN, BUDGET_OFFICE, CIVIC_STAFF, POLICY_OFFICE

CARD_ROLES = tuple(sorted(policy.CARD_ROLES))  # roles_required(*CARD_ROLES)
MANAGERS = (CIVIC_STAFF, BUDGET_OFFICE, POLICY_OFFICE, ADMIN)  # edit, merge and split items

bp = Blueprint("cards", __name__, url_prefix="/cards")
staff = Blueprint("cards_staff", __name__, url_prefix="/staff/cards")

T = TypeVar("T")


def page_arg() -> int:
    return query_int("page", 1)


def dong_or_404(code: str) -> Dong:
    dong = db.session.scalar(select(Dong).where(Dong.code == code, Dong.active.is_(True)))
    if dong is None:
        abort(404)
    return dong


def labels() -> dict:
    """The label tables every card template reads."""
    return {
        "STATUS_LABELS": STATUS_LABELS,
        "PARTY_LABELS": PARTY_LABELS,
        "CRITERIA": CRITERIA,
        "CRITERION_LABELS": CRITERION_LABELS,
        "RECOMMENDATION_LABELS": RECOMMENDATION_LABELS,
        "BUDGET_KIND_LABELS": BUDGET_KIND_LABELS,
        "SOURCE_LABELS": SOURCE_LABELS,
        "MILESTONE_LABELS": MILESTONE_LABELS,
    }


def acting() -> dict:
    """Who acts and when: the keyword arguments every card service takes."""
    return {"actor": current_user, "now": utcnow()}


# --- forms ------------------------------------------------------------------------------------


def error_status(error: DomainError) -> int:
    """The status of a page that shows a form again after ``error``."""
    return error.status_code if error.status_code in (400, 403, 409) else 400


def submit(
    form: FlaskForm,
    call: Callable[[], T],
    *,
    success: str | Callable[[T], str],
    to: Callable[[T], str],
    show_form: bool = True,
) -> Response | int:
    """Validate ``form``, then run ``call`` and commit (:func:`run`). On success flash
    ``success`` (or ``success(result)``) and return the redirect to ``to(result)``; otherwise the status to show
    the form again with (200 for a GET, 400, or the domain error's 403/409).

    ``show_form`` False: the answer will not show the form (a row of a table posts it), so
    its errors become a flash message like the service's."""
    if show_form and not form.validate_on_submit():
        if not form.is_submitted():
            return 200  # a GET: the form, empty or filled from the record
        db.session.rollback()
        return 400

    def checked_call() -> T:
        if not show_form:
            require_valid(form)
        return call()

    outcome = run(checked_call, form=form if show_form else None)
    if outcome.error is not None:
        return error_status(outcome.error)
    flash(success(outcome.value) if callable(success) else success, "success")
    return redirect(to(outcome.value))


def require_valid(form: FlaskForm) -> None:
    """Raise the errors of an invalid form as a ``ValidationFailed`` (for :func:`run`)."""
    if form.validate_on_submit():
        return
    errors = [(name, str(message)) for name, messages in form.errors.items() for message in messages]
    raise ValidationFailed(_("입력 내용을 확인해 주세요."), errors)


# --- photos -----------------------------------------------------------------------------------


def upload_dir() -> str:
    return storage().folder("card_photos")


def send_photo(photo: CardPhoto):
    return storage().send("card_photos", photo.stored_name, mimetype=photo.content_type)


def home_section() -> dict:
    counts = queries.status_counts(db.session)
    return {"template": "cards/_home.html", "counts": counts, "labels": STATUS_LABELS}
