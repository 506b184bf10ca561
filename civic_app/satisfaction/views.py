"""The survey page (no sign-in: the signed link is the key) and the staff page of answers."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.routing import BuildError

from civic_app.accounts.roles import CIVIC_OFFICE_ROLES
from civic_app.extensions import db
from civic_app.satisfaction import queries, services
from civic_app.satisfaction.forms import PublishForm, SurveyForm
from civic_app.satisfaction.models import PROCESS_LABELS, PROCESSES, SurveyResponse
from civic_app.timeutil import utcnow
from civic_app.web.actions import run
from civic_app.web.forms import field_values
from civic_app.web.inputs import query_int
from civic_app.web.policy import public, roles_required

bp = Blueprint("satisfaction", __name__)
staff = Blueprint("satisfaction_staff", __name__, url_prefix="/staff/satisfaction")

STAFF_ROLES = tuple(sorted(CIVIC_OFFICE_ROLES))  # the civic office runs the survey
# Where staff read the subject of an answer: prefix of ``subject_ref`` -> (endpoint, argument).
SUBJECT_PAGES = {
    "meeting": ("meetings.review_detail", "request_id"),
    "card": ("cards_staff.item", "item_id"),
}


def _private(response):
    """The token is in the URL: never cache the page, never send it on as a Referer."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _closed_page(closed: services.SurveyClosed, status: int):
    page = render_template("satisfaction/closed.html", closed=closed, invitation=closed.invitation)
    return _private(make_response(page, status))


@bp.route("/survey/<token>", methods=["GET", "POST"])
@public
def survey(token: str):
    """GET: the two questions (or why the link cannot be answered); POST: the one answer."""
    now = utcnow()
    form = SurveyForm()
    try:
        invitation = services.open_invitation(db.session, token, now=now)
    except services.SurveyClosed as closed:
        answered_view = closed.reason == services.CLOSED_ANSWERED and request.method == "GET"
        return _closed_page(closed, 200 if answered_view else closed.status_code)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            answer = field_values(form, "satisfaction", "reason_clear", "comment")
            outcome = run(lambda: services.submit_answer(db.session, token, **answer, now=now), form=form)
            if outcome.ok:
                flash(_("응답해 주셔서 고맙습니다."), "success")
                return redirect(url_for("satisfaction.survey", token=token), 303)
            if isinstance(outcome.error, services.SurveyClosed):
                return _closed_page(outcome.error, outcome.error.status_code)
        status = 400
    page = render_template("satisfaction/survey.html", form=form, invitation=invitation, token=token)
    return _private(make_response(page, status))


def subject_link(subject_ref: str) -> str | None:
    """The staff page of the answer's subject, when the app has one."""
    prefix, _sep, raw = subject_ref.partition(":")
    target = SUBJECT_PAGES.get(prefix)
    if target is None or not raw.isdigit() or target[0] not in current_app.view_functions:
        return None
    try:
        return url_for(target[0], **{target[1]: int(raw)})
    except BuildError:
        return None


@staff.route("/")
@roles_required(*STAFF_ROLES)
def index():
    process = request.args.get("process") or None
    if process not in (None, *PROCESSES):
        process = None
    comments_only = request.args.get("comments") == "1"
    page = queries.staff_page(
        db.session, page=query_int("page", 1) or 1, process=process, comments_only=comments_only
    )
    return render_template(
        "satisfaction/staff.html",
        page=page,
        process=process,
        comments_only=comments_only,
        processes=PROCESSES,
        process_labels=PROCESS_LABELS,
        subject_link=subject_link,
        index=queries.satisfaction_index(db.session),
    )


@staff.route("/responses/<int:response_id>/publish", methods=["POST"])
@roles_required(*STAFF_ROLES)
def publish(response_id: int):
    response = db.get_or_404(SurveyResponse, response_id)
    form = PublishForm()
    if not form.validate_on_submit():
        abort(400)
    published = form.action.data == "publish"
    outcome = run(
        lambda: services.set_published(
            db.session, response, published=published, actor=current_user, now=utcnow()
        )
    )
    if outcome.ok:
        flash(_("의견을 공개했습니다.") if published else _("의견 공개를 취소했습니다."), "success")
    back = request.form.get("next") or ""
    if not back.startswith("/staff/satisfaction") or back.startswith("//"):
        back = url_for("satisfaction_staff.index")
    return redirect(f"{back}#response-{response_id}", 303)


def dashboard_section() -> dict:
    """The satisfaction block of the public dashboard (/dashboard)."""
    return {
        "template": "satisfaction/_dashboard.html",
        "index": queries.satisfaction_index(db.session),
        "comments": queries.published_comments(db.session),
        "process_labels": PROCESS_LABELS,
    }
