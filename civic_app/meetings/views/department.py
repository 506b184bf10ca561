"""Department accounts: the requests referred to them (a written answer to give) and their
follow-up actions."""

from __future__ import annotations

import datetime as dt

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from civic_app.extensions import db
from civic_app.meetings import outcomes, queries
from civic_app.meetings.base import get_request
from civic_app.meetings.forms import ActionForm, AnswerForm
from civic_app.meetings.models import FollowUp
from civic_app.meetings.views.common import bp, clock, finish_followup, save_answer
from civic_app.timeutil import SEOUL
from civic_app.web.actions import run
from civic_app.web.policy import DEPARTMENT, roles_required


def _department_request(request_id: int):
    """A request this department account may work on: referred to it, or with one of its
    follow-up actions; anything else is 404 (not even its existence is told)."""
    req = get_request(db.session, request_id)
    dept = current_user.department_id
    if dept is None or not (req.department_id == dept or any(f.department_id == dept for f in req.followups)):
        abort(404)
    return req


@bp.route("/department/tongtong")
@roles_required(DEPARTMENT)
def department_queue():
    now = clock()
    if current_user.department_id is None:
        work = queries.DepartmentWork([], [])
    else:
        work = queries.department_work(db.session, current_user.department_id, now)
    return render_template(
        "meetings/department_queue.html",
        work=work,
        now=now,
        today=now.astimezone(SEOUL).date(),
        answer_overdue=outcomes.answer_is_overdue,
    )


@bp.route("/department/tongtong/requests/<int:request_id>")
@roles_required(DEPARTMENT)
def department_request(request_id: int):
    req = _department_request(request_id)
    return _render_department_request(req, clock())


def _render_department_request(req, now: dt.datetime, status: int = 200, answer_form=None):
    return render_template(
        "meetings/department_request.html",
        req=req,
        now=now,
        today=now.astimezone(SEOUL).date(),
        answer_form=answer_form or AnswerForm(),
        action_form=ActionForm(),
        answer_overdue=outcomes.answer_is_overdue(req, now),
        mine=req.department_id == current_user.department_id,
        followups=[f for f in req.followups if f.department_id == current_user.department_id],
    ), status


@bp.route(
    "/department/tongtong/requests/<int:request_id>/answer/<any(interim, final):kind>", methods=["POST"]
)
@roles_required(DEPARTMENT)
def department_answer(request_id: int, kind: str):
    now = clock()
    req = _department_request(request_id)
    form = AnswerForm()
    if form.validate_on_submit() and run(lambda: save_answer(req, form, kind, now), form=form).ok:
        flash(_("저장했습니다. 시민에게 이메일로 알렸습니다."), "success")
        return redirect(url_for("meetings.department_request", request_id=request_id))
    return _render_department_request(req, now, 400, answer_form=form)


@bp.route("/department/tongtong/followups/<int:item_id>/done", methods=["POST"])
@roles_required(DEPARTMENT)
def department_followup_done(item_id: int):
    item = db.get_or_404(FollowUp, item_id)
    if item.department_id is None or item.department_id != current_user.department_id:
        abort(404)
    return finish_followup(item, url_for("meetings.department_queue"))
