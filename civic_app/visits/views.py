"""Public visit pages and the staff planning pages (thin: load → validate → service → commit)."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from civic_app.audit.services import record
from civic_app.dongs.models import Department, Dong
from civic_app.errors import DomainError
from civic_app.extensions import db
from civic_app.timeutil import today_seoul, utcnow
from civic_app.visits import queries, services
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
from civic_app.visits.planner import describe_reason
from civic_app.web.policy import ADMIN, CIVIC_STAFF, public, roles_required
from civic_app.web.redirects import safe_next

bp = Blueprint("visits", __name__, url_prefix="/visits")
staff = Blueprint("visits_staff", __name__, url_prefix="/staff/visits")


def show_error(form, error: DomainError) -> None:
    """The service's Korean message on top, and each field's message next to the field."""
    flash(error.message, "error")
    for name in [*(f for f, _m in getattr(error, "errors", [])), error.field]:
        field = getattr(form, name, None) if name else None
        if field is not None:
            messages = [m for f, m in getattr(error, "errors", []) if f == name] or [error.message]
            field.errors = [*list(field.errors), *messages]


def _ctx(**extra) -> dict:
    return {**all_labels(), "describe_reason": describe_reason, **extra}


# --- public -------------------------------------------------------------------------------


def _int_arg(name: str, low: int, high: int) -> int | None:
    try:
        value = int(request.args.get(name) or "")
    except ValueError:
        return None
    return value if low <= value <= high else None


@bp.route("")
@public
def schedule():
    """Upcoming visits first, then every public visit, newest first: searched by dong (name or
    행정동코드), filtered by year and status, 20 a page (a phone gets a short page)."""
    now = utcnow()
    q = (request.args.get("q") or "").strip()[:40] or None
    year = _int_arg("year", 2000, 2100)
    status = request.args.get("status") or None
    if status not in queries.PUBLIC_LIST_STATUSES:
        status = None
    page = queries.public_list(
        db.session, q=q, year=year, status=status, page=_int_arg("page", 1, 100000) or 1
    )
    filtered = bool(q or year or status)
    upcoming = [] if filtered or page.page > 1 else queries.upcoming_public(db.session, now, limit=5)
    return render_template(
        "visits/schedule.html",
        **_ctx(
            upcoming=upcoming,
            page=page,
            q=q or "",
            year=year,
            status=status,
            filtered=filtered,
            years=queries.public_years(db.session),
            list_statuses=queries.PUBLIC_LIST_STATUSES,
        ),
    )


@bp.route("/<int:visit_id>")
@public
def detail(visit_id: int):
    visit = queries.public_visit(db.session, visit_id)
    if visit is None:
        abort(404)
    items = services.suggestions_for(db.session, [visit.id])
    return render_template("visits/detail.html", **_ctx(visit=visit, items=items))


@bp.route("/dongs")
@public
def dongs():
    rows = db.session.scalars(select(Dong).where(Dong.active.is_(True)).order_by(Dong.name)).all()
    return render_template("visits/dongs.html", **_ctx(dongs=rows))


@bp.route("/dongs/<code>")
@public
def dong_page(code: str):
    dong = db.session.scalar(select(Dong).where(Dong.code == code))
    if dong is None:
        abort(404)
    now = utcnow()
    visits = queries.dong_visits(db.session, dong)
    held = [v for v in visits if v.status in queries.DONE]
    upcoming = [v for v in visits if v.status in queries.UPCOMING and v.end_at >= now]
    return render_template(
        "visits/dong.html",
        **_ctx(
            dong=dong,
            visits=visits,
            last_visit=held[0] if held else None,
            next_visit=upcoming[-1] if upcoming else None,
            items=queries.dong_card_items(db.session, dong),
        ),
    )


@bp.route("/plan-vs-actual")
@public
def plan_vs_actual():
    return render_template("visits/plan_vs_actual.html", **_ctx(rows=queries.plan_vs_actual(db.session)))


# --- staff --------------------------------------------------------------------------------

STAFF_ROLES = (CIVIC_STAFF, ADMIN)


def _index_page(status: int = 200, cycle_form=None, unavailable_form=None):
    now = utcnow()
    return (
        render_template(
            "visits/staff_index.html",
            **_ctx(
                cycles=queries.cycles(db.session),
                tours=queries.tours(db.session),
                unavailable=queries.mayor_unavailable(db.session, today_seoul(now)),
                cycle_form=cycle_form or CycleForm(prefix="c"),
                unavailable_form=unavailable_form or UnavailableForm(prefix="u"),
            ),
        ),
        status,
    )


@staff.route("")
@roles_required(*STAFF_ROLES)
def index():
    return _index_page()


@staff.route("/cycles", methods=["POST"])
@roles_required(*STAFF_ROLES)
def create_cycle():
    form = CycleForm(prefix="c")
    if not form.validate_on_submit():
        return _index_page(400, cycle_form=form)
    now = utcnow()
    try:
        cycle = services.create_cycle(
            db.session,
            start=form.start.data,
            end=form.end.data,
            quotas=services.parse_quotas(form.quotas.data),
            max_per_week=form.max_per_week.data,
            max_per_day=form.max_per_day.data,
            name=form.name.data or None,
            weights=services.parse_weights(form.weights.data),
            actor_id=current_user.id,
            now=now,
        )
    except DomainError as error:
        db.session.rollback()
        show_error(form, error)
        return _index_page(400, cycle_form=form)
    _audit("visit_cycle.create", "visit_cycle", cycle.id, now)
    db.session.commit()
    flash(_("초안 계획을 만들었습니다. 검토한 뒤 공개해 주세요."), "success")
    return redirect(url_for("visits_staff.cycle", cycle_id=cycle.id))


@staff.route("/cycles/<int:cycle_id>")
@roles_required(*STAFF_ROLES)
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
        **_ctx(
            cycle=row,
            visits=visits,
            view=view,
            months=queries.month_grid(visits) if view == "calendar" else [],
            per_year=per_year,
            drafts=sum(1 for v in visits if not v.published),
        ),
    )


@staff.route("/cycles/<int:cycle_id>/publish", methods=["POST"])
@roles_required(*STAFF_ROLES)
def publish_cycle(cycle_id: int):
    row = db.get_or_404(VisitCycle, cycle_id)
    now = utcnow()
    count = services.publish_cycle(db.session, row, actor_id=current_user.id, now=now)
    _audit("visit_cycle.publish", "visit_cycle", row.id, now)
    db.session.commit()
    flash(_("방문 %(n)d건을 공개했습니다.", n=count), "success")
    return redirect(url_for("visits_staff.cycle", cycle_id=row.id))


@staff.route("/cycles/<int:cycle_id>/replan", methods=["POST"])
@roles_required(*STAFF_ROLES)
def replan_cycle(cycle_id: int):
    row = db.get_or_404(VisitCycle, cycle_id)
    now = utcnow()
    try:
        count = services.replan_cycle(db.session, row, actor_id=current_user.id, now=now)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("visits_staff.cycle", cycle_id=cycle_id))
    _audit("visit_cycle.replan", "visit_cycle", row.id, now)
    db.session.commit()
    flash(_("고정된 방문은 두고 %(n)d건을 다시 배치했습니다.", n=count), "success")
    return redirect(url_for("visits_staff.cycle", cycle_id=row.id))


def _departments():
    return db.session.scalars(
        select(Department).where(Department.active.is_(True)).order_by(Department.name)
    ).all()


def _visit_forms(visit: Visit, **given) -> dict:
    labels = all_labels()
    departments = _departments()
    forms = {
        "move_form": given.get("move_form") or MoveForm(prefix="m"),
        "swap_form": given.get("swap_form") or SwapForm(prefix="s"),
        "status_form": given.get("status_form") or StatusForm(prefix="st"),
        "held_form": given.get("held_form") or HeldForm(prefix="h"),
        "suggestion_form": given.get("suggestion_form") or SuggestionForm(prefix="g"),
        "result_form": given.get("result_form") or ResultForm(prefix="r"),
    }
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
    items = services.suggestions_for(db.session, [visit.id])
    return (
        render_template(
            "visits/staff_visit.html", **_ctx(visit=visit, items=items, **_visit_forms(visit, **given))
        ),
        status,
    )


@staff.route("/<int:visit_id>")
@roles_required(*STAFF_ROLES)
def visit(visit_id: int):
    return _visit_page(db.get_or_404(Visit, visit_id))


def _audit(action: str, target_type: str, target_id, now) -> None:
    record(
        db.session,
        actor_id=current_user.id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        now=now,
        ip=request.remote_addr,
    )


def _act(visit_id: int, form_name: str, form, action, *, success: str, audit: str):
    """Shared POST handler: validate ``form``, run ``action(visit, now)``, commit, redirect."""
    row = db.get_or_404(Visit, visit_id)
    _visit_forms(row, **{form_name: form})  # choices for validation
    if not form.validate_on_submit():
        return _visit_page(row, 400, **{form_name: form})
    now = utcnow()
    try:
        action(row, now)
    except DomainError as error:
        db.session.rollback()
        row = db.get_or_404(Visit, visit_id)
        show_error(form, error)
        return _visit_page(row, 400, **{form_name: form})
    _audit(audit, "visit", row.id, now)
    db.session.commit()
    flash(success, "success")
    return redirect(url_for("visits_staff.visit", visit_id=row.id))


@staff.route("/<int:visit_id>/move", methods=["POST"])
@roles_required(*STAFF_ROLES)
def move(visit_id: int):
    form = MoveForm(prefix="m")
    return _act(
        visit_id,
        "move_form",
        form,
        lambda v, now: services.move_visit(
            db.session,
            v,
            day=form.day.data,
            start_time=form.start_time.data,
            actor_id=current_user.id,
            now=now,
        ),
        success=_("방문 일정을 옮겼습니다."),
        audit="visit.move",
    )


@staff.route("/<int:visit_id>/swap", methods=["POST"])
@roles_required(*STAFF_ROLES)
def swap(visit_id: int):
    form = SwapForm(prefix="s")

    def action(v, now):
        other = services.get_visit(db.session, form.other.data)
        services.swap_visits(db.session, v, other, actor_id=current_user.id, now=now)

    return _act(
        visit_id, "swap_form", form, action, success=_("두 방문의 일정을 맞바꿨습니다."), audit="visit.swap"
    )


@staff.route("/<int:visit_id>/lock", methods=["POST"])
@roles_required(*STAFF_ROLES)
def lock(visit_id: int):
    row = db.get_or_404(Visit, visit_id)
    locked = request.form.get("locked") == "1"
    now = utcnow()
    services.set_locked(db.session, row, locked, actor_id=current_user.id, now=now)
    _audit("visit.lock" if locked else "visit.unlock", "visit", row.id, now)
    db.session.commit()
    flash(_("일정을 고정했습니다.") if locked else _("고정을 풀었습니다."), "success")
    default = url_for("visits_staff.visit", visit_id=row.id)
    return redirect(safe_next(request.form.get("next"), default, prefix="/staff/visits"))


@staff.route("/<int:visit_id>/status", methods=["POST"])
@roles_required(*STAFF_ROLES)
def status(visit_id: int):
    form = StatusForm(prefix="st")
    return _act(
        visit_id,
        "status_form",
        form,
        lambda v, now: services.change_status(
            db.session, v, form.status.data, reason=form.reason.data, actor_id=current_user.id, now=now
        ),
        success=_("상태를 바꿨습니다."),
        audit="visit.status",
    )


@staff.route("/<int:visit_id>/held", methods=["POST"])
@roles_required(*STAFF_ROLES)
def held(visit_id: int):
    form = HeldForm(prefix="h")
    return _act(
        visit_id,
        "held_form",
        form,
        lambda v, now: services.record_held(
            db.session,
            v,
            agenda=form.agenda.data or [],
            residents_count=form.residents_count.data,
            participant_groups=form.participant_groups.data or [],
            other_participants=form.other_participants.data or "",
            notes=form.notes.data or "",
            department_ids=form.departments.data or [],
            actor_id=current_user.id,
            now=now,
        ),
        success=_("진행 결과를 기록했습니다."),
        audit="visit.held",
    )


def _photo_dir() -> str:
    from civic_app.storage import storage

    return storage().folder("card_photos")


def _read_photo(field) -> tuple[str, bytes] | None:
    """The uploaded photo (at most one byte over the limit is read), or None."""
    from civic_app.cards.services import MAX_PHOTO_BYTES

    file = field.data
    if file is None or not getattr(file, "filename", ""):
        return None
    return file.filename, file.read(MAX_PHOTO_BYTES + 1)


@staff.route("/<int:visit_id>/suggestions", methods=["POST"])
@roles_required(*STAFF_ROLES)
def suggestion(visit_id: int):
    form = SuggestionForm(prefix="g")
    return _act(
        visit_id,
        "suggestion_form",
        form,
        lambda v, now: services.add_suggestion(
            db.session,
            v,
            title=form.title.data,
            description=form.description.data or "",
            category=form.category.data,
            location=form.location.data or "",
            department_id=form.department_id.data or None,
            dong_id=form.dong_id.data or None,
            contact_email=form.contact_email.data or None,
            contact_consent=bool(form.contact_consent.data),
            photo=_read_photo(form.photo),
            upload_dir=_photo_dir(),
            actor_id=current_user.id,
            now=now,
        ),
        success=_("건의사항을 동 관리카드에 올렸습니다."),
        audit="visit.suggestion",
    )


@staff.route("/<int:visit_id>/results", methods=["POST"])
@roles_required(*STAFF_ROLES)
def results(visit_id: int):
    form = ResultForm(prefix="r")
    return _act(
        visit_id,
        "result_form",
        form,
        lambda v, now: services.publish_results(
            db.session, v, summary=form.summary.data, actor_id=current_user.id, now=now
        ),
        success=_("결과를 공개하고 텔레그램 채널 게시를 예약했습니다."),
        audit="visit.results",
    )


@staff.route("/<int:visit_id>/publish", methods=["POST"])
@roles_required(*STAFF_ROLES)
def publish(visit_id: int):
    row = db.get_or_404(Visit, visit_id)
    now = utcnow()
    services.publish_visit(db.session, row, actor_id=current_user.id, now=now)
    _audit("visit.publish", "visit", row.id, now)
    db.session.commit()
    flash(_("공개했습니다."), "success")
    return redirect(url_for("visits_staff.visit", visit_id=row.id))


@staff.route("/tours/new", methods=["GET", "POST"])
@roles_required(*STAFF_ROLES)
def new_tour():
    form = TourForm(prefix="t")
    form.theme_group.choices = [SelectChoice(g, theme_group_labels()[g]) for g in THEME_GROUPS]
    form.departments.choices = [SelectChoice(d.id, d.name) for d in _departments()]
    if form.validate_on_submit():
        now = utcnow()
        try:
            tour = services.create_tour(
                db.session,
                day=form.day.data,
                start_time=form.start_time.data,
                end_time=form.end_time.data,
                theme_group=form.theme_group.data,
                theme=form.theme.data,
                sites_text=form.sites.data,
                department_ids=form.departments.data or [],
                actor_id=current_user.id,
                now=now,
            )
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            _audit("visit.tour_create", "visit", tour.id, now)
            db.session.commit()
            flash(_("민생현장 탐방을 만들었습니다."), "success")
            return redirect(url_for("visits_staff.visit", visit_id=tour.id))
    code = 400 if request.method == "POST" else 200
    return render_template("visits/staff_tour_form.html", **_ctx(form=form)), code


def _day_arg(name: str, default: dt.date) -> dt.date:
    try:
        day = dt.date.fromisoformat(request.values.get(name) or "")
    except ValueError:
        return default
    return day if services.FIRST_DAY <= day <= services.LAST_DAY else default


def _conflict_window() -> tuple[dt.date, dt.date]:
    today = today_seoul(utcnow())
    start = _day_arg("start", today)
    end = _day_arg("end", start + dt.timedelta(days=730))
    return (start, end) if end >= start else (start, start)


@staff.route("/conflicts")
@roles_required(*STAFF_ROLES)
def conflicts():
    """Published visits on days that became closed (a blackout, closed date or holiday added
    after publishing), each with the free day it can move to."""
    start, end = _conflict_window()
    rows = services.blocked_visits(db.session, start, end)
    return render_template("visits/staff_conflicts.html", **_ctx(rows=rows, start=start, end=end))


@staff.route("/conflicts/move", methods=["POST"])
@roles_required(*STAFF_ROLES)
def move_conflicts():
    start, end = _conflict_window()
    ids = [int(v) for v in request.form.getlist("visit_id") if v.isdigit()]
    if not ids:
        flash(_("옮길 방문을 골라 주세요."), "error")
        return redirect(url_for("visits_staff.conflicts", start=start.isoformat(), end=end.isoformat()))
    now = utcnow()
    try:
        moved = services.move_blocked(db.session, start, end, ids, actor_id=current_user.id, now=now)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("visits_staff.conflicts", start=start.isoformat(), end=end.isoformat()))
    for visit in moved:
        _audit("visit.move", "visit", visit.id, now)
    db.session.commit()
    flash(_("방문 %(n)d건을 옮겼습니다.", n=len(moved)), "success")
    return redirect(url_for("visits_staff.conflicts", start=start.isoformat(), end=end.isoformat()))


@staff.route("/unavailable", methods=["POST"])
@roles_required(*STAFF_ROLES)
def add_unavailable():
    form = UnavailableForm(prefix="u")
    if not form.validate_on_submit():
        return _index_page(400, unavailable_form=form)
    now = utcnow()
    try:
        row = services.add_mayor_unavailable(
            db.session, day=form.day.data, reason=form.reason.data, actor_id=current_user.id, now=now
        )
    except DomainError as error:
        db.session.rollback()
        show_error(form, error)
        return _index_page(400, unavailable_form=form)
    _audit("visit.mayor_unavailable.create", "mayor_unavailable", row.day.isoformat(), now)
    db.session.commit()
    flash(_("시장 일정 불가일을 추가했습니다."), "success")
    if services.blocked_visits(db.session, row.day, row.day):
        day = row.day.isoformat()
        return redirect(url_for("visits_staff.conflicts", start=day, end=day))
    return redirect(url_for("visits_staff.index"))


@staff.route("/unavailable/<int:item_id>/delete", methods=["POST"])
@roles_required(*STAFF_ROLES)
def delete_unavailable(item_id: int):
    row = db.get_or_404(MayorUnavailable, item_id)
    now = utcnow()
    db.session.delete(row)
    _audit("visit.mayor_unavailable.delete", "mayor_unavailable", item_id, now)
    db.session.commit()
    flash(_("삭제했습니다."), "success")
    return redirect(url_for("visits_staff.index"))


def home_section() -> dict:
    return {
        "template": "visits/_home.html",
        "visits": queries.upcoming_public(db.session, utcnow(), limit=5, brief=True),
        **all_labels(),
    }


def init_app(app) -> None:
    from civic_app.registry import NavItem, get_registry

    app.register_blueprint(bp)
    app.register_blueprint(staff)
    reg = get_registry(app)
    reg.add_nav(NavItem(lambda: _("동 방문"), "visits.schedule", None, 20, "main"))
    reg.add_nav(NavItem(lambda: _("동 방문 계획"), "visits_staff.index", frozenset(STAFF_ROLES), 20, "staff"))
    reg.add_home_section(20, home_section)
