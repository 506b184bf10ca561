"""Public 통통데이 pages and the citizen's own requests."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from civic_app.extensions import db
from civic_app.meetings import queries, submission
from civic_app.meetings.base import get_request
from civic_app.meetings.forms import ActionForm, OtherSessionForm, RequestForm
from civic_app.meetings.views.common import (
    act,
    bp,
    clock,
    dong_choices,
    form_status,
    offer_sessions,
    period,
    request_kwargs,
    session_choices,
)
from civic_app.web.actions import run
from civic_app.web.htmx import render_page_or_fragment
from civic_app.web.policy import public, signed_in


# --- public ----------------------------------------------------------------------------------------
@bp.route("/tongtong")
@public
def public_index():
    now = clock()
    return render_template(
        "meetings/public_index.html",
        sessions=queries.upcoming_sessions(db.session, now, limit=6),
        summaries=queries.public_summaries(db.session, limit=10),
        stats=queries.headline_stats(db.session, now),
    )


@bp.route("/tongtong/summaries/<int:request_id>")
@public
def summary(request_id: int):
    req = get_request(db.session, request_id)
    if not (req.publish_consent and req.public_summary):
        abort(404)
    return render_template("meetings/summary.html", req=req)


@bp.route("/tongtong/stats")
@public
def public_stats():
    stats = queries.statistics_for(db.session, clock(), *period())
    return render_template("meetings/stats.html", stats=stats, staff=False, overdue=[])


# --- the citizen's requests ------------------------------------------------------------------------
@bp.route("/tongtong/requests")
@signed_in
def my_requests():
    return render_template("meetings/my_requests.html", rows=queries.my_requests(db.session, current_user.id))


@bp.route("/tongtong/requests/new", methods=["GET", "POST"])
@signed_in
def new_request():
    now = clock()
    form = RequestForm()
    form.dong_id.choices = dong_choices()
    session_rows = offer_sessions(form, now)
    if form.validate_on_submit():
        # the code is read before the commit expires the request (a reload costs 4 queries)
        outcome = run(
            lambda: (
                submission.submit_request(
                    db.session, actor=current_user, now=now, **request_kwargs(form)
                ).code
            ),
            form=form,
        )
        if outcome.ok:
            flash(_("신청을 접수했습니다. 신청 번호는 %(code)s입니다.", code=outcome.value), "success")
            return redirect(url_for("meetings.request_status", code=outcome.value))
    return render_template(
        "meetings/request_form.html", form=form, walk_in=False, session_rows=session_rows
    ), form_status()


def _other_session_form(now) -> OtherSessionForm:
    form = OtherSessionForm()
    form.session_id.choices = session_choices(now)
    return form


def _own_request(code: str):
    req = queries.request_by_code(db.session, code)
    if req is None or req.requester_id != current_user.id:
        abort(404)
    return req


@bp.route("/tongtong/requests/<code>")
@signed_in
def request_status(code: str):
    now = clock()
    req = _own_request(code)
    return render_template(
        "meetings/request_status.html",
        req=req,
        queue=queries.queue_info(db.session, req, now),
        other_form=_other_session_form(now),
        action_form=ActionForm(),
    )


@bp.route("/tongtong/requests/<code>/withdraw", methods=["GET", "POST"])
@signed_in
def withdraw(code: str):
    """GET: the confirmation (a page without JS, a dialog fragment for htmx); POST: withdraw."""
    req = _own_request(code)
    form = ActionForm()
    if request.method == "GET":
        return render_page_or_fragment(
            "meetings/withdraw_confirm.html", "meetings/_withdraw_dialog.html", req=req, action_form=form
        )
    return act(
        form,
        lambda: submission.withdraw(db.session, req, actor=current_user, now=clock()),
        _("신청을 철회했습니다."),
        url_for("meetings.request_status", code=code),
    )


@bp.route("/tongtong/requests/<code>/session", methods=["POST"])
@signed_in
def other_session(code: str):
    now = clock()
    req = _own_request(code)
    form = _other_session_form(now)

    def done(result: str) -> str:
        if result == "requested":
            return _("회차 변경을 요청했습니다. 담당자가 확인할 때까지 지금 예약은 그대로입니다.")
        return _("희망 회차를 바꿨습니다.")

    return act(
        form,
        lambda: submission.ask_other_session(
            db.session, req, session_id=form.session_id.data, actor=current_user, now=now
        ),
        done,
        url_for("meetings.request_status", code=code),
        invalid=_("고를 수 없는 회차입니다."),
    )
