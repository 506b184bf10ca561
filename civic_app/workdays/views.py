"""Admin pages for extra closed dates and election blackout ranges."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from wtforms import DateField, StringField
from wtforms.validators import DataRequired, Length

from civic_app.extensions import db
from civic_app.timeutil import utcnow
from civic_app.web.actions import audit
from civic_app.web.policy import ADMIN, CIVIC_STAFF, roles_required
from civic_app.workdays.models import BlackoutRange, ClosedDate

bp = Blueprint("workdays", __name__, url_prefix="/admin/workdays")


class ClosedDateForm(FlaskForm):
    day = DateField(_l("날짜"), validators=[DataRequired(_l("날짜를 입력해 주세요."))])
    reason = StringField(_l("사유"), validators=[DataRequired(_l("사유를 입력해 주세요.")), Length(max=200)])


class BlackoutForm(FlaskForm):
    start_day = DateField(_l("시작일"), validators=[DataRequired(_l("시작일을 입력해 주세요."))])
    end_day = DateField(_l("종료일"), validators=[DataRequired(_l("종료일을 입력해 주세요."))])
    reason = StringField(_l("사유"), validators=[DataRequired(_l("사유를 입력해 주세요.")), Length(max=200)])

    def validate_end_day(self, field) -> None:
        from wtforms.validators import ValidationError

        if self.start_day.data and field.data and field.data < self.start_day.data:
            raise ValidationError(_("종료일은 시작일과 같거나 뒤여야 합니다."))


def _conflicts(start, end) -> list:
    """Scheduled events on the days about to be closed (통통데이 sessions), from the features
    that register a ``closure_guard``: shown before saving, resolved after."""
    guard = current_app.extensions.get("closure_guard")
    return guard.conflicts(db.session, start, end, extra_closed=(start, end)) if guard else []


def _resolve(start, end, reason: str) -> int:
    guard = current_app.extensions.get("closure_guard")
    if guard is None:
        return 0
    return guard.resolve(
        db.session,
        start,
        end,
        action=request.form.get("conflict_action", ""),
        reason=reason,
        actor=current_user,
        now=utcnow(),
    )


def _confirmed() -> bool:
    return request.form.get("conflict_action") in ("cancel", "shift")


def _page(status: int = 200, closed_form=None, blackout_form=None, conflicts=None, conflict_kind=None):
    closed = db.session.scalars(select(ClosedDate).order_by(ClosedDate.day.desc())).all()
    blackouts = db.session.scalars(select(BlackoutRange).order_by(BlackoutRange.start_day.desc())).all()
    page = render_template(
        "workdays/admin.html",
        closed=closed,
        blackouts=blackouts,
        closed_form=closed_form or ClosedDateForm(prefix="c"),
        blackout_form=blackout_form or BlackoutForm(prefix="b"),
        conflicts=conflicts or [],
        conflict_kind=conflict_kind,
    )
    return current_app.response_class(page, status=status)


@bp.route("")
@roles_required(ADMIN, CIVIC_STAFF)
def index():
    return _page()


def _review(form, kind: str, start, end) -> list:
    """Before closing ``start``..``end`` (``kind``: closed | blackout): the conflicts, when the
    change may be saved now. Otherwise the request ends here with the page to show instead:
    the form with its errors, or the 통통데이 sessions it hits, to confirm first."""
    name = f"{kind}_form"
    if not form.validate_on_submit():
        abort(_page(400, **{name: form}))
    conflicts = _conflicts(start, end)
    if conflicts and not _confirmed():
        abort(_page(200, **{name: form}, conflicts=conflicts, conflict_kind=kind))
    return conflicts


@bp.route("/closed", methods=["POST"])
@roles_required(ADMIN, CIVIC_STAFF)
def add_closed():
    form = ClosedDateForm(prefix="c")
    conflicts = _review(form, "closed", form.day.data, form.day.data)
    db.session.add(ClosedDate(day=form.day.data, reason=form.reason.data))
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        flash(_("이미 등록된 날짜입니다."), "error")
        return _page(400, closed_form=form)
    audit("closed_date.create", now=utcnow(), target_type="closed_date", target_id=form.day.data.isoformat())
    return _closed(form.day.data, form.day.data, form.reason.data, conflicts, _("휴무일을 추가했습니다."))


def _closed(start, end, reason: str, conflicts, message: str):
    """After a closed day or a blackout range was added (and audited): settle the 통통데이
    sessions it hits, commit, tell, and show the dong visits it hits."""
    if conflicts:
        _resolve(start, end, reason)
    db.session.commit()
    flash(message, "success")
    if conflicts:
        flash(_("그날의 통통데이 회차를 처리하고 예약한 시민에게 알렸습니다."), "success")
    return _after_closing(start, end)


def _after_closing(start, end):
    """A newly closed range may hit visits already published: list them with the offer to
    move them (the visits feature's page), or stay here when none is hit."""
    if "visits_staff.conflicts" in current_app.view_functions:
        from civic_app.visits.schedule import blocked_visits

        hits = blocked_visits(db.session, start, end)
        if hits:
            flash(
                _("이 기간에 공개한 방문이 %(n)d건 있습니다. 옮길 날짜를 확인해 주세요.", n=len(hits)),
                "error",
            )
            return redirect(url_for("visits_staff.conflicts", start=start.isoformat(), end=end.isoformat()))
    return redirect(url_for("workdays.index"))


@bp.route("/blackouts", methods=["POST"])
@roles_required(ADMIN, CIVIC_STAFF)
def add_blackout():
    form = BlackoutForm(prefix="b")
    conflicts = _review(form, "blackout", form.start_day.data, form.end_day.data)
    row = BlackoutRange(start_day=form.start_day.data, end_day=form.end_day.data, reason=form.reason.data)
    db.session.add(row)
    db.session.flush()
    audit("blackout.create", now=utcnow(), target_type="blackout", target_id=row.id)
    return _closed(
        form.start_day.data,
        form.end_day.data,
        form.reason.data,
        conflicts,
        _("행사 제한 기간을 추가했습니다."),
    )


@bp.route("/<any(closed, blackouts):kind>/<int:item_id>/delete", methods=["POST"])
@roles_required(ADMIN, CIVIC_STAFF)
def delete(kind: str, item_id: int):
    model = ClosedDate if kind == "closed" else BlackoutRange
    row = db.get_or_404(model, item_id)
    db.session.delete(row)
    audit(f"{kind}.delete", now=utcnow(), target_type=kind, target_id=item_id)
    db.session.commit()
    flash(_("삭제했습니다."), "success")
    return redirect(url_for("workdays.index"))


def init_app(app) -> None:
    from civic_app.registry import NavItem, get_registry

    app.register_blueprint(bp)
    get_registry(app).add_nav(
        NavItem(
            lambda: _("휴무일·행사 제한"), "workdays.index", frozenset({ADMIN, CIVIC_STAFF}), 920, "staff"
        )
    )
