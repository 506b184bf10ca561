"""Pages of the online suggestions (issue 17): submit, 공감, the department's answer, staff
overview and merge. Public and citizen pages under /cards/suggestions, staff pages under
/staff/cards/suggestions. The 공감 panel is a template global so the card's own item pages
include it without their views knowing about it."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    get_flashed_messages,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from civic_app.cards import items as card_items
from civic_app.cards import photos as card_photos
from civic_app.cards import policy, suggest_queries, suggestions
from civic_app.cards import settings as card_settings
from civic_app.cards.forms import MergeForm, choices
from civic_app.cards.models import ANSWER_LABELS, MERGED, SOURCE_LABELS, STATUS_LABELS, CardItem
from civic_app.cards.suggest_forms import AnswerForm, SuggestionForm, SupportForm
from civic_app.dongs.models import Dong
from civic_app.extensions import db
from civic_app.storage import storage
from civic_app.timeutil import today_seoul, utcnow
from civic_app.web.actions import run
from civic_app.web.forms import field_values
from civic_app.web.htmx import is_htmx
from civic_app.web.inputs import query_int
from civic_app.web.policy import (
    ADMIN,
    BUDGET_OFFICE,
    CITIZEN,
    CIVIC_STAFF,
    DEPARTMENT,
    POLICY_OFFICE,
    public,
    roles_required,
)

bp = Blueprint("cards_suggest", __name__, url_prefix="/cards/suggestions")
staff = Blueprint("cards_suggest_staff", __name__, url_prefix="/staff/cards/suggestions")

CARD_ROLES = tuple(sorted(policy.CARD_ROLES))  # roles_required(*CARD_ROLES)
MERGE_ROLES = (CIVIC_STAFF, BUDGET_OFFICE, POLICY_OFFICE, ADMIN)


def rules() -> suggestions.SupportRules:
    return suggestions.SupportRules.from_config(current_app.config)


def _labels() -> dict:
    return {"STATUS_LABELS": STATUS_LABELS, "SOURCE_LABELS": SOURCE_LABELS, "ANSWER_LABELS": ANSWER_LABELS}


def _dongs() -> list[Dong]:
    return list(db.session.scalars(select(Dong).where(Dong.active.is_(True)).order_by(Dong.name)))


def _item_or_404(item_id: int) -> CardItem:
    return db.get_or_404(CardItem, item_id)


def _public_url(item: CardItem) -> str:
    return url_for("cards.public_item", dong_code=item.dong.code, item_id=item.id)


# --- template globals ------------------------------------------------------------------------------


def panel_for(item: CardItem) -> suggest_queries.Panel:
    """The 공감 panel of ``item`` for the current reader (included by the card's item pages)."""
    return suggest_queries.panel(db.session, item, user=current_user, now=utcnow(), rules=rules())


def overdue_for_dashboard() -> dict:
    rows, total = suggest_queries.overdue(db.session, utcnow())
    return {"rows": rows, "total": total, "today": today_seoul(utcnow())}


# --- public and citizens ---------------------------------------------------------------------------


@bp.route("/")
@public
def index():
    dongs = _dongs()
    code = request.args.get("dong") or None
    dong = next((d for d in dongs if d.code == code), None)
    order = request.args.get("order") if request.args.get("order") in suggest_queries.ORDERS else "supports"
    page, rows = suggest_queries.public_list(db.session, dong=dong, order=order, page=query_int("page", 1))
    return render_template(
        "cards/suggest_list.html",
        page=page,
        rows=rows,
        dongs=dongs,
        dong=dong,
        order=order,
        rules=rules(),
        today=today_seoul(utcnow()),
        **_labels(),
    )


def _read_photos(form: SuggestionForm) -> list[tuple[str, bytes]]:
    """The uploaded photos (each read to at most one byte over the limit)."""
    out = []
    for file in form.photos.data or []:
        if file is not None and getattr(file, "filename", ""):
            out.append((file.filename, file.read(card_photos.MAX_PHOTO_BYTES + 1)))
    return out


@bp.route("/new", methods=["GET", "POST"])
@roles_required(CITIZEN)
def new():
    form = SuggestionForm()
    dongs = _dongs()
    form.dong_id.choices = choices([(0, _("동을 고르세요")), *((d.id, d.name) for d in dongs)])
    form.category.choices = choices((c, _(c)) for c in card_settings.category_names(db.session))
    if request.method == "GET":
        chosen = next((d for d in dongs if d.code == request.args.get("dong")), None)
        if chosen is not None:
            form.dong_id.data = chosen.id
    if form.validate_on_submit():
        target: dict = {}
        outcome = run(
            lambda: suggestions.submit_suggestion(
                db.session,
                actor=current_user,
                now=utcnow(),
                dong_id=form.dong_id.data or None,
                title=form.title.data or "",
                description=form.description.data or "",
                category=form.category.data,
                location=form.location.data,
                consent=form.consent.data,
                photos=_read_photos(form),
                upload_dir=storage().folder("card_photos"),
            ),
            form=form,
            on_success=lambda item: target.update(url=_public_url(item)),
        )
        if outcome.ok:
            flash(_("제안을 접수했습니다. 다른 시민의 공감을 받을 수 있습니다."), "success")
            return redirect(target["url"])
    status = 400 if request.method == "POST" else 200
    return render_template("cards/suggest_form.html", form=form, rules=rules()), status


@bp.route("/mine")
@roles_required(CITIZEN)
def mine():
    rows = suggest_queries.my_suggestions(db.session, current_user)
    return render_template(
        "cards/suggest_mine.html",
        rows=rows,
        photos=suggest_queries.photos_of(db.session, [r.item.id for r in rows]),
        today=today_seoul(utcnow()),
        **_labels(),
    )


def _after_support(item_id: int):
    """htmx: the panel again, with the outcome in it; otherwise back to the item page."""
    item = _item_or_404(item_id)
    if is_htmx():
        messages = get_flashed_messages(with_categories=True)  # shown in the panel, not later
        response = make_response(
            render_template("cards/suggest_panel.html", sp=panel_for(item), messages=messages, force=True)
        )
        response.vary.add("HX-Request")
        return response
    target = item.merged_into_id if item.status == MERGED and item.merged_into_id else item.id
    return redirect(url_for("cards.item_link", item_id=target) + "#support")


def _support_item(item_id: int) -> CardItem:
    """The item a 공감 button posts for (400 when the form's CSRF token does not check out)."""
    item = _item_or_404(item_id)
    if not SupportForm().validate_on_submit():
        abort(400)
    return item


@bp.route("/<int:item_id>/support", methods=["POST"])
@roles_required(CITIZEN)
def give_support(item_id: int):
    item = _support_item(item_id)
    outcome = run(
        lambda: suggestions.support(db.session, item, actor=current_user, now=utcnow(), rules=rules())
    )
    if outcome.ok:
        flash(_("공감했습니다.") if outcome.value.created else _("이미 이 제안에 공감했습니다."), "success")
    return _after_support(item_id)


@bp.route("/<int:item_id>/support/withdraw", methods=["POST"])
@roles_required(CITIZEN)
def withdraw_support(item_id: int):
    item = _support_item(item_id)
    outcome = run(lambda: suggestions.withdraw_support(db.session, item, actor=current_user, now=utcnow()))
    if outcome.ok:
        flash(_("공감을 취소했습니다.") if outcome.value else _("공감한 적이 없는 제안입니다."), "success")
    return _after_support(item_id)


@bp.route("/photos/<int:photo_id>")
@roles_required(CITIZEN)
def own_photo(photo_id: int):
    """The author sees the photos of their own suggestion (they are not public)."""
    photo = suggest_queries.own_photo(db.session, photo_id, current_user)
    if photo is None:
        abort(404)
    return storage().send("card_photos", photo.stored_name, mimetype=photo.content_type)


# --- staff ----------------------------------------------------------------------------------------


@staff.route("/")
@roles_required(*CARD_ROLES)
def overview():
    department_id = current_user.department_id if current_user.has_role(DEPARTMENT) else None
    data = suggest_queries.staff_overview(db.session, now=utcnow(), department_id=department_id)
    return render_template(
        "cards/suggest_staff.html",
        data=data,
        can_merge=bool(current_user.role_set & set(MERGE_ROLES)),
        may_answer=suggestions.may_answer,
        rules=rules(),
        today=today_seoul(utcnow()),
        **_labels(),
    )


@staff.route("/<int:item_id>/answer", methods=["GET", "POST"])
@roles_required(DEPARTMENT, ADMIN)
def answer(item_id: int):
    item = _item_or_404(item_id)
    if not suggestions.may_answer(current_user, item):
        abort(403)
    form = AnswerForm()
    if form.validate_on_submit():
        reply = {**field_values(form, "kind", "next_due_on"), **field_values(form, "body", empty="")}
        outcome = run(
            lambda: suggestions.answer(
                db.session, item, actor=current_user, now=utcnow(), rules=rules(), **reply
            ),
            form=form,
        )
        if outcome.ok:
            flash(_("답변을 공개했습니다."), "success")
            return redirect(url_for("cards.item_link", item_id=item_id) + "#support")
    status = 400 if request.method == "POST" else 200
    return render_template(
        "cards/suggest_answer.html", item=item, form=form, sp=panel_for(item), rules=rules(), **_labels()
    ), status


@staff.route("/<int:item_id>/merge", methods=["POST"])
@roles_required(*MERGE_ROLES)
def merge(item_id: int):
    item = _item_or_404(item_id)
    form = MergeForm()
    if not form.validate_on_submit():
        abort(400)
    target = db.session.get(CardItem, form.target_id.data)
    if target is None:
        flash(_("그 번호의 항목이 없습니다."), "error")
        return redirect(url_for("cards_suggest_staff.overview"))
    outcome = run(
        lambda: card_items.merge(
            db.session,
            item,
            target,
            actor=current_user,
            now=utcnow(),
            reason=form.reason.data,
            expected_version=form.expected_version,
        )
    )
    if outcome.ok:
        flash(_("#%(a)d 항목을 #%(b)d 항목에 병합했습니다.", a=item_id, b=target.id), "success")
    return redirect(url_for("cards_suggest_staff.overview"))


def init_app(app) -> None:
    """Blueprints, menus, the demo loader and the template globals (called by cards.init_app)."""
    from flask_babel import lazy_gettext as _l

    from civic_app.cards import suggest_demo
    from civic_app.registry import get_registry

    app.register_blueprint(bp)
    app.register_blueprint(staff)
    app.add_template_global(panel_for, "suggest_panel")
    app.add_template_global(overdue_for_dashboard, "suggest_overdue")
    reg = get_registry(app)
    reg.add_feature_nav(
        41,
        (_l("시민 제안"), "cards_suggest.index"),
        (_l("시민 제안 관리"), "cards_suggest_staff.overview"),
        CARD_ROLES,
    )
    reg.add_demo_loader(55, "card_suggestions", suggest_demo.load_demo)
    reg.add_dashboard_section(45, lambda: {"template": "cards/suggest_dashboard.html"})
    from civic_app.accounts.rights import register_rights_hooks

    register_rights_hooks(
        "card_suggestions", export=suggestions.export_personal, erase=suggestions.erase_personal
    )
