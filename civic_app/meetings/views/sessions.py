"""Staff and hosts: the sessions and their rule, deputies' and directors' slots, statistics and the
host's briefing for a meeting."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from civic_app.dongs.models import Host
from civic_app.extensions import db
from civic_app.meetings import booking, queries, schedule
from civic_app.meetings.base import field_error, is_staff
from civic_app.meetings.forms import (
    ActionForm,
    CancelSessionForm,
    GenerateForm,
    HostSlotForm,
    MoveSessionForm,
    RuleForm,
)
from civic_app.meetings.models import MeetingBooking, TongtongSession
from civic_app.meetings.views.common import STAFF, act, bp, clock, form_status, period
from civic_app.timeutil import SEOUL
from civic_app.web.actions import run
from civic_app.web.policy import ADMIN, HOST, roles_required


# --- sessions and their rule -----------------------------------------------------------------------
@bp.route("/staff/tongtong/sessions")
@roles_required(*STAFF)
def sessions():
    return _render_sessions(clock())


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


def _the_rule():
    return schedule.current_rule(db.session) or schedule.ensure_default_rule(db.session)


@bp.route("/staff/tongtong/sessions/generate", methods=["POST"])
@roles_required(*STAFF)
def generate_sessions():
    """The button of the sessions page (``flask tongtong generate`` does the same)."""
    now = clock()
    form = GenerateForm()

    def call() -> list[schedule.GenerateLine]:
        if (form.end.data - form.start.data).days > 366 * 5:
            raise field_error("end", _("한 번에 5년까지 만들 수 있습니다."))
        return schedule.generate(db.session, _the_rule(), form.start.data, form.end.data, now=now)

    if form.validate_on_submit() and (outcome := run(call, form=form)).ok:
        lines = outcome.value
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
    form = RuleForm()
    if (
        form.validate_on_submit()
        and run(
            lambda: schedule.set_holiday_policy(db.session, _the_rule(), form.holiday_policy.data), form=form
        ).ok
    ):
        flash(_("공휴일 처리 방식을 저장했습니다. 앞으로 만드는 회차에 적용합니다."), "success")
        return redirect(url_for("meetings.sessions"))
    return _render_sessions(clock(), 400, rule_form=form)


def _on_session(session_id: int, form, change: Callable[[TongtongSession], Any], done) -> Response:
    """A button of one session on the sessions page: ``change(session)``, then back to the page."""
    tsession = db.get_or_404(TongtongSession, session_id)
    return act(form, lambda: change(tsession), done, url_for("meetings.sessions"))


@bp.route("/staff/tongtong/sessions/<int:session_id>/cancel", methods=["POST"])
@roles_required(*STAFF)
def cancel_session(session_id: int):
    form = CancelSessionForm()

    def change(tsession: TongtongSession) -> list:
        return schedule.cancel_session(
            db.session, tsession, reason=form.reason.data, actor=current_user, now=clock()
        )

    return _on_session(
        session_id,
        form,
        change,
        lambda affected: _("회차를 취소했습니다. 안내한 신청 %(n)d건", n=len(affected)),
    )


@bp.route("/staff/tongtong/sessions/<int:session_id>/move", methods=["POST"])
@roles_required(*STAFF)
def move_session(session_id: int):
    form = MoveSessionForm()

    def change(tsession: TongtongSession) -> None:
        day, reason = form.day.data, form.reason.data
        schedule.move_session(db.session, tsession, day=day, reason=reason, actor=current_user, now=clock())

    return _on_session(session_id, form, change, _("회차를 옮겼습니다. 예약한 시민에게 알렸습니다."))


@bp.route("/staff/tongtong/sessions/<int:session_id>/held", methods=["POST"])
@roles_required(*STAFF)
def session_held(session_id: int):
    return _on_session(
        session_id,
        ActionForm(),
        lambda tsession: booking.mark_session_held(db.session, tsession, actor=current_user, now=clock()),
        _("회차를 진행 완료로 바꿨습니다."),
    )


# --- deputies' and directors' slots ----------------------------------------------------------------
def _slot_form(hosts: list[Host]) -> HostSlotForm:
    form = HostSlotForm()
    form.host_id.choices = [(h.id, f"{h.title} {h.person_name or ''}".strip()) for h in hosts]
    return form


def _publish(form: HostSlotForm, hosts: list[Host], now: dt.datetime) -> bool:
    """Open a slot for one of ``hosts`` (another host's id is refused); False: show the form."""
    if not form.validate_on_submit():
        return False
    host = next((h for h in hosts if h.id == form.host_id.data), None)
    if host is None:
        abort(403)
    outcome = run(
        lambda: schedule.publish_host_slot(
            db.session,
            host,
            start_at=form.start.data.replace(tzinfo=SEOUL).astimezone(dt.UTC),
            minutes=form.minutes.data or 30,
            location=form.location.data or "",
            now=now,
        ),
        form=form,
    )
    if outcome.ok:
        flash(_("면담 시간을 열었습니다."), "success")
    return outcome.ok


@bp.route("/staff/tongtong/slots", methods=["GET", "POST"])
@roles_required(*STAFF)
def slots():
    now = clock()
    hosts = list(
        db.session.scalars(
            select(Host).where(Host.active.is_(True), Host.rank > 1).order_by(Host.rank, Host.id)
        )
    )
    form = _slot_form(hosts)
    if request.method == "POST" and _publish(form, hosts, now):
        return redirect(url_for("meetings.slots"))
    return render_template(
        "meetings/host_schedule.html",
        form=form,
        open_slots=queries.open_host_slots(db.session, now),
        bookings=queries.host_bookings(db.session, [h.id for h in hosts], now),
        staff=True,
    ), form_status()


@bp.route("/host/tongtong", methods=["GET", "POST"])
@roles_required(HOST)
def host_schedule():
    now = clock()
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
    ), form_status()


@bp.route("/staff/tongtong/stats")
@roles_required(*STAFF)
def stats():
    now = clock()
    return render_template(
        "meetings/stats.html",
        stats=queries.statistics_for(db.session, now, *period()),
        staff=True,
        overdue=queries.overdue_followups(db.session, now),
    )


# --- hosts: a briefing for each meeting --------------------------------------------------------------
@bp.route("/host/tongtong/briefings/<int:booking_id>")
@roles_required(HOST, *STAFF)
def briefing(booking_id: int):
    """What the host needs before a meeting, printable: the desired outcome, accessibility needs,
    group size, earlier requests and 동 관리카드 items of the dong. The host of the meeting (its
    linked account) or staff; the citizen's contact details are left out."""
    meeting = db.get_or_404(MeetingBooking, booking_id)
    if not is_staff(current_user):
        own = set(db.session.scalars(select(Host.id).where(Host.user_id == current_user.id)))
        if meeting.host_id not in own:
            abort(404)
    req = meeting.request
    earlier, cards = queries.dong_history(db.session, req)
    return render_template("meetings/briefing.html", booking=meeting, req=req, earlier=earlier, cards=cards)
