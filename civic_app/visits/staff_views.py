"""The staff planning pages of dong visits: cycles, single visits, tours, closed days.

Thin views: load → validate → service → :func:`civic_app.web.actions.run` (commit and audit,
or the error on the form or as a flash).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial
from typing import NamedTuple

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from civic_app.cards.photos import read_upload
from civic_app.dongs.models import Department
from civic_app.extensions import db
from civic_app.storage import storage
from civic_app.timeutil import today_seoul, utcnow
from civic_app.visits import cycles, queries
from civic_app.visits.forms import (
    CycleForm,
    HeldForm,
    MoveForm,
    ResultForm,
    StatusForm,
    SuggestionForm,
    SwapForm,
    TourForm,
    UnavailableForm,
)
from civic_app.visits.labels import all_labels, card_category_labels, theme_group_labels
from civic_app.visits.models import (
    AGENDA_ITEMS,
    CARD_CATEGORIES,
    CONFIRMED,
    PARTICIPANT_GROUPS,
    PLANNED,
    THEME_GROUPS,
    MayorUnavailable,
    Visit,
    VisitCycle,
)
from civic_app.visits.results import add_suggestion, publish_results, record_held, suggestions_for
from civic_app.visits.rules import FIRST_DAY, LAST_DAY, add_mayor_unavailable, remove_mayor_unavailable
from civic_app.visits.schedule import (
    blocked_visits,
    change_status,
    get_visit,
    move_blocked,
    move_visit,
    publish_visit,
    set_locked,
    swap_visits,
)
from civic_app.visits.tours import create_tour
from civic_app.visits.views import view_context
from civic_app.web.actions import Outcome, audit, run
from civic_app.web.forms import field_values
from civic_app.web.policy import CIVIC_OFFICE_ROLES, roles_required
from civic_app.web.redirects import safe_next

staff = Blueprint("visits_staff", __name__, url_prefix="/staff/visits")


def _submit(
    form, call: Callable, *, action: str, target: Callable, target_type: str | None = None
) -> Outcome | None:
    """Validate ``form`` (None: a button with only the CSRF token), run ``call(actor_id=, now=)``,
    audit ``action`` on ``target(result)`` (of ``target_type``, by default the action's first
    word) and commit; the outcome, or None when the form did not validate."""
    if form is not None and not form.validate_on_submit():
        return None
    now = utcnow()
    kind = target_type or action.partition(".")[0]
    return run(
        lambda: call(actor_id=current_user.id, now=now),
        form=form,
        on_success=lambda result: audit(action, now=now, target_type=kind, target_id=target(result)),
    )


def _index_page(status: int = 200, cycle_form=None, unavailable_form=None):
    return (
        render_template(
            "visits/staff_index.html",
            **view_context(
                cycles=queries.cycles(db.session),
                tours=queries.tours(db.session),
                unavailable=queries.mayor_unavailable(db.session, today_seoul(utcnow())),
                cycle_form=cycle_form or CycleForm(prefix="c"),
                unavailable_form=unavailable_form or UnavailableForm(prefix="u"),
            ),
        ),
        status,
    )


@staff.route("")
@roles_required(*CIVIC_OFFICE_ROLES)
def index():
    return _index_page()


# --- cycles -------------------------------------------------------------------------------


@staff.route("/cycles", methods=["POST"])
@roles_required(*CIVIC_OFFICE_ROLES)
def create_cycle():
    form = CycleForm(prefix="c")

    def plan(**who) -> VisitCycle:
        return cycles.create_cycle(
            db.session,
            **field_values(form, "start", "end", "max_per_week", "max_per_day"),
            quotas=cycles.parse_quotas(form.quotas.data),
            weights=cycles.parse_weights(form.weights.data),
            name=form.name.data or None,
            **who,
        )

    created = _submit(form, plan, action="visit_cycle.create", target=lambda row: row.id)
    if not (created and created.ok):
        return _index_page(400, cycle_form=form)
    flash(_("초안 계획을 만들었습니다. 검토한 뒤 공개해 주세요."), "success")
    return redirect(url_for("visits_staff.cycle", cycle_id=created.value.id))


@staff.route("/cycles/<int:cycle_id>")
@roles_required(*CIVIC_OFFICE_ROLES)
def cycle(cycle_id: int):
    row = db.get_or_404(VisitCycle, cycle_id)
    visits = queries.cycle_visits(db.session, row)
    view = "calendar" if request.args.get("view") == "calendar" else "list"
    per_year: dict[int, int] = {}
    for v in visits:
        if v.keeps_slot:
            per_year[v.local_day.year] = per_year.get(v.local_day.year, 0) + 1
    return render_template(
        "visits/staff_cycle.html",
        **view_context(
            cycle=row,
            visits=visits,
            view=view,
            months=queries.month_grid(visits) if view == "calendar" else [],
            per_year=per_year,
            drafts=sum(1 for v in visits if not v.published),
        ),
    )


def _change_cycle(cycle_id: int, change: Callable, verb: str) -> Outcome:
    row = db.get_or_404(VisitCycle, cycle_id)
    return _submit(
        None, partial(change, db.session, row), action=f"visit_cycle.{verb}", target=lambda _n: cycle_id
    )


@staff.route("/cycles/<int:cycle_id>/publish", methods=["POST"])
@roles_required(*CIVIC_OFFICE_ROLES)
def publish_cycle(cycle_id: int):
    published = _change_cycle(cycle_id, cycles.publish_cycle, "publish")
    if published.ok:
        flash(_("방문 %(n)d건을 공개했습니다.", n=published.value), "success")
    return redirect(url_for("visits_staff.cycle", cycle_id=cycle_id))


@staff.route("/cycles/<int:cycle_id>/replan", methods=["POST"])
@roles_required(*CIVIC_OFFICE_ROLES)
def replan_cycle(cycle_id: int):
    """Re-plan the cycle around the visits that stay (held, confirmed, locked, moved by hand)."""
    if (placed := _change_cycle(cycle_id, cycles.replan_cycle, "replan")).ok:
        flash(_("고정된 방문은 두고 %(n)d건을 다시 배치했습니다.", n=placed.value), "success")
    return redirect(url_for("visits_staff.cycle", cycle_id=cycle_id))


# --- one visit ----------------------------------------------------------------------------


def _departments():
    return db.session.scalars(
        select(Department).where(Department.active.is_(True)).order_by(Department.name)
    ).all()


VISIT_FORMS: dict[str, Callable] = {
    "move_form": lambda: MoveForm(prefix="m"),
    "swap_form": lambda: SwapForm(prefix="s"),
    "status_form": lambda: StatusForm(prefix="st"),
    "held_form": lambda: HeldForm(prefix="h"),
    "suggestion_form": lambda: SuggestionForm(prefix="g"),
    "result_form": lambda: ResultForm(prefix="r"),
}


def _visit_forms(visit: Visit, **given) -> dict:
    labels = all_labels()
    departments = _departments()
    forms = {name: given.get(name) or make() for name, make in VISIT_FORMS.items()}
    held = forms["held_form"]
    held.agenda.choices = [SelectChoice(a, labels["agenda_labels"][a]) for a in AGENDA_ITEMS]
    held.participant_groups.choices = [SelectChoice(g, labels["group_labels"][g]) for g in PARTICIPANT_GROUPS]
    held.departments.choices = [SelectChoice(d.id, d.name) for d in departments]
    if "held_form" not in given:
        held.agenda.data = list(visit.agenda or [])
        held.participant_groups.data = list(visit.participant_groups or [])
        held.departments.data = [d.id for d in visit.departments]
        held.residents_count.data = visit.residents_count
        held.other_participants.data = visit.other_participants
        held.notes.data = visit.notes
    sug = forms["suggestion_form"]
    sug.category.choices = [SelectChoice(c, card_category_labels()[c]) for c in CARD_CATEGORIES]
    sug.department_id.choices = [SelectChoice(0, _("(모름)"))] + [
        SelectChoice(d.id, d.name) for d in departments
    ]
    site_dongs = [s.dong for s in visit.sites if s.dong]
    sug.dong_id.choices = [SelectChoice(0, _("(방문한 동)"))] + [
        SelectChoice(d.id, d.name) for d in site_dongs
    ]
    if "result_form" not in given and visit.result_summary:
        forms["result_form"].summary.data = visit.result_summary
    swap = forms["swap_form"]
    others = []
    if visit.cycle_id:
        others = db.session.scalars(
            select(Visit)
            .where(
                Visit.cycle_id == visit.cycle_id, Visit.id != visit.id, Visit.status.in_((PLANNED, CONFIRMED))
            )
            .order_by(Visit.start_at)
        ).all()
    from civic_app.web.filters import format_date

    swap.other.choices = [
        SelectChoice(o.id, f"{format_date(o.start_at)} {o.dong.name if o.dong else ''}") for o in others
    ]
    return forms


def _visit_page(visit: Visit, status: int = 200, **given):
    items = suggestions_for(db.session, [visit.id])
    return (
        render_template(
            "visits/staff_visit.html",
            **view_context(visit=visit, items=items, **_visit_forms(visit, **given)),
        ),
        status,
    )


@staff.route("/<int:visit_id>")
@roles_required(*CIVIC_OFFICE_ROLES)
def visit(visit_id: int):
    return _visit_page(db.get_or_404(Visit, visit_id))


def _photo_dir() -> str:
    return storage().folder("card_photos")


def _read_photo(field) -> tuple[str, bytes] | None:
    """The uploaded photo (at most one byte over the limit is read), or None."""
    return read_upload(field)


def _move(form: MoveForm, visit: Visit, **who):
    return move_visit(db.session, visit, **field_values(form, "day", "start_time"), **who)


def _swap(form: SwapForm, visit: Visit, **who):
    return swap_visits(db.session, visit, get_visit(db.session, form.other.data), **who)


def _status(form: StatusForm, visit: Visit, **who):
    return change_status(db.session, visit, form.status.data, reason=form.reason.data, **who)


def _held(form: HeldForm, visit: Visit, **who):
    return record_held(
        db.session,
        visit,
        **field_values(form, "residents_count", "other_participants", "notes"),
        agenda=form.agenda.data or [],
        participant_groups=form.participant_groups.data or [],
        department_ids=form.departments.data or [],
        **who,
    )


def _suggestion(form: SuggestionForm, visit: Visit, **who):
    fields = ("title", "description", "category", "location", "department_id", "dong_id")
    return add_suggestion(
        db.session,
        visit,
        **field_values(form, *fields, "contact_email", "contact_consent"),
        photo=_read_photo(form.photo),
        upload_dir=_photo_dir(),
        **who,
    )


def _results(form: ResultForm, visit: Visit, **who):
    return publish_results(db.session, visit, summary=form.summary.data, **who)


class VisitAction(NamedTuple):
    path: str  # after /staff/visits/<id>/
    form_name: str  # the form's name on the visit page (VISIT_FORMS)
    call: Callable  # (form, visit, actor_id=, now=) -> result
    success: str  # lazily translated


VISIT_ACTIONS: dict[str, VisitAction] = {  # endpoint → action; audited as visit.<endpoint>
    "move": VisitAction("move", "move_form", _move, _l("방문 일정을 옮겼습니다.")),
    "swap": VisitAction("swap", "swap_form", _swap, _l("두 방문의 일정을 맞바꿨습니다.")),
    "status": VisitAction("status", "status_form", _status, _l("상태를 바꿨습니다.")),
    "held": VisitAction("held", "held_form", _held, _l("진행 결과를 기록했습니다.")),
    "suggestion": VisitAction(
        "suggestions", "suggestion_form", _suggestion, _l("건의사항을 동 관리카드에 올렸습니다.")
    ),
    "results": VisitAction(
        "results", "result_form", _results, _l("결과를 공개하고 텔레그램 채널 게시를 예약했습니다.")
    ),
}


@roles_required(*CIVIC_OFFICE_ROLES)
def visit_action(visit_id: int, action: str):
    """A form of the visit page (one endpoint each, see VISIT_ACTIONS): validate, run, audit and
    commit, redirect; or the visit page again with the form's errors."""
    spec = VISIT_ACTIONS[action]
    row = db.get_or_404(Visit, visit_id)
    form = VISIT_FORMS[spec.form_name]()
    _visit_forms(row, **{spec.form_name: form})  # choices for validation
    done = _submit(form, partial(spec.call, form, row), action=f"visit.{action}", target=lambda _r: visit_id)
    if not (done and done.ok):
        return _visit_page(db.get_or_404(Visit, visit_id), 400, **{spec.form_name: form})
    flash(str(spec.success), "success")
    return redirect(url_for("visits_staff.visit", visit_id=visit_id))


for _endpoint, _spec in VISIT_ACTIONS.items():
    staff.add_url_rule(
        f"/<int:visit_id>/{_spec.path}",
        _endpoint,
        visit_action,
        methods=["POST"],
        defaults={"action": _endpoint},
    )


def _visit_button(visit_id: int, change: Callable, action: str) -> Outcome:
    """A button of the visit page (only the CSRF token): ``change(visit, actor_id=, now=)``, audited."""
    row = db.get_or_404(Visit, visit_id)
    return _submit(None, partial(change, row), action=action, target=lambda _r: visit_id)


@staff.route("/<int:visit_id>/lock", methods=["POST"])
@roles_required(*CIVIC_OFFICE_ROLES)
def lock(visit_id: int):
    locked = request.form.get("locked") == "1"

    def change(row: Visit, **who) -> None:
        set_locked(db.session, row, locked, **who)

    if _visit_button(visit_id, change, "visit.lock" if locked else "visit.unlock").ok:
        flash(_("일정을 고정했습니다.") if locked else _("고정을 풀었습니다."), "success")
    default = url_for("visits_staff.visit", visit_id=visit_id)
    return redirect(safe_next(request.form.get("next"), default, prefix="/staff/visits"))


@staff.route("/<int:visit_id>/publish", methods=["POST"])
@roles_required(*CIVIC_OFFICE_ROLES)
def publish(visit_id: int):
    if _visit_button(visit_id, partial(publish_visit, db.session), "visit.publish").ok:
        flash(_("공개했습니다."), "success")
    return redirect(url_for("visits_staff.visit", visit_id=visit_id))


# --- tours, closed days -------------------------------------------------------------------


@staff.route("/tours/new", methods=["GET", "POST"])
@roles_required(*CIVIC_OFFICE_ROLES)
def new_tour():
    form = TourForm(prefix="t")
    form.theme_group.choices = [SelectChoice(g, theme_group_labels()[g]) for g in THEME_GROUPS]
    form.departments.choices = [SelectChoice(d.id, d.name) for d in _departments()]
    created = _submit(
        form,
        lambda **who: create_tour(
            db.session,
            **field_values(form, "day", "start_time", "end_time", "theme_group", "theme"),
            sites_text=form.sites.data,
            department_ids=form.departments.data or [],
            **who,
        ),
        action="visit.tour_create",
        target=lambda tour: tour.id,
    )
    if created and created.ok:
        flash(_("민생현장 탐방을 만들었습니다."), "success")
        return redirect(url_for("visits_staff.visit", visit_id=created.value.id))
    code = 400 if request.method == "POST" else 200
    return render_template("visits/staff_tour_form.html", **view_context(form=form)), code


def _day_arg(name: str, default: dt.date) -> dt.date:
    try:
        day = dt.date.fromisoformat(request.values.get(name) or "")
    except ValueError:
        return default
    return day if FIRST_DAY <= day <= LAST_DAY else default


def _conflict_window() -> tuple[dt.date, dt.date]:
    today = today_seoul(utcnow())
    start = _day_arg("start", today)
    end = _day_arg("end", start + dt.timedelta(days=730))
    return (start, end) if end >= start else (start, start)


@staff.route("/conflicts")
@roles_required(*CIVIC_OFFICE_ROLES)
def conflicts():
    """Published visits on days that became closed (a blackout, closed date or holiday added
    after publishing), each with the free day it can move to."""
    start, end = _conflict_window()
    rows = blocked_visits(db.session, start, end)
    return render_template("visits/staff_conflicts.html", **view_context(rows=rows, start=start, end=end))


@staff.route("/conflicts/move", methods=["POST"])
@roles_required(*CIVIC_OFFICE_ROLES)
def move_conflicts():
    start, end = _conflict_window()
    back = redirect(url_for("visits_staff.conflicts", start=start.isoformat(), end=end.isoformat()))
    ids = [int(v) for v in request.form.getlist("visit_id") if v.isdigit()]
    if not ids:
        flash(_("옮길 방문을 골라 주세요."), "error")
        return back
    now = utcnow()

    def audit_each(moved: list[Visit]) -> None:
        for row in moved:
            audit("visit.move", now=now, target_type="visit", target_id=row.id)

    outcome = run(
        lambda: move_blocked(db.session, start, end, ids, actor_id=current_user.id, now=now),
        on_success=audit_each,
    )
    if outcome.ok:
        flash(_("방문 %(n)d건을 옮겼습니다.", n=len(outcome.value)), "success")
    return back


@staff.route("/unavailable", methods=["POST"])
@roles_required(*CIVIC_OFFICE_ROLES)
def add_unavailable():
    form = UnavailableForm(prefix="u")
    added = _submit(
        form,
        lambda **who: add_mayor_unavailable(db.session, **field_values(form, "day", "reason"), **who),
        action="visit.mayor_unavailable.create",
        target=lambda row: row.day.isoformat(),
        target_type="mayor_unavailable",
    )
    if not (added and added.ok):
        return _index_page(400, unavailable_form=form)
    flash(_("시장 일정 불가일을 추가했습니다."), "success")
    day = added.value.day.isoformat()
    if blocked_visits(db.session, added.value.day, added.value.day):
        return redirect(url_for("visits_staff.conflicts", start=day, end=day))
    return redirect(url_for("visits_staff.index"))


@staff.route("/unavailable/<int:item_id>/delete", methods=["POST"])
@roles_required(*CIVIC_OFFICE_ROLES)
def delete_unavailable(item_id: int):
    row = db.get_or_404(MayorUnavailable, item_id)
    removed = _submit(
        None,
        partial(remove_mayor_unavailable, db.session, row),
        action="visit.mayor_unavailable.delete",
        target=lambda _none: item_id,
        target_type="mayor_unavailable",
    )
    if removed.ok:
        flash(_("삭제했습니다."), "success")
    return redirect(url_for("visits_staff.index"))
