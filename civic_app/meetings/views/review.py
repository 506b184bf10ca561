"""Staff review of requests: the queue, a request's page and every decision taken on it, walk-ins."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from flask import abort, flash, get_flashed_messages, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import lazyload

from civic_app.audit.services import VIEW_PERSONAL_DATA, record
from civic_app.dongs.models import Department, Host
from civic_app.errors import Conflict
from civic_app.extensions import db
from civic_app.meetings import outcomes, queries, review, schedule, submission
from civic_app.meetings.base import field_error, get_request
from civic_app.meetings.booking import free_slots
from civic_app.meetings.forms import (
    ActionForm,
    AnswerForm,
    ChangeDecisionForm,
    DecisionForm,
    FollowUpForm,
    OutcomeForm,
    WalkInForm,
)
from civic_app.meetings.models import CATEGORIES, FollowUp, MeetingSlot, TongtongSession
from civic_app.meetings.texts import REASONS_BY_ACTION, reason_label
from civic_app.meetings.views.common import (
    STAFF,
    bp,
    clock,
    dept_choices,
    dong_choices,
    finish_followup,
    form_status,
    offer_sessions,
    paginate,
    request_kwargs,
    save_answer,
)
from civic_app.storage import storage
from civic_app.timeutil import SEOUL
from civic_app.web.actions import run
from civic_app.web.filters import format_datetime
from civic_app.web.htmx import is_htmx, render_page_or_fragment
from civic_app.web.inputs import query_int
from civic_app.web.policy import roles_required


# --- the queue -------------------------------------------------------------------------------------
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
    now = clock()
    filters = _filters()
    queue = paginate(queries.review_query(filters, now), queries.QUEUE_PER_PAGE)
    return render_page_or_fragment(
        "meetings/review_queue.html",
        "meetings/_queue_table.html",
        queue=queue,
        rows=queue.items,
        filters=filters,
        now=now,
        is_overdue=queries.is_overdue,
        categories=CATEGORIES,
        dongs=dong_choices()[1:],
        action_form=ActionForm(),
    )


@bp.route("/staff/tongtong/requests/<int:request_id>/quick-mayor", methods=["POST"])
@roles_required(*STAFF)
def quick_mayor(request_id: int):
    """Inline action of the queue: book the mayor in the next free place (or wait-list). An htmx
    request gets the row back, with the outcome in it."""
    now = clock()
    req = get_request(db.session, request_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    outcome = run(lambda: review.decide_mayor(db.session, req, actor=current_user, now=now))
    if outcome.ok:
        done = _("시장 면담을 배정했습니다.") if outcome.value else _("자리가 없어 대기 명단에 올렸습니다.")
        flash(done, "success")
    if not is_htmx():
        return redirect(url_for("meetings.review_queue"))
    return render_page_or_fragment(
        "meetings/_queue_row.html",
        "meetings/_queue_row.html",
        r=req,
        now=now,
        is_overdue=queries.is_overdue,
        action_form=ActionForm(),
        message=" ".join(get_flashed_messages()),
    )


# --- a request's page --------------------------------------------------------------------------------
PREFIXES = {"mayor": "m", "fallback": "f", "written": "w", "decline": "d"}


def _decision_forms(req, now: dt.datetime, forms: dict, upcoming: list) -> dict[str, DecisionForm]:
    decision = {a: forms.get(a) or DecisionForm(prefix=p) for a, p in PREFIXES.items()}
    for action, form in decision.items():
        form.reason_code.choices = [(code, reason_label(code)) for code in REASONS_BY_ACTION[action]]
    hosts = review.suggest_hosts(db.session, req)
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
    decision["written"].department_id.choices = dept_choices(blank=False)
    decision["mayor"].slot_id.choices = [(0, _("자동 (희망 회차 또는 가장 가까운 회차)"))] + [
        (slot.id, format_datetime(slot.start_at)) for row in upcoming[:8] for slot in row.open_slots
    ]
    return decision


def _detail_context(req, now: dt.datetime, **forms) -> dict:
    upcoming = queries.upcoming_sessions(db.session, now, limit=24)  # read once for the forms and the queue
    decision = _decision_forms(req, now, forms, upcoming)
    followup = forms.get("followup") or FollowUpForm()
    followup.department_id.choices = dept_choices()
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
        "answer_overdue": outcomes.answer_is_overdue(req, now),
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


def _back_to_detail(request_id: int):
    # request_id, not req.id: the commit expired req, and reloading it costs 4 queries
    return redirect(url_for("meetings.review_detail", request_id=request_id))


@bp.route("/staff/tongtong/requests/<int:request_id>")
@roles_required(*STAFF)
def review_detail(request_id: int):
    req = queries.request_with_history(db.session, request_id)
    return _render_detail(req, clock())


# --- decisions: each returns the flash that tells staff what happened ------------------------------
def _said(form: DecisionForm) -> dict:
    """What every decision carries: its reason, the note to the citizen and who decided."""
    return {"reason_code": form.reason_code.data, "note": form.note.data or "", "actor": current_user}


def _slot(slot_id: int) -> MeetingSlot | None:
    """The slot a decision names; its booking is not loaded (the booking is an insert that
    either wins or finds the slot taken)."""
    return db.session.get(MeetingSlot, slot_id, options=[lazyload(MeetingSlot.booking)])


def _mayor(req, form: DecisionForm, now: dt.datetime) -> str:
    slot = _slot(form.slot_id.data) if form.slot_id.data else None
    booking = review.decide_mayor(db.session, req, slot=slot, now=now, **_said(form))
    if booking is not None:
        return _("시장 면담을 배정했습니다.")
    # Lost the slot to someone faster: name the session's slots still free.
    free = free_slots(db.session, slot.session) if slot is not None and slot.session is not None else []
    if free:
        return _(
            "고른 시간은 방금 찼습니다. 대기 명단에 올렸고, 이 회차의 남은 시간은 %(times)s입니다.",
            times=", ".join(format_datetime(s.start_at) for s in free),
        )
    return _("자리가 없어 대기 명단에 올렸습니다.")


def _fallback(req, form: DecisionForm, now: dt.datetime) -> str:
    slot = _slot(form.slot_id.data or 0)
    if form.new_start.data is not None:
        # No fitting slot: open one for the chosen host right here.
        host = db.session.get(Host, form.new_host_id.data or 0)
        if host is None or not host.active or host.rank <= 1:
            raise field_error("new_host_id", _("면담 주재자를 골라 주세요."))
        slot = schedule.publish_host_slot(
            db.session,
            host,
            start_at=form.new_start.data.replace(tzinfo=SEOUL).astimezone(dt.UTC),
            minutes=form.new_minutes.data or 30,
            location="",
            now=now,
        )
    if slot is None:
        raise field_error("slot_id", _("면담 시간을 골라 주세요."))
    review.decide_fallback(db.session, req, slot=slot, now=now, **_said(form))
    return _("대리 면담을 배정했습니다.")


def _written(req, form: DecisionForm, now: dt.datetime) -> str:
    dept = db.session.get(Department, form.department_id.data or 0)
    if dept is None:
        raise field_error("department_id", _("담당 부서를 골라 주세요."))
    review.decide_written(
        db.session, req, route=form.route.data, department=dept, due=form.due.data, now=now, **_said(form)
    )
    return _("담당 부서로 넘겼습니다.")


def _decline(req, form: DecisionForm, now: dt.datetime) -> str:
    review.decline(db.session, req, now=now, **_said(form))
    return _("불채택으로 처리했습니다.")


def _accept_change(req, form: ChangeDecisionForm, now: dt.datetime) -> str:
    review.accept_change(db.session, req, actor=current_user, now=now)
    return _("회차 변경을 수락했습니다. 시민에게 새 일정을 보냈습니다.")


def _reject_change(req, form: ChangeDecisionForm, now: dt.datetime) -> str:
    review.reject_change(db.session, req, note=form.note.data or "", actor=current_user, now=now)
    return _("회차 변경 요청을 거절했습니다. 시민에게 사유를 보냈습니다.")


def _record_outcome(req, form: OutcomeForm, now: dt.datetime) -> str:
    outcomes.record_outcome(
        db.session,
        req,
        attended=form.attended.data,
        outcome=form.outcome.data or "",
        public_summary=form.public_summary.data or "",
        actor=current_user,
        now=now,
    )
    return _("면담 결과를 기록했습니다.")


def _add_followup(req, form: FollowUpForm, now: dt.datetime) -> str:
    department = db.session.get(Department, form.department_id.data or 0)
    outcomes.add_followup(
        db.session,
        req,
        title=form.title.data,
        department=department,
        due_date=form.due_date.data,
        local_budget=form.local_budget.data,
        actor=current_user,
        now=now,
    )
    return _("후속 조치를 추가했습니다.")


DECISIONS = {"mayor": _mayor, "fallback": _fallback, "written": _written, "decline": _decline}
CHANGES = {"accept": _accept_change, "reject": _reject_change}


def _on_detail(request_id: int, name: str, form, step: Callable[..., str]):
    """A form of the request's page (``name``: its key among the page's forms). ``step(req,
    form, now)`` calls the service and returns what to tell staff; then back to the page. A
    lost race (the slot went to someone faster: Conflict) is said there at once; any other
    error shows the page again with the form's errors (400)."""
    now = clock()
    req = get_request(db.session, request_id, history=False)
    if form.validate_on_submit():
        outcome = run(lambda: step(req, form, now), form=form)
        if outcome.ok:
            flash(outcome.value, "success")
        if outcome.ok or isinstance(outcome.error, Conflict):
            return _back_to_detail(request_id)
    return _render_detail(req, now, 400, **{name: form})


@bp.route(
    "/staff/tongtong/requests/<int:request_id>/decide/<any(mayor, fallback, written, decline):action>",
    methods=["POST"],
)
@roles_required(*STAFF)
def decide(request_id: int, action: str):
    return _on_detail(request_id, action, DecisionForm(prefix=PREFIXES[action]), DECISIONS[action])


@bp.route("/staff/tongtong/requests/<int:request_id>/change/<any(accept, reject):verdict>", methods=["POST"])
@roles_required(*STAFF)
def change_decision(request_id: int, verdict: str):
    """Accept or turn down a booked citizen's request for another session."""
    return _on_detail(request_id, "change", ChangeDecisionForm(), CHANGES[verdict])


@bp.route("/staff/tongtong/requests/<int:request_id>/answer/<any(interim, final):kind>", methods=["POST"])
@roles_required(*STAFF)
def answer(request_id: int, kind: str):
    def step(req, form: AnswerForm, now: dt.datetime) -> str:
        save_answer(req, form, kind, now)
        return _("저장했습니다.")

    return _on_detail(request_id, "answer", AnswerForm(), step)


@bp.route("/staff/tongtong/requests/<int:request_id>/outcome", methods=["POST"])
@roles_required(*STAFF)
def outcome(request_id: int):
    return _on_detail(request_id, "outcome", OutcomeForm(), _record_outcome)


@bp.route("/staff/tongtong/requests/<int:request_id>/followups", methods=["POST"])
@roles_required(*STAFF)
def add_followup(request_id: int):
    form = FollowUpForm()
    form.department_id.choices = dept_choices()
    return _on_detail(request_id, "followup", form, _add_followup)


@bp.route("/staff/tongtong/followups/<int:item_id>/done", methods=["POST"])
@roles_required(*STAFF)
def followup_done(item_id: int):
    item = db.get_or_404(FollowUp, item_id)
    return finish_followup(item, url_for("meetings.review_detail", request_id=item.request_id))


@bp.route("/staff/tongtong/requests/<int:request_id>/attachment")
@roles_required(*STAFF)
def attachment(request_id: int):
    req = get_request(db.session, request_id)
    if not req.attachment_path:
        abort(404)
    _log_view(req, clock())
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
    now = clock()
    form = WalkInForm()
    form.dong_id.choices = dong_choices()
    session_rows = offer_sessions(form, now)

    def call() -> tuple[int, str]:
        req = submission.log_walk_in(
            db.session,
            actor=current_user,
            now=now,
            room_start=form.room_start.data.replace(tzinfo=SEOUL).astimezone(dt.UTC),
            room_minutes=form.room_minutes.data or 30,
            requester={
                "name": form.requester_name.data or "",
                "phone": form.requester_phone.data,
                "email": form.requester_email.data,
            },
            **request_kwargs(form),
        )
        return req.id, req.code

    if form.validate_on_submit() and (outcome := run(call, form=form)).ok:
        request_id, code = outcome.value
        flash(_("방문 민원을 접수했습니다 (%(code)s).", code=code), "success")
        return _back_to_detail(request_id)
    return render_template(
        "meetings/request_form.html", form=form, walk_in=True, session_rows=session_rows
    ), form_status()
