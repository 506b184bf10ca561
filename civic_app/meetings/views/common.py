"""The 통통데이 blueprint and what its pages share: the clock, choices, and the two ways a POST
ends (see :func:`act` and ``civic_app.web.actions.run``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, redirect, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import Select

from civic_app import refdata
from civic_app.extensions import db
from civic_app.meetings import outcomes, queries
from civic_app.meetings.base import OFFICE_ROLES
from civic_app.meetings.forms import ActionForm
from civic_app.meetings.submission import MAX_ATTACHMENT_BYTES
from civic_app.meetings.texts import reason_label, route_label, status_label
from civic_app.storage import storage
from civic_app.timeutil import utcnow
from civic_app.web.actions import run
from civic_app.web.filters import format_datetime
from civic_app.web.inputs import query_int

bp = Blueprint("meetings", __name__)
STAFF = tuple(sorted(OFFICE_ROLES))  # roles_required(*STAFF): the office that runs 통통데이


def clock() -> dt.datetime:
    """The request's "now" (one name, so a test can pin the clock of every 통통데이 page)."""
    return utcnow()


@bp.app_context_processor
def _inject() -> dict:
    return {"tt": {"status_label": status_label, "route_label": route_label, "reason_label": reason_label}}


def upload_dir() -> str:
    return storage().folder("meeting_uploads")


def dong_choices() -> list[tuple[int, str]]:
    return [(0, _("(선택 안 함)"))] + [(d.id, d.name) for d in refdata.dongs()]  # per-process cache


def dept_choices(blank: bool = True) -> list[tuple[int, str]]:
    return ([(0, _("(없음)"))] if blank else []) + [(d.id, d.name) for d in refdata.departments()]


def session_choices(now: dt.datetime) -> list[tuple[int, str]]:
    return [(r.session.id, session_label(r)) for r in queries.upcoming_sessions(db.session, now, limit=8)]


def session_label(row: queries.SessionRow) -> str:
    return f"{format_datetime(row.session.start_at)} · " + _("남은 자리 %(n)d", n=row.free)


def offer_sessions(form, now: dt.datetime) -> dict[int, queries.SessionRow]:
    """Fill the request form's session choices; the rows (date, place, seats) by session id
    for the session cards the form shows."""
    rows = queries.upcoming_sessions(db.session, now, limit=8)
    form.preferred_sessions.choices = [(r.session.id, session_label(r)) for r in rows]
    return {r.session.id: r for r in rows}


def request_kwargs(form) -> dict:
    """What the request form (a citizen's, or staff logging a walk-in) gives ``submit_request``."""
    file = form.attachment.data
    attachment = None
    if file is not None and getattr(file, "filename", ""):
        attachment = (file.filename, file.read(MAX_ATTACHMENT_BYTES + 1))
    return {
        "topic": form.topic.data or "",
        "category": form.category.data,
        "desired_outcome": form.desired_outcome.data or "",
        "dong_id": form.dong_id.data or None,
        "is_group": form.is_group.data,
        "party_size": form.party_size.data or 1,
        "preferred_session_ids": list(form.preferred_sessions.data or []),
        "accessibility": form.accessibility.data,
        "consent": form.consent.data,
        "publish_consent": form.publish_consent.data,
        "attachment": attachment,
        "upload_dir": upload_dir(),
    }


def period() -> tuple[dt.date | None, dt.date | None]:
    """?from=YYYY-MM-DD&to=YYYY-MM-DD of the statistics pages (anything else: the default)."""

    def day(name: str) -> dt.date | None:
        try:
            value = dt.date.fromisoformat(request.args.get(name, ""))
        except ValueError:
            return None
        return value if dt.date(2000, 1, 1) <= value <= dt.date(2100, 12, 31) else None

    return day("from"), day("to")


def form_status() -> int:
    """A form page answers 400 when it comes back from a POST (with its errors), else 200."""
    return 400 if request.method == "POST" else 200


def paginate(query: Select, per_page: int):
    """``db.paginate`` of ``?page=``; a page past the end shows the last page."""
    page = db.paginate(query, page=query_int("page", 1), per_page=per_page, error_out=False)
    if page.page > page.pages > 0:
        page = db.paginate(query, page=page.pages, per_page=per_page, error_out=False)
    return page


def form_error_text(form: FlaskForm) -> str:
    return " ".join(str(message) for messages in form.errors.values() for message in messages)


def act(
    form: FlaskForm,
    call: Callable[[], Any],
    done: str | Callable[[Any], str],
    back: str,
    *,
    invalid: str | None = None,
):
    """A button or small form of a page it does not render (a list, the request's status):
    run ``call`` and go ``back`` to that page with one flash, the success (``done``, or
    ``done(result)``), the domain error, or the form's own errors (``invalid`` replaces them)."""
    if not form.validate_on_submit():
        flash(invalid or form_error_text(form) or _("요청이 올바르지 않습니다."), "error")
        return redirect(back)
    outcome = run(call)
    if outcome.ok:
        flash(done(outcome.value) if callable(done) else done, "success")
    return redirect(back)


def save_answer(req, form, kind: str, now: dt.datetime) -> None:
    """The answer form (staff or the department): an interim answer with a new deadline, or the
    final answer."""
    if kind == "interim":
        outcomes.record_interim(
            db.session, req, text=form.text.data, new_due=form.new_due.data, actor=current_user, now=now
        )
    else:
        outcomes.record_answer(db.session, req, text=form.text.data, actor=current_user, now=now)


def finish_followup(item, back: str):
    """The "done" button of a follow-up action (staff, or the department that owns it)."""
    return act(
        ActionForm(),
        lambda: outcomes.complete_followup(db.session, item, note="", actor=current_user, now=clock()),
        _("후속 조치를 완료로 바꿨습니다."),
        back,
    )


def home_section() -> dict:
    """The public home page block: the next sessions and their free places."""
    return {
        "template": "meetings/_home.html",
        "tt_sessions": queries.upcoming_sessions(db.session, clock(), limit=3),
    }
