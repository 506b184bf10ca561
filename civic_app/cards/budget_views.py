"""The budget office's pages: the year's budget view (envelope, bulk reflect, carry-over), the
priority weights and the categories."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from civic_app.cards import queries, transitions
from civic_app.cards.base import default_target_year
from civic_app.cards.budget import carry_over as carry_items_over
from civic_app.cards.budget import set_envelope
from civic_app.cards.forms import (
    BulkReflectForm,
    CarryOverForm,
    CategoryForm,
    EnvelopeForm,
    SettingsForm,
    TransitionForm,
)
from civic_app.cards.item_views import apply_transition
from civic_app.cards.models import BUDGET_REFLECTED, CRITERIA, LONG_TERM, CardCategory, CardItem
from civic_app.cards.settings import add_category as add_card_category
from civic_app.cards.settings import get_settings, set_category_active, update_settings
from civic_app.cards.views import labels, staff, submit
from civic_app.errors import DomainError
from civic_app.extensions import db
from civic_app.timeutil import utcnow
from civic_app.web.actions import error_text, run
from civic_app.web.filters import format_won_short
from civic_app.web.policy import ADMIN, BUDGET_OFFICE, CIVIC_STAFF, POLICY_OFFICE, roles_required


def _year_arg() -> int:
    default = default_target_year(utcnow())
    try:
        year = int(request.args.get("year") or default)
    except ValueError:
        return default
    return year if 2000 <= year <= 2100 else default


def _budget_url(year) -> str:
    return url_for("cards_staff.budget", year=year)


@staff.route("/budget")
@roles_required(BUDGET_OFFICE, POLICY_OFFICE, ADMIN)
def budget():
    return _budget_page(_year_arg())


def _budget_page(year: int, *, status: int = 200, envelope_form=None, carry_form=None, bulk_form=None):
    """One compact table: the selected items in rank order against the envelope, with a
    checkbox and an amount per row, and one bulk form that reflects the checked rows."""
    view = queries.budget_view(db.session, year)
    if bulk_form is None:
        bulk_form = BulkReflectForm(formdata=None)
        bulk_form.fiscal_year.data = year
        bulk_form.budget_kind.data = "main"
    if envelope_form is None:
        envelope_form = EnvelopeForm(formdata=None)
        envelope_form.amount.data = view.envelope.amount if view.envelope else None
    carry_form = carry_form or CarryOverForm(formdata=None, from_year=year)
    return render_template(
        "cards/budget.html",
        view=view,
        year=year,
        totals=queries.budget_totals(view),
        bulk_form=bulk_form,
        envelope_form=envelope_form,
        carry_form=carry_form,
        can_confirm=bool(current_user.role_set & {BUDGET_OFFICE, ADMIN}),
        **labels(),
    ), status


def _int_or_none(value: str | None) -> int | None:
    try:
        return int((value or "").replace(",", "").strip())
    except ValueError:
        return None


def _on_row(item: CardItem, error: DomainError) -> DomainError:
    """A bulk action's error names the row it stopped at."""
    row_error = DomainError(f"#{item.id} {item.title}: {error_text(error)}")
    row_error.status_code = error.status_code
    return row_error


@staff.route("/budget/<int:year>/reflect", methods=["POST"])
@roles_required(BUDGET_OFFICE, ADMIN)
def reflect_bulk(year: int):
    """Act on every checked row, all or nothing: reflect them in the budget (each with its
    own amount) or move them to 장기검토 (one public reason). Each row goes through the same
    transition as one by one, with the version the page showed."""
    form = BulkReflectForm()
    to_long_term = request.form.get("action", "reflect") == "long_term"
    ids = list(dict.fromkeys(i for i in (_int_or_none(v) for v in request.form.getlist("item_id")) if i))

    def act_on_rows() -> int:
        if not ids:
            raise DomainError(_("처리할 항목을 골라 주세요."))
        now, total = utcnow(), 0
        funding = {
            "fiscal_year": form.fiscal_year.data,
            "budget_kind": form.budget_kind.data,
            "budget_line": form.budget_line.data,
        }
        for item_id in ids:
            item = db.session.get(CardItem, item_id)
            if item is None:
                raise DomainError(_("그 번호의 항목이 없습니다.") + f" (#{item_id})")
            amount = _int_or_none(request.form.get(f"amount-{item_id}"))
            common = {"actor": current_user, "now": now, "expected_version": _version_of(item_id)}
            try:
                if to_long_term:
                    transitions.move(db.session, item, LONG_TERM, reason=form.reason.data, **common)
                else:
                    transitions.reflect_in_budget(db.session, item, amount=amount, **funding, **common)
            except DomainError as exc:
                raise _on_row(item, exc) from exc
            total += amount or 0
        return total

    def done(total: int) -> str:
        if to_long_term:
            return _("%(n)d개 항목을 장기검토로 옮겼습니다.", n=len(ids))
        return _("%(n)d개 항목을 예산에 반영했습니다 (합계 %(a)s).", n=len(ids), a=format_won_short(total))

    answer = submit(form, act_on_rows, success=done, to=lambda _total: _budget_url(year))
    if isinstance(answer, Response):
        return answer
    return _budget_page(year, bulk_form=form, status=answer)


def _version_of(item_id: int) -> int | None:
    return _int_or_none(request.form.get(f"version-{item_id}"))


@staff.route("/budget/<int:year>/items/<int:item_id>/reflect", methods=["POST"])
@roles_required(BUDGET_OFFICE, ADMIN)
def reflect(year: int, item_id: int):
    """Confirm one item of the budget view into the budget (본예산/추경, amount, 예산과목)."""
    item = db.get_or_404(CardItem, item_id)
    form = TransitionForm(prefix=f"b{item_id}")
    submit(
        form,
        lambda: apply_transition(item, BUDGET_REFLECTED, form),
        success=_("#%(i)d 항목을 예산에 반영했습니다.", i=item_id),
        to=lambda _item: _budget_url(year),
        show_form=False,
    )
    return redirect(_budget_url(year))


@staff.route("/budget/<int:year>/envelope", methods=["POST"])
@roles_required(BUDGET_OFFICE, ADMIN)
def envelope(year: int):
    form = EnvelopeForm()
    answer = submit(
        form,
        lambda: set_envelope(
            db.session, fiscal_year=year, amount=form.amount.data, actor=current_user, now=utcnow()
        ),
        success=_("%(y)d년도 예산 총액을 저장했습니다.", y=year),
        to=lambda _envelope: _budget_url(year),
    )
    if isinstance(answer, Response):
        return answer
    return _budget_page(year, envelope_form=form, status=answer)


@staff.route("/carry-over", methods=["POST"])
@roles_required(BUDGET_OFFICE, ADMIN)
def carry_over():
    form = CarryOverForm()
    year = form.from_year.data
    answer = submit(
        form,
        lambda: carry_items_over(db.session, from_year=year, actor=current_user, now=utcnow()),
        success=lambda moved: _("%(n)d개 항목을 %(y)d년도로 이월했습니다.", n=moved, y=year + 1),
        to=lambda _moved: _budget_url(year + 1),
    )
    if isinstance(answer, Response):
        return answer
    return _budget_page(_year_arg(), carry_form=form, status=answer)


@staff.route("/settings", methods=["GET", "POST"])
@roles_required(BUDGET_OFFICE, ADMIN)
def settings():
    form = SettingsForm(obj=get_settings(db.session))
    answer = submit(
        form,
        lambda: update_settings(
            db.session,
            actor=current_user,
            now=utcnow(),
            weights={c: float(getattr(form, f"weight_{c}").data) for c in CRITERIA},
            dong_flag_bonus=float(form.dong_flag_bonus.data),
            review_deadline_days=form.review_deadline_days.data,
        ),
        success=_("우선순위 가중치를 저장했습니다. 점수를 다시 계산했습니다."),
        to=lambda _settings: url_for("cards_staff.settings"),
    )
    if isinstance(answer, Response):
        return answer
    return render_template("cards/settings.html", form=form, **labels()), answer


# --- categories -------------------------------------------------------------------------------


def _categories_page(form: CategoryForm, status: int = 200):
    rows = db.session.scalars(select(CardCategory).order_by(CardCategory.position, CardCategory.id)).all()
    return render_template("cards/categories.html", rows=rows, form=form), status


@staff.route("/categories")
@roles_required(CIVIC_STAFF, ADMIN)
def categories():
    return _categories_page(CategoryForm(formdata=None))


@staff.route("/categories", methods=["POST"])
@roles_required(CIVIC_STAFF, ADMIN)
def add_category():
    form = CategoryForm()
    answer = submit(
        form,
        lambda: add_card_category(db.session, actor=current_user, name=form.name.data),
        success=_("분류를 저장했습니다."),
        to=lambda _category: url_for("cards_staff.categories"),
    )
    if isinstance(answer, Response):
        return answer
    return _categories_page(form, answer)


@staff.route("/categories/<int:category_id>/active", methods=["POST"])
@roles_required(CIVIC_STAFF, ADMIN)
def toggle_category(category_id: int):
    category = db.get_or_404(CardCategory, category_id)
    active = request.form.get("active") == "1"
    if run(lambda: set_category_active(db.session, category, actor=current_user, active=active)).ok:
        flash(_("분류를 저장했습니다."), "success")
    return redirect(url_for("cards_staff.categories"))
