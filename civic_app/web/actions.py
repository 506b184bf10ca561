"""The one way a view runs a state-changing service call.

Every POST view does the same thing: call a service, commit, and on a domain error roll back
and show the error (on the form's fields when it has any, as a flash message otherwise). Views
call :func:`run` instead of repeating that block::

    outcome = run(lambda: services.withdraw(db.session, req, actor=current_user, now=now))
    if outcome.ok:
        flash(_("신청을 철회했습니다."), "success")
    return redirect(...)

Services never commit; :func:`run` is the only place a view's unit of work ends.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from flask import flash, request
from flask_login import current_user
from flask_wtf import FlaskForm

from civic_app.audit.services import record
from civic_app.errors import DomainError
from civic_app.extensions import db
from civic_app.web.forms import apply_domain_error

T = TypeVar("T")


@dataclass(frozen=True)
class Outcome(Generic[T]):
    ok: bool
    value: T | None = None
    error: DomainError | None = None


def error_text(error: DomainError) -> str:
    """All messages of a domain error as one line (field errors joined), for a flash."""
    messages = [str(message) for _field, message in getattr(error, "errors", None) or []]
    return " ".join(messages) or error.message


def run(
    call: Callable[[], T], *, form: FlaskForm | None = None, on_success: Callable[[T], Any] | None = None
) -> Outcome[T]:
    """Run ``call`` and commit. On a DomainError: roll back, then put the error on ``form``
    (or flash it when there is no form) and return a failed outcome. ``on_success`` runs with
    the call's result just before the commit (e.g. to read attributes the commit would expire)."""
    try:
        value = call()
        if on_success is not None:
            on_success(value)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        if form is not None:
            apply_domain_error(form, error)
        else:
            flash(error_text(error), "error")
        return Outcome(ok=False, error=error)
    return Outcome(ok=True, value=value)


def audit(
    action: str,
    *,
    now: dt.datetime,
    target_type: str | None = None,
    target_id: object = None,
    detail: dict | None = None,
) -> None:
    """Log that the signed-in user did ``action`` (with the request's IP address); the view's
    unit of work commits it, e.g. from ``run(..., on_success=...)``."""
    record(
        db.session,
        actor_id=current_user.id,
        action=action,
        now=now,
        target_type=target_type,
        target_id=target_id,
        detail=detail,
        ip=request.remote_addr,
    )
