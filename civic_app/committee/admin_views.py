"""The secretariat's committee pages: quarters and their publication, tasks, evaluations,
mid-term reviews, members, meetings, the task CSV upload; committees for the admin.

Same blueprint as ``views`` (endpoints ``committee.admin_*``). Views are thin: load → validate →
service → :func:`civic_app.web.actions.run` (commit, or the error on the form or as a flash).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from civic_app.audit.services import VIEW_PERSONAL_DATA, record
from civic_app.committee import queries
from civic_app.committee.committees import MEMBER_FIELDS, add_subcommittee, create_committee, save_member
from civic_app.committee.evaluations import close_evaluation_round, open_evaluation_round
from civic_app.committee.forms import (
    ActionForm,
    AdvisoryForm,
    CommitteeForm,
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
    OUTCOMES,
    TASK_STATUSES,
    Committee,
    CommitteeMeeting,
    CommitteeMember,
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
)
from civic_app.committee.reviews import apply_review, start_review
from civic_app.committee.tasks import import_tasks, update_task
from civic_app.committee.views import bp, current_committee, department_choices, form_status, submit
from civic_app.extensions import db
from civic_app.timeutil import seoul_datetime, to_seoul, today_seoul, utcnow
from civic_app.web.actions import run
from civic_app.web.forms import field_values, read_csv_upload
from civic_app.web.inputs import bounded_int
from civic_app.web.policy import ADMIN, SECRETARIAT_ROLES, roles_required

# --- dashboard, quarters -----------------------------------------------------------------------


def _admin_page(status: int = 200, **forms):
    committee = current_committee()
    today = today_seoul(utcnow())
    defaults = {
        "quarter_form": lambda: OpenQuarterForm(
            formdata=None,
            year=today.year,
            quarter=(today.month - 1) // 3 + 1,
            deadline=today + dt.timedelta(days=14),
        ),
        "round_form": lambda: EvaluationRoundForm(
            formdata=None, year=today.year, half=1 if today.month <= 6 else 2
        ),
        "review_form": lambda: ReviewForm(formdata=None),
    }
    return render_template(
        "committee/admin.html",
        committee=committee,
        summary=queries.summary(db.session, committee),
        quarters=queries.all_quarters(db.session, committee),
        rounds=queries.rounds(db.session, committee),
        reviews=queries.reviews(db.session, committee),
        **{name: forms.get(name) or make() for name, make in defaults.items()},
    ), status


@bp.route("/admin")
@roles_required(*SECRETARIAT_ROLES)
def admin():
    return _admin_page()


def _dashboard_form(name: str, form, call: Callable, success: Callable):
    """A form of the dashboard: ``call(session, committee, actor=, now=)``, then
    ``success(result)`` (a redirect); or the dashboard again with the form's errors."""
    done = submit(form, partial(call, db.session, current_committee()))
    if not (done and done.ok):
        return _admin_page(400, **{name: form})
    return success(done.value)


@bp.route("/admin/quarters", methods=["POST"])
@roles_required(*SECRETARIAT_ROLES)
def admin_open_quarter():
    form = OpenQuarterForm()

    def opened(quarter: ReportingQuarter):
        flash(
            _("%(label)s 분기 보고를 열었습니다. 담당 부서에 알림을 보냈습니다.", label=quarter.label),
            "success",
        )
        return redirect(url_for("committee.admin_quarter", quarter_id=quarter.id))

    call = partial(open_quarter, **field_values(form, "year", "quarter", "deadline"))
    return _dashboard_form("quarter_form", form, call, opened)


def _quarter_or_404(quarter_id: int) -> ReportingQuarter:
    found = queries.quarter_with_entries(db.session, quarter_id)
    if found is None:
        abort(404)
    return found


@bp.route("/admin/quarters/<int:quarter_id>")
@roles_required(*SECRETARIAT_ROLES)
def admin_quarter(quarter_id: int):
    quarter = _quarter_or_404(quarter_id)
    check = queries.publish_check(quarter, today_seoul(utcnow()))
    return render_template("committee/admin_quarter.html", quarter=quarter, check=check, action=ActionForm())


@bp.route("/admin/quarters/<int:quarter_id>/publish", methods=["GET", "POST"])
@roles_required(*SECRETARIAT_ROLES)
def admin_publish(quarter_id: int):
    """Publishing (or amending) goes through a page that shows the deadline and what is missing."""
    quarter = _quarter_or_404(quarter_id)
    form = PublishForm()
    if request.method == "GET":
        form.summary.data = quarter.summary
    amending = quarter.is_published
    values = field_values(form, "summary", "note", empty="")
    published = submit(form, lambda **who: publish_quarter(db.session, quarter, **values, **who))
    if published is not None:
        if published.ok:
            if amending:
                flash(_("정정본(%(n)d판)을 공개했습니다.", n=published.value.number), "success")
            else:
                flash(_("분기 보고를 공개했습니다."), "success")
            return redirect(url_for("committee.admin_quarter", quarter_id=quarter_id))
        quarter = _quarter_or_404(quarter_id)  # read again after the rollback
    last = quarter.versions[-1] if quarter.versions else None
    rows = [ReportRow.from_entry(e) for e in quarter.entries]
    return render_template(
        "committee/admin_publish.html",
        quarter=quarter,
        form=form,
        check=queries.publish_check(quarter, today_seoul(utcnow())),
        diff=report_diff(last.report_rows(), rows) if last is not None else [],
    ), form_status()


@bp.route("/admin/quarters/<int:quarter_id>/<any(remind):action>", methods=["POST"])
@roles_required(*SECRETARIAT_ROLES)
def admin_quarter_action(quarter_id: int, action: str):
    quarter = db.get_or_404(ReportingQuarter, quarter_id)
    if (sent := submit(None, partial(send_reminders, db.session, quarter))).ok:
        flash(_("미제출 부서 담당자 %(n)d명에게 알림을 보냈습니다.", n=sent.value), "success")
    return redirect(url_for("committee.admin_quarter", quarter_id=quarter_id))


@bp.route("/admin/entries/<int:entry_id>/review", methods=["POST"])
@roles_required(*SECRETARIAT_ROLES)
def admin_review_entry(entry_id: int):
    item = db.get_or_404(QuarterlyEntry, entry_id)
    quarter_id = item.quarter_id
    submit(None, partial(review_entry, db.session, item))
    return redirect(url_for("committee.admin_quarter", quarter_id=quarter_id, _anchor=f"entry-{entry_id}"))


@bp.route("/admin/tasks/<code>", methods=["GET", "POST"])
@roles_required(*SECRETARIAT_ROLES)
def admin_task(code: str):
    item = queries.task_detail(db.session, current_committee(), code)
    if item is None:
        abort(404)
    form = TaskForm(obj=item)
    form.status.choices = [
        SelectChoice(s, label("status", s)) for s in TASK_STATUSES if item.can_transition_to(s)
    ]
    form.department_id.choices = department_choices(_("(미정)"))
    if request.method == "GET":
        form.department_id.data = item.department_id or 0
    saved = submit(
        form,
        lambda **who: update_task(
            db.session,
            item,
            **field_values(form, "title", "status", "start_year"),
            department_id=form.department_id.data or None,
            **who,
        ),
    )
    if saved and saved.ok:
        flash(_("저장했습니다."), "success")
        return redirect(url_for("committee.task", code=code))
    return render_template("committee/admin_task.html", task=item, form=form), form_status()


# --- evaluations, mid-term reviews -------------------------------------------------------------


@bp.route("/admin/evaluations", methods=["POST"])
@roles_required(*SECRETARIAT_ROLES)
def admin_open_round():
    form = EvaluationRoundForm()

    def opened(_round: EvaluationRound):
        flash(_("반기 평가를 열었습니다."), "success")
        return redirect(url_for("committee.admin"))

    call = partial(open_evaluation_round, **field_values(form, "year", "half"))
    return _dashboard_form("round_form", form, call, opened)


@bp.route("/admin/evaluations/<int:round_id>", methods=["GET", "POST"])
@roles_required(*SECRETARIAT_ROLES)
def admin_round(round_id: int):
    evaluation_round = db.get_or_404(EvaluationRound, round_id)
    if request.method == "POST":
        closed = submit(None, partial(close_evaluation_round, db.session, evaluation_round))
        if closed.ok:
            flash(_("평가를 마감했습니다."), "success")
        return redirect(url_for("committee.admin_round", round_id=round_id))
    return render_template(
        "committee/admin_round.html",
        round=evaluation_round,
        results=queries.evaluation_results(db.session, evaluation_round),
        action=ActionForm(),
    )


@bp.route("/admin/reviews", methods=["POST"])
@roles_required(*SECRETARIAT_ROLES)
def admin_start_review():
    form = ReviewForm()
    call = partial(start_review, title=form.title.data)
    return _dashboard_form(
        "review_form",
        form,
        call,
        lambda review: redirect(url_for("committee.admin_review", review_id=review.id)),
    )


@bp.route("/admin/reviews/<int:review_id>", methods=["GET", "POST"])
@roles_required(*SECRETARIAT_ROLES)
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
        saved = run(
            lambda: apply_review(db.session, review, decisions, actor=current_user, now=utcnow(), apply=apply)
        )
        if saved.ok:
            flash(_("중간점검 결과를 반영했습니다.") if apply else _("저장했습니다."), "success")
            return redirect(url_for("committee.admin_review", review_id=review_id))
        status = 400
        review = queries.review_detail(db.session, review_id)  # read again after the rollback
    return render_template(
        "committee/admin_review.html", review=review, action=form, outcomes=OUTCOMES
    ), status


# --- members -----------------------------------------------------------------------------------


@bp.route("/admin/members")
@roles_required(*SECRETARIAT_ROLES)
def admin_members():
    committee = current_committee()
    items = queries.members(db.session, committee)
    return render_template(
        "committee/admin_members.html",
        committee=committee,
        members=items,
        composition=queries.composition(items, today_seoul(utcnow())),
        labels=LABELS,
    )


def _log_contact_view(member: CommitteeMember) -> None:
    """Opening a member's contact details is a personal-data view: it is logged."""
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


def _member_data(form: MemberForm) -> dict:
    data = {key: getattr(form, key).data for key in MEMBER_FIELDS}
    for key in ("subcommittee_id", "gender", "age_band", "email", "phone"):
        data[key] = data[key] or None
    return data


@bp.route("/admin/members/new", methods=["GET", "POST"])
@bp.route("/admin/members/<int:member_id>", methods=["GET", "POST"])
@roles_required(*SECRETARIAT_ROLES)
def admin_member(member_id: int | None = None):
    committee = current_committee()
    member = db.get_or_404(CommitteeMember, member_id) if member_id else None
    form = MemberForm(obj=member)
    form.subcommittee_id.choices = [SelectChoice(0, _("(없음)"))] + [
        SelectChoice(s.id, s.name) for s in committee.subcommittees
    ]
    if request.method == "GET" and member is not None:
        form.account_email.data = member.user.email if member.user else ""
        form.subcommittee_id.data = member.subcommittee_id or 0
        if member.email or member.phone:
            _log_contact_view(member)
    saved = submit(
        form,
        lambda **who: save_member(
            db.session,
            committee,
            member,
            _member_data(form),
            account_email=form.account_email.data or "",
            **who,
        ),
    )
    if saved and saved.ok:
        flash(_("저장했습니다."), "success")
        return redirect(url_for("committee.admin_members"))
    return render_template("committee/admin_member.html", form=form, member=member), form_status()


# --- meetings ----------------------------------------------------------------------------------


@bp.route("/admin/meetings")
@roles_required(*SECRETARIAT_ROLES)
def admin_meetings():
    meetings = queries.meetings(db.session, current_committee())
    return render_template("committee/admin_meetings.html", meetings=meetings)


def _meeting_page(meeting: CommitteeMeeting | None, form: MeetingForm, status: int, advisory=None):
    """The meeting form; for an existing meeting also attendance, minutes and advisory items."""
    context = {"form": form, "meeting": meeting, "action": ActionForm()}
    if meeting is not None:
        committee = current_committee()
        advisory = advisory or AdvisoryForm(formdata=None)
        advisory.subcommittee_id.choices = [SelectChoice(s.id, s.name) for s in committee.subcommittees]
        advisory.department_id.choices = department_choices(_("(미정)"))
        context.update(
            members=queries.members(db.session, committee),
            present={a.member_id for a in meeting.attendance if a.present},
            minutes_form=MinutesForm(formdata=None, minutes=meeting.minutes),
            advisory_form=advisory,
            items=queries.meeting_items(db.session, meeting),
        )
    return render_template("committee/admin_meeting.html", **context), status


@bp.route("/admin/meetings/new", methods=["GET", "POST"])
@bp.route("/admin/meetings/<int:meeting_id>", methods=["GET", "POST"])
@roles_required(*SECRETARIAT_ROLES)
def admin_meeting(meeting_id: int | None = None):
    meeting = db.get_or_404(CommitteeMeeting, meeting_id) if meeting_id else None
    form = MeetingForm(obj=meeting)
    if request.method == "GET" and meeting is not None:
        local = to_seoul(meeting.start_at)
        form.day.data, form.start.data = local.date(), local.time().replace(tzinfo=None)
        form.duration.data = int((meeting.end_at - meeting.start_at).total_seconds() // 60)

    def save(**who) -> CommitteeMeeting:
        start_at = seoul_datetime(form.day.data, form.start.data).astimezone(dt.UTC)
        return save_meeting(
            db.session,
            current_committee(),
            meeting,
            **field_values(form, "kind", "title"),
            **field_values(form, "location", "agenda", empty=""),
            start_at=start_at,
            end_at=start_at + dt.timedelta(minutes=form.duration.data),
            **who,
        )

    saved = submit(form, save)
    if saved and saved.ok:
        flash(_("저장했습니다."), "success")
        return redirect(url_for("committee.admin_meeting", meeting_id=saved.value.id))
    return _meeting_page(meeting, form, form_status())


@bp.route("/admin/meetings/<int:meeting_id>/<any(held, cancelled, scheduled):status>", methods=["POST"])
@roles_required(*SECRETARIAT_ROLES)
def admin_meeting_status(meeting_id: int, status: str):
    meeting = db.get_or_404(CommitteeMeeting, meeting_id)
    submit(None, partial(set_meeting_status, db.session, meeting, status))
    return redirect(url_for("committee.admin_meeting", meeting_id=meeting_id))


@bp.route("/admin/meetings/<int:meeting_id>/minutes", methods=["POST"])
@roles_required(*SECRETARIAT_ROLES)
def admin_meeting_minutes(meeting_id: int):
    meeting = db.get_or_404(CommitteeMeeting, meeting_id)
    present = set()
    for raw in request.form.getlist("present"):
        try:
            present.add(bounded_int(raw))
        except ValueError:
            continue
    form = MinutesForm()
    minutes = partial(record_minutes, db.session, meeting, present_member_ids=present)
    saved = submit(form, lambda **who: minutes(minutes=form.minutes.data or "", **who))
    if saved is None:
        abort(400)
    if saved.ok:
        flash(_("회의록과 출석을 저장했습니다."), "success")
    return redirect(url_for("committee.admin_meeting", meeting_id=meeting_id))


@bp.route("/admin/meetings/<int:meeting_id>/items", methods=["POST"])
@roles_required(*SECRETARIAT_ROLES)
def admin_meeting_item(meeting_id: int):
    form = AdvisoryForm()
    meeting = db.get_or_404(CommitteeMeeting, meeting_id)
    form.subcommittee_id.choices = [SelectChoice(s.id, s.name) for s in current_committee().subcommittees]
    form.department_id.choices = department_choices(_("(미정)"))
    added = submit(
        form,
        lambda **who: add_advisory_item(
            db.session,
            meeting,
            code=form.code.data.strip(),
            **field_values(form, "title", "subcommittee_id"),
            department_id=form.department_id.data or None,
            **who,
        ),
    )
    if added and added.ok:
        flash(_("자문안건 %(code)s을(를) 과제로 등록했습니다.", code=added.value.code), "success")
        return redirect(url_for("committee.admin_meeting", meeting_id=meeting_id))
    meeting = db.get_or_404(CommitteeMeeting, meeting_id)
    return _meeting_page(meeting, MeetingForm(formdata=None, obj=meeting), 400, advisory=form)


# --- task CSV upload ---------------------------------------------------------------------------


@bp.route("/admin/import", methods=["GET", "POST"])
@roles_required(*SECRETARIAT_ROLES)
def admin_import():
    """The task CSV of ``flask committee import`` as an upload: all lines valid, or nothing changes."""
    committees = db.session.scalars(select(Committee).order_by(Committee.id)).all()
    form = TaskImportForm()
    form.committee_id.choices = [SelectChoice(c.id, c.name) for c in committees]
    if request.method == "GET":
        form.committee_id.data = current_committee().id
    text = read_csv_upload(form.file) if form.validate_on_submit() else None
    if text is None:
        return render_template("committee/admin_import.html", form=form, import_errors=[]), form_status()
    committee = db.session.get(Committee, form.committee_id.data)
    now = utcnow()

    def audit(result: dict) -> None:
        record(
            db.session,
            actor_id=current_user.id,
            action="committee.import",
            now=now,
            target_type="committee",
            target_id=committee.id,
            detail=result,
            ip=request.remote_addr,
        )

    imported = run(
        lambda: import_tasks(db.session, text, now=now, committee_name=committee.name),
        form=form,
        on_success=audit,
    )
    if not imported.ok:
        errors = getattr(imported.error, "errors", [])
        return render_template("committee/admin_import.html", form=form, import_errors=errors), 400
    result = imported.value
    flash(_("가져오기 완료: 새로 %(c)d개, 갱신 %(u)d개", c=result["created"], u=result["updated"]), "success")
    return redirect(url_for("committee.admin_import"))


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
    created = form.validate_on_submit() and run(
        lambda: create_committee(
            db.session,
            name=form.name.data,
            description=form.description.data or "",
            subcommittees=(form.subcommittees.data or "").splitlines(),
            actor=current_user,
        ),
        form=form,
    )
    if not (created and created.ok):
        return _committees_page(form, status=400)
    committee = created.value
    flash(_("위원회 '%(name)s'을(를) 만들었습니다.", name=committee.name), "success")
    return redirect(url_for("committee.admin_committees", _anchor=f"committee-{committee.id}"))


@bp.route("/admin/committees/<int:committee_id>/subcommittees", methods=["POST"])
@roles_required(ADMIN)
def admin_add_subcommittee(committee_id: int):
    committee = db.get_or_404(Committee, committee_id)
    form = SubCommitteeForm(prefix=f"c{committee_id}")
    added = form.validate_on_submit() and run(
        lambda: add_subcommittee(db.session, committee, name=form.name.data, actor=current_user), form=form
    )
    if not (added and added.ok):
        return _committees_page(sub_forms={committee_id: form}, status=400)
    flash(_("분과 '%(name)s'을(를) 추가했습니다.", name=added.value.name), "success")
    return redirect(url_for("committee.admin_committees", _anchor=f"committee-{committee_id}"))
