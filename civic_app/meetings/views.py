"""통통데이 pages: public sessions and summaries, the citizen's requests, staff review, hosts."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from civic_app import refdata
from civic_app.audit.services import VIEW_PERSONAL_DATA, record
from civic_app.dongs.models import Department, Host
from civic_app.errors import Conflict, DomainError
from civic_app.extensions import db
from civic_app.meetings import queries, schedule, services
from civic_app.meetings.forms import (
    ActionForm,
    AnswerForm,
    CancelSessionForm,
    ChangeDecisionForm,
    DecisionForm,
    FollowUpForm,
    GenerateForm,
    HostSlotForm,
    MoveSessionForm,
    OtherSessionForm,
    OutcomeForm,
    RequestForm,
    RuleForm,
    WalkInForm,
)
from civic_app.meetings.models import CATEGORIES, FollowUp, MeetingSlot, TongtongSession
from civic_app.storage import storage
from civic_app.timeutil import SEOUL, utcnow
from civic_app.web.forms import apply_domain_error
from civic_app.web.htmx import is_htmx, render_page_or_fragment
from civic_app.web.inputs import query_int
from civic_app.web.policy import ADMIN, CIVIC_STAFF, DEPARTMENT, HOST, public, roles_required, signed_in

bp = Blueprint("meetings", __name__)
STAFF = (CIVIC_STAFF, ADMIN)


def _helpers() -> dict:
    return {
        "status_label": services.status_label,
        "route_label": services.route_label,
        "reason_label": services.reason_label,
    }


@bp.app_context_processor
def _inject() -> dict:
    return {"tt": _helpers()}


def _upload_dir() -> str:
    return storage().folder("meeting_uploads")


def _dong_choices() -> list[tuple[int, str]]:
    return [(0, _("(선택 안 함)"))] + [(d.id, d.name) for d in refdata.dongs()]  # per-process cache


def _dept_choices(blank: bool = True) -> list[tuple[int, str]]:
    return ([(0, _("(없음)"))] if blank else []) + [(d.id, d.name) for d in refdata.departments()]


# --- public ----------------------------------------------------------------------------------------
@bp.route("/tongtong")
@public
def public_index():
    now = utcnow()
    return render_template(
        "meetings/public_index.html",
        sessions=queries.upcoming_sessions(db.session, now, limit=6),
        summaries=queries.public_summaries(db.session, limit=10),
        stats=queries.headline_stats(db.session, now),
    )


def home_section() -> dict:
    """The public home page block: the next sessions and their free places."""
    return {
        "template": "meetings/_home.html",
        "tt_sessions": queries.upcoming_sessions(db.session, utcnow(), limit=3),
    }


@bp.route("/tongtong/summaries/<int:request_id>")
@public
def summary(request_id: int):
    req = services.get_request(db.session, request_id)
    if not (req.publish_consent and req.public_summary):
        abort(404)
    return render_template("meetings/summary.html", req=req)


def _period() -> tuple[dt.date | None, dt.date | None]:
    """?from=YYYY-MM-DD&to=YYYY-MM-DD of the statistics pages (anything else: the default)."""

    def day(name: str) -> dt.date | None:
        try:
            return dt.date.fromisoformat(request.args.get(name, ""))
        except ValueError:
            return None

    start, end = day("from"), day("to")
    if start is not None and not dt.date(2000, 1, 1) <= start <= dt.date(2100, 12, 31):
        start = None
    if end is not None and not dt.date(2000, 1, 1) <= end <= dt.date(2100, 12, 31):
        end = None
    return start, end


@bp.route("/tongtong/stats")
@public
def public_stats():
    stats = queries.statistics_for(db.session, utcnow(), *_period())
    return render_template("meetings/stats.html", stats=stats, staff=False, overdue=[])


# --- citizen ---------------------------------------------------------------------------------------
@bp.route("/tongtong/requests")
@signed_in
def my_requests():
    return render_template("meetings/my_requests.html", rows=queries.my_requests(db.session, current_user.id))


def _session_choices(now: dt.datetime) -> list[tuple[int, str]]:
    from civic_app.web.filters import format_datetime

    rows = queries.upcoming_sessions(db.session, now, limit=8)
    return [
        (r.session.id, f"{format_datetime(r.session.start_at)} · " + _("남은 자리 %(n)d", n=r.free))
        for r in rows
    ]


def _read_attachment(form) -> tuple[str, bytes] | None:
    file = form.attachment.data
    if file is None or not getattr(file, "filename", ""):
        return None
    data = file.read(services.MAX_ATTACHMENT_BYTES + 1)
    return file.filename, data


def _request_kwargs(form) -> dict:
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
        "attachment": _read_attachment(form),
        "upload_dir": _upload_dir(),
    }


@bp.route("/tongtong/requests/new", methods=["GET", "POST"])
@signed_in
def new_request():
    now = utcnow()
    form = RequestForm()
    form.dong_id.choices = _dong_choices()
    form.preferred_sessions.choices = _session_choices(now)
    if form.validate_on_submit():
        try:
            req = services.submit_request(db.session, actor=current_user, now=now, **_request_kwargs(form))
            code = req.code  # read before the commit expires req (a reload costs 4 queries)
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            flash(_("신청을 접수했습니다. 신청 번호는 %(code)s입니다.", code=code), "success")
            return redirect(url_for("meetings.request_status", code=code))
    status = 400 if request.method == "POST" else 200
    return render_template("meetings/request_form.html", form=form, walk_in=False), status


def _own_request(code: str):
    req = queries.request_by_code(db.session, code)
    if req is None or req.requester_id != current_user.id:
        abort(404)
    return req


@bp.route("/tongtong/requests/<code>")
@signed_in
def request_status(code: str):
    now = utcnow()
    req = _own_request(code)
    other = OtherSessionForm()
    other.session_id.choices = _session_choices(now)
    return render_template(
        "meetings/request_status.html",
        req=req,
        queue=queries.queue_info(db.session, req, now),
        other_form=other,
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
    if not form.validate_on_submit():
        abort(400)
    try:
        services.withdraw(db.session, req, actor=current_user, now=utcnow())
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        flash(_("신청을 철회했습니다."), "success")
    return redirect(url_for("meetings.request_status", code=code))


@bp.route("/tongtong/requests/<code>/session", methods=["POST"])
@signed_in
def other_session(code: str):
    now = utcnow()
    req = _own_request(code)
    form = OtherSessionForm()
    form.session_id.choices = _session_choices(now)
    if not form.validate_on_submit():
        flash(_("고를 수 없는 회차입니다."), "error")
        return redirect(url_for("meetings.request_status", code=code))
    try:
        result = services.ask_other_session(
            db.session, req, session_id=form.session_id.data, actor=current_user, now=now
        )
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        messages = [m for _f, m in getattr(error, "errors", [])] or [error.message]
        flash(" ".join(messages), "error")
        return redirect(url_for("meetings.request_status", code=code))
    if result == "requested":
        flash(
            _("회차 변경을 요청했습니다. 담당자가 확인할 때까지 지금 예약은 그대로입니다."),
            "success",
        )
    else:
        flash(_("희망 회차를 바꿨습니다."), "success")
    return redirect(url_for("meetings.request_status", code=code))


# --- staff: review ---------------------------------------------------------------------------------
def _filters() -> queries.ReviewFilters:
    args = request.args
    category = args.get("category") if args.get("category") in CATEGORIES else None
    return queries.ReviewFilters(
        category=category,
        dong_id=query_int("dong"),
        group=args.get("group") == "1",
        overdue=args.get("overdue") == "1",
        change=args.get("change") == "1",
    )


@bp.route("/staff/tongtong/requests")
@roles_required(*STAFF)
def review_queue():
    now = utcnow()
    filters = _filters()
    page = query_int("page", 1)
    queue = queries.review_queue(db.session, filters, now, page=page)
    return render_page_or_fragment(
        "meetings/review_queue.html",
        "meetings/_queue_table.html",
        queue=queue,
        rows=queue.rows,
        filters=filters,
        now=now,
        is_overdue=queries.is_overdue,
        categories=CATEGORIES,
        dongs=_dong_choices()[1:],
        action_form=ActionForm(),
    )


@bp.route("/staff/tongtong/requests/<int:request_id>/quick-mayor", methods=["POST"])
@roles_required(*STAFF)
def quick_mayor(request_id: int):
    """Inline action of the queue: book the mayor in the next free place (or wait-list)."""
    now = utcnow()
    req = services.get_request(db.session, request_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    booking = services.decide_mayor(db.session, req, actor=current_user, now=now)
    db.session.commit()
    message = _("시장 면담을 배정했습니다.") if booking else _("자리가 없어 대기 명단에 올렸습니다.")
    if is_htmx():
        response = render_page_or_fragment(
            "meetings/_queue_row.html",
            "meetings/_queue_row.html",
            r=req,
            now=now,
            is_overdue=queries.is_overdue,
            action_form=ActionForm(),
            message=message,
        )
        return response
    flash(message, "success")
    return redirect(url_for("meetings.review_queue"))


PREFIXES = {"mayor": "m", "fallback": "f", "written": "w", "decline": "d"}


def _detail_context(req, now: dt.datetime, **forms) -> dict:
    from civic_app.web.filters import format_datetime

    decision = {a: forms.get(a) or DecisionForm(prefix=p) for a, p in PREFIXES.items()}
    for action, form in decision.items():
        form.reason_code.choices = [
            (code, services.reason_label(code)) for code in services.REASONS_BY_ACTION[action]
        ]
    hosts = services.suggest_hosts(db.session, req)
    decision["fallback"].new_host_id.choices = [
        (h.id, f"{h.title} {h.person_name or ''}".strip() + (" ★" if h.field == req.category else ""))
        for h in hosts
    ]
    slots = queries.open_host_slots(db.session, now)
    suggested = {h.id: i for i, h in enumerate(hosts)}
    slots.sort(key=lambda s: (suggested.get(s.host_id, 99), s.start_at))
    decision["fallback"].slot_id.choices = [
        (
            s.id,
            f"{s.host.title} · {format_datetime(s.start_at)}"
            + (" ★" if req.category == s.host.field else ""),
        )
        for s in slots
    ] + [(0, _("(아래에서 새 면담 시간을 엽니다)"))]
    decision["written"].department_id.choices = _dept_choices(blank=False)
    upcoming = queries.upcoming_sessions(db.session, now, limit=24)  # read once for the form and the queue
    decision["mayor"].slot_id.choices = [(0, _("자동 (희망 회차 또는 가장 가까운 회차)"))] + [
        (slot.id, f"{format_datetime(slot.start_at)}") for row in upcoming[:8] for slot in row.open_slots
    ]
    followup = forms.get("followup") or FollowUpForm()
    followup.department_id.choices = _dept_choices()
    known = {row.session.id: row.session for row in upcoming}
    wanted = req.preferred_session_ids or []
    preferred = sorted([known[i] for i in wanted if i in known], key=lambda t: t.start_at)
    if any(i not in known for i in wanted):
        preferred = list(
            db.session.scalars(
                select(TongtongSession)
                .where(TongtongSession.id.in_(wanted))
                .order_by(TongtongSession.start_at)
            )
        )
    return {
        "preferred_sessions": preferred,
        "change_form": forms.get("change") or ChangeDecisionForm(),
        "req": req,
        "now": now,
        "queue": queries.queue_info(db.session, req, now, upcoming),
        "mayor_form": decision["mayor"],
        "fallback_form": decision["fallback"],
        "written_form": decision["written"],
        "decline_form": decision["decline"],
        "answer_form": forms.get("answer") or AnswerForm(),
        "outcome_form": forms.get("outcome") or OutcomeForm(),
        "followup_form": followup,
        "action_form": ActionForm(),
        "is_overdue": queries.is_overdue,
        "answer_overdue": services.answer_is_overdue(req, now),
        "today": now.astimezone(SEOUL).date(),
    }


def _log_view(req, now: dt.datetime) -> None:
    record(
        db.session,
        actor_id=current_user.id,
        action=VIEW_PERSONAL_DATA,
        now=now,
        target_type="meeting_request",
        target_id=req.id,
        detail={"fields": ["name", "phone", "email"]},
        ip=request.remote_addr,
    )


def _render_detail(req, now: dt.datetime, status: int = 200, **forms):
    body = render_template("meetings/review_detail.html", **_detail_context(req, now, **forms))
    _log_view(req, now)
    db.session.commit()  # after rendering: the commit expires everything the page read
    return body, status


@bp.route("/staff/tongtong/requests/<int:request_id>")
@roles_required(*STAFF)
def review_detail(request_id: int):
    req = queries.request_with_history(db.session, request_id)
    return _render_detail(req, utcnow())


@bp.route(
    "/staff/tongtong/requests/<int:request_id>/decide/<any(mayor, fallback, written, decline):action>",
    methods=["POST"],
)
@roles_required(*STAFF)
def decide(request_id: int, action: str):
    now = utcnow()
    req = services.get_request(db.session, request_id)
    form = DecisionForm(prefix=PREFIXES[action])
    if form.validate_on_submit():
        try:
            if action == "mayor":
                slot = db.session.get(MeetingSlot, form.slot_id.data) if form.slot_id.data else None
                booking = services.decide_mayor(
                    db.session,
                    req,
                    actor=current_user,
                    now=now,
                    reason_code=form.reason_code.data,
                    note=form.note.data or "",
                    slot=slot,
                )
                message = (
                    _("시장 면담을 배정했습니다.") if booking else _("자리가 없어 대기 명단에 올렸습니다.")
                )
                if booking is None and slot is not None and slot.session is not None:
                    # Lost the slot to someone faster: name the session's slots still free.
                    from civic_app.web.filters import format_datetime

                    free = services.free_slots(db.session, slot.session)
                    if free:
                        message = _(
                            "고른 시간은 방금 찼습니다. 대기 명단에 올렸고, 이 회차의 남은 시간은 %(times)s입니다.",
                            times=", ".join(format_datetime(s.start_at) for s in free),
                        )
            elif action == "fallback":
                slot = db.session.get(MeetingSlot, form.slot_id.data or 0)
                if form.new_start.data is not None:
                    # No fitting slot: open one for the chosen host right here.
                    host = db.session.get(Host, form.new_host_id.data or 0)
                    if host is None or not host.active or host.rank <= 1:
                        raise services.ValidationFailed(
                            _("면담 주재자를 골라 주세요."),
                            [("new_host_id", _("면담 주재자를 골라 주세요."))],
                        )
                    slot = schedule.publish_host_slot(
                        db.session,
                        host,
                        start_at=form.new_start.data.replace(tzinfo=SEOUL).astimezone(dt.UTC),
                        minutes=form.new_minutes.data or 30,
                        location="",
                        now=now,
                    )
                if slot is None:
                    raise services.ValidationFailed(
                        _("면담 시간을 골라 주세요."), [("slot_id", _("면담 시간을 골라 주세요."))]
                    )
                services.decide_fallback(
                    db.session,
                    req,
                    slot=slot,
                    reason_code=form.reason_code.data,
                    note=form.note.data or "",
                    actor=current_user,
                    now=now,
                )
                message = _("대리 면담을 배정했습니다.")
            elif action == "written":
                dept = db.session.get(Department, form.department_id.data or 0)
                if dept is None:
                    raise services.ValidationFailed(
                        _("담당 부서를 골라 주세요."), [("department_id", _("담당 부서를 골라 주세요."))]
                    )
                services.decide_written(
                    db.session,
                    req,
                    route=form.route.data,
                    department=dept,
                    reason_code=form.reason_code.data,
                    note=form.note.data or "",
                    actor=current_user,
                    now=now,
                    due=form.due.data,
                )
                message = _("담당 부서로 넘겼습니다.")
            else:
                services.decline(
                    db.session,
                    req,
                    reason_code=form.reason_code.data,
                    note=form.note.data or "",
                    actor=current_user,
                    now=now,
                )
                message = _("불채택으로 처리했습니다.")
            db.session.commit()
        except Conflict as error:  # lost a race (the slot went to someone faster): say so at once
            db.session.rollback()
            flash(error.message, "error")
            return redirect(url_for("meetings.review_detail", request_id=request_id))
        except DomainError as error:
            db.session.rollback()
            req = services.get_request(db.session, request_id)
            apply_domain_error(form, error)
        else:
            flash(message, "success")
            # request_id, not req.id: the commit expired req, and reloading it costs 4 queries
            return redirect(url_for("meetings.review_detail", request_id=request_id))
    return _render_detail(req, now, 400, **{action: form})


@bp.route("/staff/tongtong/requests/<int:request_id>/change/<any(accept, reject):verdict>", methods=["POST"])
@roles_required(*STAFF)
def change_decision(request_id: int, verdict: str):
    """Accept or turn down a booked citizen's request for another session."""
    now = utcnow()
    req = services.get_request(db.session, request_id)
    form = ChangeDecisionForm()
    if form.validate_on_submit():
        try:
            if verdict == "accept":
                services.accept_change(db.session, req, actor=current_user, now=now)
                message = _("회차 변경을 수락했습니다. 시민에게 새 일정을 보냈습니다.")
            else:
                services.reject_change(
                    db.session, req, note=form.note.data or "", actor=current_user, now=now
                )
                message = _("회차 변경 요청을 거절했습니다. 시민에게 사유를 보냈습니다.")
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            req = services.get_request(db.session, request_id)
            apply_domain_error(form, error)
        else:
            flash(message, "success")
            return redirect(url_for("meetings.review_detail", request_id=req.id))
    return _render_detail(req, now, 400, change=form)


@bp.route("/staff/tongtong/requests/<int:request_id>/answer/<any(interim, final):kind>", methods=["POST"])
@roles_required(*STAFF)
def answer(request_id: int, kind: str):
    now = utcnow()
    req = services.get_request(db.session, request_id)
    form = AnswerForm()
    if form.validate_on_submit():
        try:
            if kind == "interim":
                if form.new_due.data is None:
                    raise services.ValidationFailed(
                        _("새 답변 기한을 입력해 주세요."), [("new_due", _("새 답변 기한을 입력해 주세요."))]
                    )
                services.record_interim(
                    db.session,
                    req,
                    text=form.text.data,
                    new_due=form.new_due.data,
                    actor=current_user,
                    now=now,
                )
            else:
                services.record_answer(db.session, req, text=form.text.data, actor=current_user, now=now)
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            req = services.get_request(db.session, request_id)
            apply_domain_error(form, error)
        else:
            flash(_("저장했습니다."), "success")
            return redirect(url_for("meetings.review_detail", request_id=req.id))
    return _render_detail(req, now, 400, answer=form)


@bp.route("/staff/tongtong/requests/<int:request_id>/outcome", methods=["POST"])
@roles_required(*STAFF)
def outcome(request_id: int):
    now = utcnow()
    req = services.get_request(db.session, request_id)
    form = OutcomeForm()
    if form.validate_on_submit():
        try:
            services.record_outcome(
                db.session,
                req,
                attended=form.attended.data,
                outcome=form.outcome.data or "",
                public_summary=form.public_summary.data or "",
                actor=current_user,
                now=now,
            )
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            req = services.get_request(db.session, request_id)
            apply_domain_error(form, error)
        else:
            flash(_("면담 결과를 기록했습니다."), "success")
            return redirect(url_for("meetings.review_detail", request_id=req.id))
    return _render_detail(req, now, 400, outcome=form)


@bp.route("/staff/tongtong/requests/<int:request_id>/followups", methods=["POST"])
@roles_required(*STAFF)
def add_followup(request_id: int):
    now = utcnow()
    req = services.get_request(db.session, request_id)
    form = FollowUpForm()
    form.department_id.choices = _dept_choices()
    if form.validate_on_submit():
        try:
            services.add_followup(
                db.session,
                req,
                title=form.title.data,
                department=db.session.get(Department, form.department_id.data or 0),
                due_date=form.due_date.data,
                local_budget=form.local_budget.data,
                actor=current_user,
                now=now,
            )
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            req = services.get_request(db.session, request_id)
            apply_domain_error(form, error)
        else:
            flash(_("후속 조치를 추가했습니다."), "success")
            return redirect(url_for("meetings.review_detail", request_id=req.id))
    return _render_detail(req, now, 400, followup=form)


@bp.route("/staff/tongtong/followups/<int:item_id>/done", methods=["POST"])
@roles_required(*STAFF)
def followup_done(item_id: int):
    item = db.get_or_404(FollowUp, item_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    services.complete_followup(db.session, item, note="", actor=current_user, now=utcnow())
    db.session.commit()
    flash(_("후속 조치를 완료로 바꿨습니다."), "success")
    return redirect(url_for("meetings.review_detail", request_id=item.request_id))


@bp.route("/staff/tongtong/requests/<int:request_id>/attachment")
@roles_required(*STAFF)
def attachment(request_id: int):
    req = services.get_request(db.session, request_id)
    if not req.attachment_path:
        abort(404)
    _log_view(req, utcnow())
    db.session.commit()
    return storage().send(
        "meeting_uploads",
        req.attachment_path,
        mimetype=req.attachment_type,
        as_attachment=True,
        download_name=req.attachment_name,
    )


@bp.route("/staff/tongtong/walk-in", methods=["GET", "POST"])
@roles_required(*STAFF)
def walk_in():
    now = utcnow()
    form = WalkInForm()
    form.dong_id.choices = _dong_choices()
    form.preferred_sessions.choices = _session_choices(now)
    if form.validate_on_submit():
        try:
            kwargs = _request_kwargs(form)
            start = form.room_start.data.replace(tzinfo=SEOUL).astimezone(dt.UTC)
            req = services.log_walk_in(
                db.session,
                actor=current_user,
                now=now,
                room_start=start,
                room_minutes=form.room_minutes.data or 30,
                requester={
                    "name": form.requester_name.data or "",
                    "phone": form.requester_phone.data,
                    "email": form.requester_email.data,
                },
                **kwargs,
            )
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            flash(_("방문 민원을 접수했습니다 (%(code)s).", code=req.code), "success")
            return redirect(url_for("meetings.review_detail", request_id=req.id))
    return render_template(
        "meetings/request_form.html", form=form, walk_in=True
    ), 400 if request.method == "POST" else 200


# --- staff: sessions, slots, statistics ------------------------------------------------------------
@bp.route("/staff/tongtong/sessions")
@roles_required(*STAFF)
def sessions():
    now = utcnow()
    return _render_sessions(now)


def _render_sessions(now: dt.datetime, status: int = 200, generate_form=None, rule_form=None):
    rows = queries.sessions_between(db.session, now - dt.timedelta(days=60), now + dt.timedelta(days=180))
    rule = schedule.current_rule(db.session)
    if generate_form is None:
        today = now.astimezone(SEOUL).date()
        generate_form = GenerateForm(formdata=None, start=today, end=dt.date(today.year + 1, 12, 31))
    if rule_form is None:
        rule_form = RuleForm(formdata=None, holiday_policy=rule.holiday_policy if rule else "skip")
    return render_template(
        "meetings/sessions.html",
        rows=rows,
        now=now,
        rule=rule,
        cancel_form=CancelSessionForm(),
        action_form=ActionForm(),
        generate_form=generate_form,
        rule_form=rule_form,
        can_set_rule=ADMIN in current_user.role_set,
        lines=None,
    ), status


@bp.route("/staff/tongtong/sessions/generate", methods=["POST"])
@roles_required(*STAFF)
def generate_sessions():
    """The button of the sessions page (``flask tongtong generate`` does the same)."""
    now = utcnow()
    form = GenerateForm()
    if form.validate_on_submit():
        rule = schedule.current_rule(db.session) or schedule.ensure_default_rule(db.session)
        try:
            if (form.end.data - form.start.data).days > 366 * 5:
                raise services.ValidationFailed(
                    _("한 번에 5년까지 만들 수 있습니다."), [("end", _("한 번에 5년까지 만들 수 있습니다."))]
                )
            lines = schedule.generate(db.session, rule, form.start.data, form.end.data, now=now)
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            counts = {
                k: sum(1 for x in lines if x.action == k) for k in ("created", "moved", "skipped", "exists")
            }
            flash(
                _(
                    "회차를 만들었습니다: 새로 %(c)d건, 옮겨 만듦 %(m)d건, 건너뜀 %(s)d건, 이미 있음 %(e)d건.",
                    c=counts["created"],
                    m=counts["moved"],
                    s=counts["skipped"],
                    e=counts["exists"],
                ),
                "success",
            )
            for line in lines:
                if line.action in ("moved", "skipped"):
                    flash(
                        _("%(d)s: %(r)s", d=line.rule_date.isoformat(), r=line.reason)
                        + (" → " + line.day.isoformat() if line.day else ""),
                        "info",
                    )
            return redirect(url_for("meetings.sessions"))
    return _render_sessions(now, 400, generate_form=form)


@bp.route("/staff/tongtong/rule", methods=["POST"])
@roles_required(ADMIN)
def set_rule():
    """Admin setting: what happens to a session date that is not a working day."""
    now = utcnow()
    form = RuleForm()
    if form.validate_on_submit():
        rule = schedule.current_rule(db.session) or schedule.ensure_default_rule(db.session)
        schedule.set_holiday_policy(db.session, rule, form.holiday_policy.data)
        db.session.commit()
        flash(_("공휴일 처리 방식을 저장했습니다. 앞으로 만드는 회차에 적용합니다."), "success")
        return redirect(url_for("meetings.sessions"))
    return _render_sessions(now, 400, rule_form=form)


@bp.route("/staff/tongtong/sessions/<int:session_id>/cancel", methods=["POST"])
@roles_required(*STAFF)
def cancel_session(session_id: int):
    tsession = db.get_or_404(TongtongSession, session_id)
    form = CancelSessionForm()
    if not form.validate_on_submit():
        flash(_("취소 사유를 입력해 주세요."), "error")
        return redirect(url_for("meetings.sessions"))
    affected = schedule.cancel_session(
        db.session, tsession, reason=form.reason.data, actor=current_user, now=utcnow()
    )
    db.session.commit()
    flash(_("회차를 취소했습니다. 안내한 신청 %(n)d건", n=len(affected)), "success")
    return redirect(url_for("meetings.sessions"))


@bp.route("/staff/tongtong/sessions/<int:session_id>/move", methods=["POST"])
@roles_required(*STAFF)
def move_session(session_id: int):
    tsession = db.get_or_404(TongtongSession, session_id)
    form = MoveSessionForm()
    if not form.validate_on_submit():
        flash(_("옮길 날짜와 사유를 입력해 주세요."), "error")
        return redirect(url_for("meetings.sessions"))
    try:
        schedule.move_session(
            db.session, tsession, day=form.day.data, reason=form.reason.data, actor=current_user, now=utcnow()
        )
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        messages = [m for _f, m in getattr(error, "errors", [])] or [error.message]
        flash(" ".join(messages), "error")
    else:
        flash(_("회차를 옮겼습니다. 예약한 시민에게 알렸습니다."), "success")
    return redirect(url_for("meetings.sessions"))


@bp.route("/staff/tongtong/sessions/<int:session_id>/held", methods=["POST"])
@roles_required(*STAFF)
def session_held(session_id: int):
    tsession = db.get_or_404(TongtongSession, session_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    services.mark_session_held(db.session, tsession, actor=current_user, now=utcnow())
    db.session.commit()
    flash(_("회차를 진행 완료로 바꿨습니다."), "success")
    return redirect(url_for("meetings.sessions"))


def _slot_form(hosts: list[Host]) -> HostSlotForm:
    form = HostSlotForm()
    form.host_id.choices = [(h.id, f"{h.title} {h.person_name or ''}".strip()) for h in hosts]
    return form


def _publish(form: HostSlotForm, hosts: list[Host], now: dt.datetime) -> bool:
    if not form.validate_on_submit():
        return False
    host = next((h for h in hosts if h.id == form.host_id.data), None)
    if host is None:
        abort(403)
    try:
        schedule.publish_host_slot(
            db.session,
            host,
            start_at=form.start.data.replace(tzinfo=SEOUL).astimezone(dt.UTC),
            minutes=form.minutes.data or 30,
            location=form.location.data or "",
            now=now,
        )
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        apply_domain_error(form, error)
        return False
    flash(_("면담 시간을 열었습니다."), "success")
    return True


@bp.route("/staff/tongtong/slots", methods=["GET", "POST"])
@roles_required(*STAFF)
def slots():
    now = utcnow()
    hosts = db.session.scalars(
        select(Host).where(Host.active.is_(True), Host.rank > 1).order_by(Host.rank, Host.id)
    ).all()
    form = _slot_form(list(hosts))
    if request.method == "POST" and _publish(form, list(hosts), now):
        return redirect(url_for("meetings.slots"))
    return render_template(
        "meetings/host_schedule.html",
        form=form,
        open_slots=queries.open_host_slots(db.session, now),
        bookings=queries.host_bookings(db.session, [h.id for h in hosts], now),
        staff=True,
    ), 400 if request.method == "POST" else 200


@bp.route("/host/tongtong", methods=["GET", "POST"])
@roles_required(HOST)
def host_schedule():
    now = utcnow()
    hosts = list(db.session.scalars(select(Host).where(Host.user_id == current_user.id)))
    publishable = [h for h in hosts if h.rank > 1]
    form = _slot_form(publishable)
    if request.method == "POST" and _publish(form, publishable, now):
        return redirect(url_for("meetings.host_schedule"))
    open_slots = [s for h in hosts for s in queries.open_host_slots(db.session, now, h.id)]
    return render_template(
        "meetings/host_schedule.html",
        form=form if publishable else None,
        open_slots=open_slots,
        bookings=queries.host_bookings(db.session, [h.id for h in hosts], now),
        staff=False,
    ), 400 if request.method == "POST" else 200


@bp.route("/staff/tongtong/stats")
@roles_required(*STAFF)
def stats():
    now = utcnow()
    return render_template(
        "meetings/stats.html",
        stats=queries.statistics_for(db.session, now, *_period()),
        staff=True,
        overdue=queries.overdue_followups(db.session, now),
    )


# --- departments: referred requests, written answers, follow-ups -----------------------------------
def _department_request(request_id: int):
    """A request this department account may work on: referred to it, or with one of its
    follow-up actions; anything else is 404 (not even its existence is told)."""
    req = services.get_request(db.session, request_id)
    dept = current_user.department_id
    if dept is None or not (req.department_id == dept or any(f.department_id == dept for f in req.followups)):
        abort(404)
    return req


@bp.route("/department/tongtong")
@roles_required(DEPARTMENT)
def department_queue():
    now = utcnow()
    if current_user.department_id is None:
        work = queries.DepartmentWork([], [])
    else:
        work = queries.department_work(db.session, current_user.department_id, now)
    return render_template(
        "meetings/department_queue.html",
        work=work,
        now=now,
        today=now.astimezone(SEOUL).date(),
        answer_overdue=services.answer_is_overdue,
    )


@bp.route("/department/tongtong/requests/<int:request_id>")
@roles_required(DEPARTMENT)
def department_request(request_id: int):
    req = _department_request(request_id)
    return _render_department_request(req, utcnow())


def _render_department_request(req, now: dt.datetime, status: int = 200, answer_form=None):
    return render_template(
        "meetings/department_request.html",
        req=req,
        now=now,
        today=now.astimezone(SEOUL).date(),
        answer_form=answer_form or AnswerForm(),
        action_form=ActionForm(),
        answer_overdue=services.answer_is_overdue(req, now),
        mine=req.department_id == current_user.department_id,
        followups=[f for f in req.followups if f.department_id == current_user.department_id],
    ), status


@bp.route(
    "/department/tongtong/requests/<int:request_id>/answer/<any(interim, final):kind>", methods=["POST"]
)
@roles_required(DEPARTMENT)
def department_answer(request_id: int, kind: str):
    now = utcnow()
    req = _department_request(request_id)
    form = AnswerForm()
    if form.validate_on_submit():
        try:
            if kind == "interim":
                if form.new_due.data is None:
                    raise services.ValidationFailed(
                        _("새 답변 기한을 입력해 주세요."), [("new_due", _("새 답변 기한을 입력해 주세요."))]
                    )
                services.record_interim(
                    db.session,
                    req,
                    text=form.text.data,
                    new_due=form.new_due.data,
                    actor=current_user,
                    now=now,
                )
            else:
                services.record_answer(db.session, req, text=form.text.data, actor=current_user, now=now)
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            req = _department_request(request_id)
            apply_domain_error(form, error)
        else:
            flash(_("저장했습니다. 시민에게 이메일로 알렸습니다."), "success")
            return redirect(url_for("meetings.department_request", request_id=req.id))
    return _render_department_request(req, now, 400, answer_form=form)


@bp.route("/department/tongtong/followups/<int:item_id>/done", methods=["POST"])
@roles_required(DEPARTMENT)
def department_followup_done(item_id: int):
    item = db.get_or_404(FollowUp, item_id)
    if item.department_id is None or item.department_id != current_user.department_id:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        services.complete_followup(db.session, item, note="", actor=current_user, now=utcnow())
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        flash(_("후속 조치를 완료로 바꿨습니다."), "success")
    return redirect(url_for("meetings.department_queue"))


# --- hosts: a briefing for each meeting --------------------------------------------------------------
@bp.route("/host/tongtong/briefings/<int:booking_id>")
@roles_required(HOST, CIVIC_STAFF, ADMIN)
def briefing(booking_id: int):
    """What the host needs before a meeting, printable: the desired outcome, accessibility needs,
    group size, earlier requests and 동 관리카드 items of the dong. The host of the meeting (its
    linked account) or staff; the citizen's contact details are left out."""
    from civic_app.meetings.models import MeetingBooking

    booking = db.get_or_404(MeetingBooking, booking_id)
    if not services.is_staff(current_user):
        own = set(db.session.scalars(select(Host.id).where(Host.user_id == current_user.id)))
        if booking.host_id not in own:
            abort(404)
    req = booking.request
    earlier, cards = queries.dong_history(db.session, req)
    return render_template("meetings/briefing.html", booking=booking, req=req, earlier=earlier, cards=cards)
