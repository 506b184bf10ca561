"""Committee pages: public task list and reports, secretariat, department and member pages."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from civic_app.audit.services import VIEW_PERSONAL_DATA, record
from civic_app.committee import queries
from civic_app.committee.committees import (
    MEMBER_FIELDS,
    add_subcommittee,
    create_committee,
    get_committee,
    member_for_user,
    save_member,
)
from civic_app.committee.evaluations import close_evaluation_round, open_evaluation_round, record_evaluation
from civic_app.committee.forms import (
    ActionForm,
    AdvisoryForm,
    CommitteeForm,
    EntryForm,
    EvaluationForm,
    EvaluationRoundForm,
    MeetingForm,
    MemberForm,
    MinutesForm,
    OpenQuarterForm,
    PublishForm,
    ReviewForm,
    SubCommitteeForm,
    TaskForm,
    TaskImportForm,
)
from civic_app.committee.labels import LABELS, label
from civic_app.committee.meetings import add_advisory_item, record_minutes, save_meeting, set_meeting_status
from civic_app.committee.models import (
    ORIGINS,
    OUTCOMES,
    TASK_STATUSES,
    Committee,
    CommitteeMeeting,
    CommitteeMember,
    CommitteeTask,
    EvaluationRound,
    QuarterlyEntry,
    ReportingQuarter,
    ReportRow,
)
from civic_app.committee.reports import (
    open_quarter,
    publish_quarter,
    report_diff,
    review_entry,
    send_reminders,
    submit_entry,
)
from civic_app.committee.reviews import apply_review, start_review
from civic_app.committee.tasks import import_tasks, update_task
from civic_app.dongs.models import Department
from civic_app.errors import DomainError, ValidationFailed
from civic_app.extensions import db
from civic_app.timeutil import seoul_datetime, today_seoul, utcnow
from civic_app.web.forms import apply_domain_error
from civic_app.web.htmx import render_page_or_fragment
from civic_app.web.inputs import bounded_int, query_int
from civic_app.web.policy import (
    ADMIN,
    COMMITTEE_MEMBER,
    COMMITTEE_SECRETARIAT,
    DEPARTMENT,
    public,
    roles_required,
)

bp = Blueprint("committee", __name__, url_prefix="/committee")
STAFF = (COMMITTEE_SECRETARIAT, ADMIN)
PER_PAGE = 30


@bp.app_context_processor
def _labels() -> dict:
    return {"committee_label": label}


def _committee():
    return get_committee(db.session)


def _int_arg(name: str) -> int | None:
    return query_int(name)


def _choice_arg(name: str, choices: tuple[str, ...]) -> str | None:
    raw = request.args.get(name, "")
    return raw if raw in choices else None


# --- public ------------------------------------------------------------------------------


@bp.route("/")
@public
def tasks():
    committee = _committee()
    filters = queries.TaskFilters(
        field=_int_arg("field"),
        origin=_choice_arg("origin", ORIGINS),
        status=_choice_arg("status", TASK_STATUSES),
        department=_int_arg("department"),
        q=(request.args.get("q") or "").strip()[:100] or None,
    )
    page = max(_int_arg("page") or 1, 1)
    items, total = queries.task_page(db.session, committee, filters, page, PER_PAGE)
    departments = db.session.scalars(select(Department).order_by(Department.name)).all()
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_page_or_fragment(
        "committee/tasks.html",
        "committee/_task_results.html",
        committee=committee,
        summary=queries.summary(db.session, committee),
        tasks=items,
        total=total,
        page_no=page,
        pages=max((total + PER_PAGE - 1) // PER_PAGE, 1),
        filters=filters,
        departments=departments,
        args=args,
        origins=ORIGINS,
        statuses=TASK_STATUSES,
    )


@bp.route("/tasks/<code>")
@public
def task(code: str):
    committee = _committee()
    item = queries.task_detail(db.session, committee, code)
    if item is None:
        abort(404)
    return render_template(
        "committee/task.html", task=item, history=queries.task_history(db.session, item), committee=committee
    )


@bp.route("/reports")
@public
def reports():
    committee = _committee()
    return render_template(
        "committee/reports.html",
        committee=committee,
        quarters=queries.published_quarters(db.session, committee),
    )


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
    committee = _committee()
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
    committee = get_committee(db.session)
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
@roles_required(DEPARTMENT, COMMITTEE_SECRETARIAT, ADMIN)
def entry(entry_id: int):
    item = db.get_or_404(QuarterlyEntry, entry_id)
    if not current_user.has_role(*STAFF) and item.department_id != current_user.department_id:
        abort(403)
    form = EntryForm(obj=item)
    if form.validate_on_submit():
        try:
            submit_entry(
                db.session,
                item,
                actor=current_user,
                now=utcnow(),
                progress_text=form.progress_text.data or "",
                progress_pct=form.progress_pct.data,
                issues=form.issues.data or "",
                next_steps=form.next_steps.data or "",
            )
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            flash(_("보고를 제출했습니다."), "success")
            if current_user.has_role(DEPARTMENT):
                return redirect(url_for("committee.department_entries"))
            return redirect(url_for("committee.admin_quarter", quarter_id=item.quarter_id))
    status = 400 if request.method == "POST" else 200
    return render_template("committee/entry.html", entry=item, form=form, today=today_seoul(utcnow())), status


# --- member evaluation --------------------------------------------------------------------------


def _evaluation_context(forms: dict | None = None):
    committee = _committee()
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
    if form.validate_on_submit():
        try:
            record_evaluation(
                db.session,
                record,
                item,
                actor=current_user,
                score=form.score.data,
                comment=form.comment.data or "",
                now=utcnow(),
            )
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            flash(_("%(code)s 과제 평가를 저장했습니다.", code=item.code), "success")
            return redirect(url_for("committee.evaluate", _anchor=f"task-{item.id}"))
    return render_template("committee/evaluate.html", **_evaluation_context({item.id: form})), 400


# --- secretariat: dashboard, quarters ----------------------------------------------------------


@bp.route("/admin")
@roles_required(COMMITTEE_SECRETARIAT, ADMIN)
def admin():
    committee = _committee()
    today = today_seoul(utcnow())
    quarter_form = OpenQuarterForm(
        formdata=None,
        year=today.year,
        quarter=(today.month - 1) // 3 + 1,
        deadline=today + dt.timedelta(days=14),
    )
    round_form = EvaluationRoundForm(formdata=None, year=today.year, half=1 if today.month <= 6 else 2)
    return render_template(
        "committee/admin.html",
        committee=committee,
        summary=queries.summary(db.session, committee),
        quarters=queries.all_quarters(db.session, committee),
        rounds=queries.rounds(db.session, committee),
        reviews=queries.reviews(db.session, committee),
        quarter_form=quarter_form,
        round_form=round_form,
        review_form=ReviewForm(formdata=None),
    )


@bp.route("/admin/quarters", methods=["POST"])
@roles_required(COMMITTEE_SECRETARIAT, ADMIN)
def admin_open_quarter():
    committee = _committee()
    form = OpenQuarterForm()
    if form.validate_on_submit():
        try:
            record = open_quarter(
                db.session,
                committee,
                year=form.year.data,
                quarter=form.quarter.data,
                deadline=form.deadline.data,
                actor=current_user,
                now=utcnow(),
            )
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            flash(
                _("%(label)s 분기 보고를 열었습니다. 담당 부서에 알림을 보냈습니다.", label=record.label),
                "success",
            )
            return redirect(url_for("committee.admin_quarter", quarter_id=record.id))
    else:
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
    return redirect(url_for("committee.admin"))


@bp.route("/admin/quarters/<int:quarter_id>")
@roles_required(COMMITTEE_SECRETARIAT, ADMIN)
def admin_quarter(quarter_id: int):
    record = queries.quarter_with_entries(db.session, quarter_id)
    if record is None:
        abort(404)
    return render_template(
        "committee/admin_quarter.html",
        quarter=record,
        check=queries.publish_check(record, today_seoul(utcnow())),
        action=ActionForm(),
    )


@bp.route("/admin/quarters/<int:quarter_id>/publish", methods=["GET", "POST"])
@roles_required(COMMITTEE_SECRETARIAT, ADMIN)
def admin_publish(quarter_id: int):
    """Publishing (or amending) goes through a page that shows the deadline and what is missing."""
    record = queries.quarter_with_entries(db.session, quarter_id)
    if record is None:
        abort(404)
    form = PublishForm()
    if request.method == "GET":
        form.summary.data = record.summary
    if form.validate_on_submit():
        amending = record.is_published
        try:
            version = publish_quarter(
                db.session,
                record,
                actor=current_user,
                now=utcnow(),
                summary=form.summary.data or "",
                note=form.note.data or "",
            )
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
            record = queries.quarter_with_entries(db.session, quarter_id)
        else:
            if amending:
                flash(_("정정본(%(n)d판)을 공개했습니다.", n=version.number), "success")
            else:
                flash(_("분기 보고를 공개했습니다."), "success")
            return redirect(url_for("committee.admin_quarter", quarter_id=record.id))
    last = record.versions[-1] if record.versions else None
    rows = [ReportRow.from_entry(e) for e in record.entries]
    diff = report_diff(last.report_rows(), rows) if last is not None else []
    status = 400 if request.method == "POST" else 200
    return render_template(
        "committee/admin_publish.html",
        quarter=record,
        form=form,
        check=queries.publish_check(record, today_seoul(utcnow())),
        diff=diff,
    ), status


@bp.route("/admin/quarters/<int:quarter_id>/<any(remind):action>", methods=["POST"])
@roles_required(COMMITTEE_SECRETARIAT, ADMIN)
def admin_quarter_action(quarter_id: int, action: str):
    record = db.get_or_404(ReportingQuarter, quarter_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        sent = send_reminders(db.session, record, actor=current_user, now=utcnow())
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        flash(_("미제출 부서 담당자 %(n)d명에게 알림을 보냈습니다.", n=sent), "success")
    return redirect(url_for("committee.admin_quarter", quarter_id=record.id))


@bp.route("/admin/entries/<int:entry_id>/review", methods=["POST"])
@roles_required(COMMITTEE_SECRETARIAT, ADMIN)
def admin_review_entry(entry_id: int):
    item = db.get_or_404(QuarterlyEntry, entry_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        review_entry(db.session, item, actor=current_user, now=utcnow())
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    return redirect(
        url_for("committee.admin_quarter", quarter_id=item.quarter_id, _anchor=f"entry-{item.id}")
    )


@bp.route("/admin/tasks/<code>", methods=["GET", "POST"])
@roles_required(COMMITTEE_SECRETARIAT, ADMIN)
def admin_task(code: str):
    committee = _committee()
    item = queries.task_detail(db.session, committee, code)
    if item is None:
        abort(404)
    form = TaskForm(obj=item)
    form.status.choices = [
        SelectChoice(s, label("status", s)) for s in TASK_STATUSES if item.can_transition_to(s)
    ]
    departments = db.session.scalars(select(Department).order_by(Department.name)).all()
    form.department_id.choices = [SelectChoice(0, _("(미정)"))] + [
        SelectChoice(d.id, d.name) for d in departments
    ]
    if request.method == "GET":
        form.department_id.data = item.department_id or 0
    if form.validate_on_submit():
        try:
            update_task(
                db.session,
                item,
                title=form.title.data,
                status=form.status.data,
                department_id=form.department_id.data or None,
                start_year=form.start_year.data,
                actor=current_user,
                now=utcnow(),
            )
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            flash(_("저장했습니다."), "success")
            return redirect(url_for("committee.task", code=item.code))
    status = 400 if request.method == "POST" else 200
    return render_template("committee/admin_task.html", task=item, form=form), status


# --- secretariat: evaluations ------------------------------------------------------------------


@bp.route("/admin/evaluations", methods=["POST"])
@roles_required(COMMITTEE_SECRETARIAT, ADMIN)
def admin_open_round():
    form = EvaluationRoundForm()
    if form.validate_on_submit():
        try:
            open_evaluation_round(
                db.session,
                _committee(),
                year=form.year.data,
                half=form.half.data,
                actor=current_user,
                now=utcnow(),
            )
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            flash(_("반기 평가를 열었습니다."), "success")
    else:
        flash(_("연도와 반기를 확인해 주세요."), "error")
    return redirect(url_for("committee.admin"))


@bp.route("/admin/evaluations/<int:round_id>", methods=["GET", "POST"])
@roles_required(COMMITTEE_SECRETARIAT, ADMIN)
def admin_round(round_id: int):
    record = db.get_or_404(EvaluationRound, round_id)
    form = ActionForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            close_evaluation_round(db.session, record, actor=current_user, now=utcnow())
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            flash(_("평가를 마감했습니다."), "success")
        return redirect(url_for("committee.admin_round", round_id=record.id))
    return render_template(
        "committee/admin_round.html",
        round=record,
        results=queries.evaluation_results(db.session, record),
        action=form,
    )


# --- secretariat: mid-term review --------------------------------------------------------------


@bp.route("/admin/reviews", methods=["POST"])
@roles_required(COMMITTEE_SECRETARIAT, ADMIN)
def admin_start_review():
    form = ReviewForm()
    if form.validate_on_submit():
        try:
            review = start_review(
                db.session, _committee(), title=form.title.data, actor=current_user, now=utcnow()
            )
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            return redirect(url_for("committee.admin_review", review_id=review.id))
    else:
        flash(_("제목을 입력해 주세요."), "error")
    return redirect(url_for("committee.admin"))


@bp.route("/admin/reviews/<int:review_id>", methods=["GET", "POST"])
@roles_required(COMMITTEE_SECRETARIAT, ADMIN)
def admin_review(review_id: int):
    review = queries.review_detail(db.session, review_id)
    if review is None:
        abort(404)
    form = ActionForm()
    status = 200
    if request.method == "POST" and form.validate_on_submit():
        decisions = {
            o.id: (request.form.get(f"outcome-{o.id}", o.outcome), request.form.get(f"successors-{o.id}", ""))
            for o in review.outcomes
        }
        apply = request.form.get("apply") == "1"
        try:
            apply_review(db.session, review, decisions, actor=current_user, now=utcnow(), apply=apply)
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
            status = 400
            review = queries.review_detail(db.session, review_id)
        else:
            flash(_("중간점검 결과를 반영했습니다.") if apply else _("저장했습니다."), "success")
            return redirect(url_for("committee.admin_review", review_id=review.id))
    return render_template(
        "committee/admin_review.html", review=review, action=form, outcomes=OUTCOMES
    ), status


# --- secretariat: members --------------------------------------------------------------------


@bp.route("/admin/members")
@roles_required(COMMITTEE_SECRETARIAT, ADMIN)
def admin_members():
    committee = _committee()
    items = queries.members(db.session, committee)
    return render_template(
        "committee/admin_members.html",
        committee=committee,
        members=items,
        composition=queries.composition(items, today_seoul(utcnow())),
        labels=LABELS,
    )


@bp.route("/admin/members/new", methods=["GET", "POST"])
@bp.route("/admin/members/<int:member_id>", methods=["GET", "POST"])
@roles_required(COMMITTEE_SECRETARIAT, ADMIN)
def admin_member(member_id: int | None = None):
    committee = _committee()
    member = db.get_or_404(CommitteeMember, member_id) if member_id else None
    form = MemberForm(obj=member)
    form.subcommittee_id.choices = [SelectChoice(0, _("(없음)"))] + [
        SelectChoice(s.id, s.name) for s in committee.subcommittees
    ]
    if request.method == "GET" and member is not None:
        form.account_email.data = member.user.email if member.user else ""
        form.subcommittee_id.data = member.subcommittee_id or 0
        if member.email or member.phone:
            record(
                db.session,
                actor_id=current_user.id,
                action=VIEW_PERSONAL_DATA,
                now=utcnow(),
                target_type="committee_member",
                target_id=member.id,
                ip=request.remote_addr,
            )
            db.session.commit()
    if form.validate_on_submit():
        data = {key: getattr(form, key).data for key in MEMBER_FIELDS}
        data["subcommittee_id"] = data["subcommittee_id"] or None
        data["gender"] = data["gender"] or None
        data["age_band"] = data["age_band"] or None
        data["email"] = data["email"] or None
        data["phone"] = data["phone"] or None
        try:
            save_member(
                db.session,
                committee,
                member,
                data,
                account_email=form.account_email.data or "",
                actor=current_user,
                now=utcnow(),
            )
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            flash(_("저장했습니다."), "success")
            return redirect(url_for("committee.admin_members"))
    status = 400 if request.method == "POST" else 200
    return render_template("committee/admin_member.html", form=form, member=member), status


# --- secretariat: meetings ---------------------------------------------------------------------


@bp.route("/admin/meetings")
@roles_required(COMMITTEE_SECRETARIAT, ADMIN)
def admin_meetings():
    committee = _committee()
    return render_template("committee/admin_meetings.html", meetings=queries.meetings(db.session, committee))


@bp.route("/admin/meetings/new", methods=["GET", "POST"])
@bp.route("/admin/meetings/<int:meeting_id>", methods=["GET", "POST"])
@roles_required(COMMITTEE_SECRETARIAT, ADMIN)
def admin_meeting(meeting_id: int | None = None):
    committee = _committee()
    meeting = db.get_or_404(CommitteeMeeting, meeting_id) if meeting_id else None
    form = MeetingForm(obj=meeting)
    if request.method == "GET" and meeting is not None:
        from civic_app.timeutil import to_seoul

        local = to_seoul(meeting.start_at)
        form.day.data, form.start.data = local.date(), local.time().replace(tzinfo=None)
        form.duration.data = int((meeting.end_at - meeting.start_at).total_seconds() // 60)
    if form.validate_on_submit():
        start_at = seoul_datetime(form.day.data, form.start.data).astimezone(dt.UTC)
        try:
            saved = save_meeting(
                db.session,
                committee,
                meeting,
                kind=form.kind.data,
                title=form.title.data,
                start_at=start_at,
                end_at=start_at + dt.timedelta(minutes=form.duration.data),
                location=form.location.data or "",
                agenda=form.agenda.data or "",
                actor=current_user,
                now=utcnow(),
            )
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            flash(_("저장했습니다."), "success")
            return redirect(url_for("committee.admin_meeting", meeting_id=saved.id))
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "meeting": meeting, "action": ActionForm()}
    if meeting is not None:
        context.update(_meeting_context(committee, meeting))
    return render_template("committee/admin_meeting.html", **context), status


def _meeting_context(committee, meeting: CommitteeMeeting, advisory: AdvisoryForm | None = None) -> dict:
    advisory = advisory or AdvisoryForm(formdata=None)
    advisory.subcommittee_id.choices = [SelectChoice(s.id, s.name) for s in committee.subcommittees]
    departments = db.session.scalars(select(Department).order_by(Department.name)).all()
    advisory.department_id.choices = [SelectChoice(0, _("(미정)"))] + [
        SelectChoice(d.id, d.name) for d in departments
    ]
    present = {a.member_id for a in meeting.attendance if a.present}
    return {
        "members": queries.members(db.session, committee),
        "present": present,
        "minutes_form": MinutesForm(formdata=None, minutes=meeting.minutes),
        "advisory_form": advisory,
        "items": queries.meeting_items(db.session, meeting),
    }


@bp.route("/admin/meetings/<int:meeting_id>/<any(held, cancelled, scheduled):status>", methods=["POST"])
@roles_required(COMMITTEE_SECRETARIAT, ADMIN)
def admin_meeting_status(meeting_id: int, status: str):
    meeting = db.get_or_404(CommitteeMeeting, meeting_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        set_meeting_status(db.session, meeting, status, actor=current_user, now=utcnow())
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    return redirect(url_for("committee.admin_meeting", meeting_id=meeting.id))


@bp.route("/admin/meetings/<int:meeting_id>/minutes", methods=["POST"])
@roles_required(COMMITTEE_SECRETARIAT, ADMIN)
def admin_meeting_minutes(meeting_id: int):
    meeting = db.get_or_404(CommitteeMeeting, meeting_id)
    form = MinutesForm()
    if not form.validate_on_submit():
        abort(400)
    present = set()
    for raw in request.form.getlist("present"):
        try:
            present.add(bounded_int(raw))
        except ValueError:
            continue
    try:
        record_minutes(
            db.session,
            meeting,
            minutes=form.minutes.data or "",
            present_member_ids=present,
            actor=current_user,
            now=utcnow(),
        )
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        flash(_("회의록과 출석을 저장했습니다."), "success")
    return redirect(url_for("committee.admin_meeting", meeting_id=meeting.id))


@bp.route("/admin/meetings/<int:meeting_id>/items", methods=["POST"])
@roles_required(COMMITTEE_SECRETARIAT, ADMIN)
def admin_meeting_item(meeting_id: int):
    committee = _committee()
    meeting = db.get_or_404(CommitteeMeeting, meeting_id)
    form = AdvisoryForm()
    context = _meeting_context(committee, meeting, form)
    if form.validate_on_submit():
        try:
            item = add_advisory_item(
                db.session,
                meeting,
                code=form.code.data.strip(),
                title=form.title.data,
                subcommittee_id=form.subcommittee_id.data,
                department_id=form.department_id.data or None,
                actor=current_user,
                now=utcnow(),
            )
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            flash(_("자문안건 %(code)s을(를) 과제로 등록했습니다.", code=item.code), "success")
            return redirect(url_for("committee.admin_meeting", meeting_id=meeting.id))
    meeting_form = MeetingForm(formdata=None, obj=meeting)
    return (
        render_template(
            "committee/admin_meeting.html", form=meeting_form, meeting=meeting, action=ActionForm(), **context
        ),
        400,
    )


# --- secretariat: task CSV upload --------------------------------------------------------------


@bp.route("/admin/import", methods=["GET", "POST"])
@roles_required(COMMITTEE_SECRETARIAT, ADMIN)
def admin_import():
    """The task CSV of ``flask committee import`` as an upload: all lines valid, or nothing changes."""
    committees = db.session.scalars(select(Committee).order_by(Committee.id)).all()
    form = TaskImportForm()
    form.committee_id.choices = [SelectChoice(c.id, c.name) for c in committees]
    if request.method == "GET":
        form.committee_id.data = _committee().id
    errors: list[tuple[str, str]] = []
    if form.validate_on_submit():
        committee = db.session.get(Committee, form.committee_id.data)
        try:
            text = form.file.data.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            form.file.errors = [_("파일이 UTF-8 인코딩이 아닙니다.")]
        else:
            try:
                result = import_tasks(db.session, text, now=utcnow(), committee_name=committee.name)
                record(
                    db.session,
                    actor_id=current_user.id,
                    action="committee.import",
                    now=utcnow(),
                    target_type="committee",
                    target_id=committee.id,
                    detail=result,
                    ip=request.remote_addr,
                )
                db.session.commit()
            except ValidationFailed as error:
                db.session.rollback()
                form.file.errors = [error.message]
                errors = error.errors
            else:
                flash(
                    _("가져오기 완료: 새로 %(c)d개, 갱신 %(u)d개", c=result["created"], u=result["updated"]),
                    "success",
                )
                return redirect(url_for("committee.admin_import"))
    status = 400 if request.method == "POST" else 200
    return render_template("committee/admin_import.html", form=form, import_errors=errors), status


# --- admin: committees and sub-committees -------------------------------------------------------


def _committees_page(form: CommitteeForm | None = None, sub_forms: dict | None = None, status: int = 200):
    committees = db.session.scalars(select(Committee).order_by(Committee.id)).all()
    sub_forms = sub_forms or {}
    rows = [
        (c, sub_forms.get(c.id) or SubCommitteeForm(prefix=f"c{c.id}", formdata=None)) for c in committees
    ]
    return render_template(
        "committee/admin_committees.html", form=form or CommitteeForm(formdata=None), rows=rows
    ), status


@bp.route("/admin/committees", methods=["GET", "POST"])
@roles_required(ADMIN)
def admin_committees():
    if request.method == "GET":
        return _committees_page()
    form = CommitteeForm()
    if form.validate_on_submit():
        try:
            committee = create_committee(
                db.session,
                name=form.name.data,
                description=form.description.data or "",
                subcommittees=(form.subcommittees.data or "").splitlines(),
                actor=current_user,
            )
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            flash(_("위원회 '%(name)s'을(를) 만들었습니다.", name=committee.name), "success")
            return redirect(url_for("committee.admin_committees", _anchor=f"committee-{committee.id}"))
    return _committees_page(form, status=400)


@bp.route("/admin/committees/<int:committee_id>/subcommittees", methods=["POST"])
@roles_required(ADMIN)
def admin_add_subcommittee(committee_id: int):
    committee = db.get_or_404(Committee, committee_id)
    form = SubCommitteeForm(prefix=f"c{committee.id}")
    if form.validate_on_submit():
        try:
            sub = add_subcommittee(db.session, committee, name=form.name.data, actor=current_user)
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            flash(_("분과 '%(name)s'을(를) 추가했습니다.", name=sub.name), "success")
            return redirect(url_for("committee.admin_committees", _anchor=f"committee-{committee.id}"))
    return _committees_page(sub_forms={committee.id: form}, status=400)
