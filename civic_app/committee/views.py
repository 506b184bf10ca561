"""Committee pages for the public, the departments and the members.

The secretariat's pages are in ``admin_views``, on the same blueprint. Views are thin: load →
validate → service → :func:`civic_app.web.actions.run` (commit, or the error on the form).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectChoice

from civic_app.committee import queries
from civic_app.committee.committees import get_committee, member_for_user
from civic_app.committee.evaluations import record_evaluation
from civic_app.committee.forms import ActionForm, EntryForm, EvaluationForm
from civic_app.committee.labels import label
from civic_app.committee.models import (
    ORIGINS,
    TASK_STATUSES,
    CommitteeMeeting,
    CommitteeTask,
    EvaluationRound,
    QuarterlyEntry,
)
from civic_app.committee.reports import report_diff, submit_entry
from civic_app.dongs.models import Department
from civic_app.extensions import db
from civic_app.timeutil import today_seoul, utcnow
from civic_app.web.actions import Outcome, run
from civic_app.web.forms import field_values
from civic_app.web.htmx import render_page_or_fragment
from civic_app.web.inputs import query_int
from civic_app.web.policy import (
    COMMITTEE_MEMBER,
    DEPARTMENT,
    SECRETARIAT_ROLES,
    public,
    roles_required,
)

bp = Blueprint("committee", __name__, url_prefix="/committee")
PER_PAGE = 30


@bp.app_context_processor
def _labels() -> dict:
    return {"committee_label": label}


def current_committee():
    return get_committee(db.session)


def department_choices(blank: str) -> list[SelectChoice]:
    """Every department for a select, after a first ``blank`` choice (value 0)."""
    departments = db.session.scalars(select(Department).order_by(Department.name)).all()
    return [SelectChoice(0, blank)] + [SelectChoice(d.id, d.name) for d in departments]


def submit(form: FlaskForm | None, call: Callable) -> Outcome | None:
    """Run ``call(actor=, now=)`` for the signed-in user and commit, once ``form`` validated
    (None: a button with only the CSRF token; without a valid token, 400). The outcome, or None
    when the form did not validate; a domain error goes on the form's fields or is flashed."""
    if form is None and not ActionForm().validate_on_submit():
        abort(400)
    if form is not None and not form.validate_on_submit():
        return None
    return run(lambda: call(actor=current_user, now=utcnow()), form=form)


def form_status() -> int:
    """A form shown again after a POST failed is a 400; a GET is a 200."""
    return 400 if request.method == "POST" else 200


def _choice_arg(name: str, choices: tuple[str, ...]) -> str | None:
    raw = request.args.get(name, "")
    return raw if raw in choices else None


# --- public ------------------------------------------------------------------------------


@bp.route("/")
@public
def tasks():
    committee = current_committee()
    filters = queries.TaskFilters(
        field=query_int("field"),
        origin=_choice_arg("origin", ORIGINS),
        status=_choice_arg("status", TASK_STATUSES),
        department=query_int("department"),
        q=(request.args.get("q") or "").strip()[:100] or None,
    )
    results = db.paginate(
        queries.task_query(committee, filters), page=query_int("page", 1), per_page=PER_PAGE, error_out=False
    )
    return render_page_or_fragment(
        "committee/tasks.html",
        "committee/_task_results.html",
        committee=committee,
        summary=queries.summary(db.session, committee),
        results=results,
        filters=filters,
        departments=db.session.scalars(select(Department).order_by(Department.name)).all(),
        args={k: v for k, v in request.args.items() if k != "page" and v},
        origins=ORIGINS,
        statuses=TASK_STATUSES,
    )


@bp.route("/tasks/<code>")
@public
def task(code: str):
    committee = current_committee()
    item = queries.task_detail(db.session, committee, code)
    if item is None:
        abort(404)
    return render_template(
        "committee/task.html", task=item, history=queries.task_history(db.session, item), committee=committee
    )


@bp.route("/reports")
@public
def reports():
    committee = current_committee()
    quarters = queries.published_quarters(db.session, committee)
    return render_template("committee/reports.html", committee=committee, quarters=quarters)


@bp.route("/reports/<int:quarter_id>")
@public
def report(quarter_id: int):
    """The latest version of a published report; an amended one shows 정정 and what changed."""
    return _report_page(quarter_id, None)


@bp.route("/reports/<int:quarter_id>/versions/<int:number>")
@public
def report_version(quarter_id: int, number: int):
    """An earlier (or the current) version of a published report, kept readable after amendments."""
    return _report_page(quarter_id, number)


def _report_page(quarter_id: int, number: int | None):
    found = queries.report_version(db.session, quarter_id, number)
    if found is None:
        abort(404)
    record, version, previous = found
    rows = version.report_rows()
    diff = report_diff(previous.report_rows(), rows) if previous is not None else []
    return render_template(
        "committee/report.html",
        quarter=record,
        version=version,
        latest=record.versions[-1],
        rows=rows,
        diff=diff,
    )


@bp.route("/meetings")
@public
def meetings():
    committee = current_committee()
    return render_template(
        "committee/meetings.html", committee=committee, meetings=queries.meetings(db.session, committee)
    )


@bp.route("/meetings/<int:meeting_id>")
@public
def meeting_detail(meeting_id: int):
    """Public: schedule, agenda, minutes and advisory items; attendance stays with the secretariat."""
    meeting = db.get_or_404(CommitteeMeeting, meeting_id)
    return render_template(
        "committee/meeting.html", meeting=meeting, items=queries.meeting_items(db.session, meeting)
    )


def home_section() -> dict:
    """The committee block of the public home page: totals and the latest published report."""
    committee = current_committee()
    return {
        "template": "committee/_home.html",
        "summary": queries.summary(db.session, committee),
        "latest": queries.latest_published_quarter(db.session, committee),
    }


# --- department ------------------------------------------------------------------------------


@bp.route("/department")
@roles_required(DEPARTMENT)
def department_entries():
    entries = queries.open_entries_for_department(db.session, current_user.department_id)
    return render_template("committee/department.html", entries=entries)


@bp.route("/department/entries/<int:entry_id>", methods=["GET", "POST"])
@roles_required(DEPARTMENT, *SECRETARIAT_ROLES)
def entry(entry_id: int):
    item = db.get_or_404(QuarterlyEntry, entry_id)
    if not current_user.has_role(*SECRETARIAT_ROLES) and item.department_id != current_user.department_id:
        abort(403)
    form = EntryForm(obj=item)
    submitted = submit(
        form,
        lambda **who: submit_entry(
            db.session,
            item,
            progress_pct=form.progress_pct.data,
            **field_values(form, "progress_text", "issues", "next_steps", empty=""),
            **who,
        ),
    )
    if submitted and submitted.ok:
        flash(_("보고를 제출했습니다."), "success")
        if current_user.has_role(DEPARTMENT):
            return redirect(url_for("committee.department_entries"))
        return redirect(url_for("committee.admin_quarter", quarter_id=item.quarter_id))
    today = today_seoul(utcnow())
    return render_template("committee/entry.html", entry=item, form=form, today=today), form_status()


# --- member evaluation --------------------------------------------------------------------------


def _evaluation_context(forms: dict | None = None):
    committee = current_committee()
    member = member_for_user(db.session, current_user)
    record = queries.open_round(db.session, committee)
    items, scores = [], {}
    if member is not None and record is not None:
        items = queries.member_tasks(db.session, member)
        scores = queries.member_scores(db.session, record, member)
    forms = forms or {}
    latest = queries.latest_reports(db.session, [item.id for item in items])
    rows = []
    for item in items:
        form = forms.get(item.id)
        if form is None:
            existing = scores.get(item.id)
            form = EvaluationForm(prefix=f"t{item.id}", formdata=None, obj=existing)
        rows.append((item, form, scores.get(item.id), latest.get(item.id)))
    done = sum(1 for item in items if item.id in scores)
    return {"member": member, "round": record, "rows": rows, "done": done, "total": len(items)}


@bp.route("/evaluate")
@roles_required(COMMITTEE_MEMBER)
def evaluate():
    return render_template("committee/evaluate.html", **_evaluation_context())


@bp.route("/evaluate/<int:round_id>/<int:task_id>", methods=["POST"])
@roles_required(COMMITTEE_MEMBER)
def evaluate_task(round_id: int, task_id: int):
    record = db.get_or_404(EvaluationRound, round_id)
    item = db.get_or_404(CommitteeTask, task_id)
    form = EvaluationForm(prefix=f"t{item.id}")
    saved = submit(
        form,
        lambda **who: record_evaluation(
            db.session, record, item, score=form.score.data, comment=form.comment.data or "", **who
        ),
    )
    if saved and saved.ok:
        flash(_("%(code)s 과제 평가를 저장했습니다.", code=item.code), "success")
        return redirect(url_for("committee.evaluate", _anchor=f"task-{item.id}"))
    return render_template("committee/evaluate.html", **_evaluation_context({item.id: form})), 400
