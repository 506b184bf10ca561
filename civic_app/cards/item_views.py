"""The staff item page and the forms on it: review, next step, priority, merge and split,
photos, milestones and internal notes; filing and editing an item."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response

from civic_app.cards import items, queries, transitions
from civic_app.cards import policy as card_policy
from civic_app.cards.budget import planned_cost
from civic_app.cards.forms import (
    CommentForm,
    ItemForm,
    MergeForm,
    MilestoneForm,
    OverrideForm,
    PhotoForm,
    ReviewForm,
    SplitForm,
    TransitionForm,
    choices,
)
from civic_app.cards.milestones import MILESTONE_ROLES, add_milestone
from civic_app.cards.models import (
    BUDGET_REFLECTED,
    MILESTONE_STATUSES,
    OPEN_STATUSES,
    PARTIES,
    REFERRED,
    SELECTED,
    STATUS_LABELS,
    TRANSITIONS,
    CardItem,
    CardPhoto,
)
from civic_app.cards.photos import add_photo as store_staff_photo
from civic_app.cards.photos import read_upload
from civic_app.cards.priority import score_breakdown, set_override
from civic_app.cards.reviews import parties_of
from civic_app.cards.settings import category_names, get_settings
from civic_app.cards.views import (
    CARD_ROLES,
    MANAGERS,
    acting,
    labels,
    send_photo,
    staff,
    submit,
    upload_dir,
)
from civic_app.dongs.models import Department, Dong
from civic_app.errors import ValidationFailed
from civic_app.extensions import db
from civic_app.timeutil import utcnow
from civic_app.web.policy import ADMIN, BUDGET_OFFICE, CIVIC_STAFF, DEPARTMENT, POLICY_OFFICE, roles_required

T = TypeVar("T")
F = TypeVar("F", bound=FlaskForm)


def item_url(item_id: int, anchor: str = "") -> str:
    return url_for("cards_staff.item", item_id=item_id) + (f"#{anchor}" if anchor else "")


def review_form_for(item: CardItem, party: str, review=None) -> ReviewForm:
    """``party``'s review form of ``item``, filled with its review when there is one."""
    form = ReviewForm(formdata=None, prefix=f"r{item.id}", obj=review)
    form.party.data = party
    form.version.data = str(review.version if review else 0)
    return form


def _transition_form(item: CardItem, target: str, reviews) -> TransitionForm:
    form = TransitionForm(prefix=f"t-{target}", formdata=None)
    form.target.data = target
    form.version.data = str(item.version)
    if target == BUDGET_REFLECTED:
        form.fiscal_year.data = item.target_year
        form.amount.data = planned_cost(item, reviews)
        form.budget_kind.data = "main"
    return form


def item_page(item: CardItem, *, status: int = 200, shown: FlaskForm | None = None):
    """The item page; ``shown`` is a submitted form to show again, with its errors, in place
    of the fresh form of its kind."""

    def fresh_or_shown(kind: type[FlaskForm], fresh: FlaskForm, same=lambda _form: True) -> FlaskForm:
        return shown if isinstance(shown, kind) and same(shown) else fresh

    session = db.session
    reviews = queries.item_reviews(session, item)
    settings = get_settings(session)
    by_party = {r.party: r for r in reviews}
    review_forms = {
        party: fresh_or_shown(
            ReviewForm,
            review_form_for(item, party, by_party.get(party)),
            lambda f, p=party: f.party.data == p,
        )
        for party in parties_of(current_user, item)
    }
    transition_forms = {
        t: fresh_or_shown(
            TransitionForm, _transition_form(item, t, reviews), lambda f, t=t: f.target.data == t
        )
        for t in card_policy.allowed_targets(current_user, item)
    }
    override_form = fresh_or_shown(OverrideForm, OverrideForm(formdata=None, obj=None))
    override_form.version.data = str(item.version)
    if override_form.score.data is None and item.priority_override is not None:
        override_form.score.data = item.priority_override
    merge_form = fresh_or_shown(MergeForm, MergeForm(formdata=None))
    merge_form.version.data = str(item.version)
    split_form = fresh_or_shown(SplitForm, SplitForm(formdata=None))
    split_form.version.data = str(item.version)
    if split_form.title_1.data is None:
        split_form.title_1.data = item.title
    return render_template(
        "cards/item.html",
        item=item,
        reviews=reviews,
        by_party=by_party,
        consensus=queries.consensus(reviews),
        missing=[p for p in PARTIES if p not in by_party],
        breakdown=score_breakdown(item, reviews, settings),
        settings=settings,
        history=queries.item_history(session, item, public_only=False),
        comments=queries.item_comments(session, item),
        photos=queries.item_photos(session, item, public_only=False),
        milestones=queries.item_milestones(session, item),
        milestone_form=fresh_or_shown(MilestoneForm, MilestoneForm(formdata=None)),
        photo_form=fresh_or_shown(PhotoForm, PhotoForm(formdata=None)),
        can_milestone=item.status in MILESTONE_STATUSES and bool(current_user.role_set & MILESTONE_ROLES),
        merged_into=session.get(CardItem, item.merged_into_id) if item.merged_into_id else None,
        review_forms=review_forms,
        transition_forms=transition_forms,
        comment_form=fresh_or_shown(CommentForm, CommentForm(formdata=None)),
        override_form=override_form,
        merge_form=merge_form,
        split_form=split_form,
        is_open=item.status in OPEN_STATUSES,
        can_manage=bool(current_user.role_set & set(MANAGERS)),
        can_override=bool(current_user.role_set & {BUDGET_OFFICE, POLICY_OFFICE, ADMIN}),
        **labels(),
    ), status


@staff.route("/items/<int:item_id>")
@roles_required(*CARD_ROLES)
def item(item_id: int):
    return item_page(db.get_or_404(CardItem, item_id))


@staff.route("/photos/<int:photo_id>")
@roles_required(*CARD_ROLES)
def staff_photo(photo_id: int):
    return send_photo(db.get_or_404(CardPhoto, photo_id))


def _on_item_page(
    item_id: int,
    make_form: Callable[[], F],
    call: Callable[[CardItem, F], T],
    success: str | Callable[[T], str],
    *,
    anchor: str = "",
    to: Callable[[T], str] | None = None,
):
    """A form of the item page (``make_form()`` reads it from the request) posts:
    ``call(item, form)`` through :func:`views.submit`, then the item page at ``anchor`` (or
    ``to(result)``); on failure the item page again, the form showing its errors."""
    item = db.get_or_404(CardItem, item_id)
    form = make_form()
    answer = submit(
        form,
        lambda: call(item, form),
        success=success,
        to=to or (lambda _result: item_url(item_id, anchor)),
    )
    if isinstance(answer, Response):
        return answer
    return item_page(db.get_or_404(CardItem, item_id), status=answer, shown=form)


# --- what each form of the item page does -----------------------------------------------------


def apply_transition(item: CardItem, target: str, form: TransitionForm) -> CardItem:
    """Move ``item`` to ``target`` with what ``form`` carries for it."""
    common = {"reason": form.reason.data, "expected_version": form.expected_version, **acting()}
    if target == SELECTED:
        return transitions.select_item(db.session, item, rank=form.rank.data, **common)
    if target == REFERRED:
        return transitions.refer(db.session, item, referred_to=form.referred_to.data, **common)
    if target == BUDGET_REFLECTED:
        return transitions.reflect_in_budget(
            db.session,
            item,
            fiscal_year=form.fiscal_year.data,
            budget_kind=form.budget_kind.data or None,
            amount=form.amount.data,
            budget_line=form.budget_line.data,
            **common,
        )
    return transitions.move(db.session, item, target, **common)


def _override(item: CardItem, form: OverrideForm) -> CardItem:
    score = float(form.score.data) if form.score.data is not None else None
    return set_override(
        db.session,
        item,
        score=score,
        reason=form.reason.data,
        expected_version=form.expected_version,
        **acting(),
    )


def _merge_into_target(item: CardItem, form: MergeForm) -> CardItem:
    target = db.session.get(CardItem, form.target_id.data)
    if target is None:
        msg = _("그 번호의 항목이 없습니다.")
        raise ValidationFailed(msg, [("target_id", msg)])
    return items.merge(
        db.session, item, target, reason=form.reason.data, expected_version=form.expected_version, **acting()
    )


def _split(item: CardItem, form: SplitForm) -> list[CardItem]:
    parts = form.parts()
    return items.split(
        db.session, item, parts, reason=form.reason.data, expected_version=form.expected_version, **acting()
    )


def _comment(item: CardItem, form: CommentForm):
    return items.add_comment(db.session, item, body=form.body.data, **acting())


def _milestone(item: CardItem, form: MilestoneForm):
    """A milestone, with its photo when one was sent."""
    step = {"kind": form.kind.data, "day": form.day.data, "note": form.note.data}
    return add_milestone(
        db.session, item, **step, photo=read_upload(form.photo), upload_dir=upload_dir(), **acting()
    )


def _upload_photo(item: CardItem, form: PhotoForm) -> CardPhoto:
    file = read_upload(form.photo)
    if file is None:
        msg = _("사진 파일을 골라 주세요.")
        raise ValidationFailed(msg, [("photo", msg)])
    filename, data = file
    return store_staff_photo(
        db.session,
        item,
        filename=filename,
        data=data,
        upload_dir=upload_dir(),
        caption=form.caption.data,
        **acting(),
    )


# --- the item page's POST routes ------------------------------------------------------------------


@staff.route("/items/<int:item_id>/transition", methods=["POST"])
@roles_required(*CARD_ROLES)
def transition(item_id: int):
    target = request.form.get("target", "")
    if target not in TRANSITIONS:
        abort(400)
    return _on_item_page(
        item_id,
        lambda: TransitionForm(prefix=f"t-{target}"),
        lambda item, form: apply_transition(item, target, form),
        _("'%(s)s' 단계로 바꿨습니다.", s=str(STATUS_LABELS[target])),
    )


@staff.route("/items/<int:item_id>/override", methods=["POST"])
@roles_required(BUDGET_OFFICE, POLICY_OFFICE, ADMIN)
def override(item_id: int):
    return _on_item_page(item_id, OverrideForm, _override, _("우선순위를 저장했습니다."))


@staff.route("/items/<int:item_id>/merge", methods=["POST"])
@roles_required(*MANAGERS)
def merge(item_id: int):
    """Fold this duplicate into the item numbered in the form (both histories stay)."""

    def merged(target: CardItem) -> str:
        return _("#%(a)d 항목을 #%(b)d 항목에 병합했습니다.", a=item_id, b=target.id)

    return _on_item_page(
        item_id, MergeForm, _merge_into_target, merged, to=lambda target: item_url(target.id)
    )


@staff.route("/items/<int:item_id>/split", methods=["POST"])
@roles_required(*MANAGERS)
def split(item_id: int):
    """Split a combined suggestion: the item keeps the first part and its history."""
    return _on_item_page(
        item_id, SplitForm, _split, lambda parts: _("항목을 %(n)d개로 나눴습니다.", n=len(parts))
    )


@staff.route("/items/<int:item_id>/comment", methods=["POST"])
@roles_required(*CARD_ROLES)
def comment(item_id: int):
    return _on_item_page(item_id, CommentForm, _comment, _("내부 의견을 남겼습니다."), anchor="comments")


@staff.route("/items/<int:item_id>/milestones", methods=["POST"])
@roles_required(DEPARTMENT, BUDGET_OFFICE, CIVIC_STAFF, ADMIN)
def milestone(item_id: int):
    return _on_item_page(
        item_id, MilestoneForm, _milestone, _("집행 단계를 기록했습니다."), anchor="milestones"
    )


@staff.route("/items/<int:item_id>/photos", methods=["POST"])
@roles_required(*CARD_ROLES)
def add_photo(item_id: int):
    return _on_item_page(item_id, PhotoForm, _upload_photo, _("사진을 올렸습니다."), anchor="photos")


# --- filing and editing an item ----------------------------------------------------------------


def _item_form(item: CardItem | None) -> ItemForm:
    form = ItemForm(obj=item)
    dongs = db.session.scalars(select(Dong).where(Dong.active.is_(True)).order_by(Dong.name)).all()
    depts = db.session.scalars(
        select(Department).where(Department.active.is_(True)).order_by(Department.name)
    ).all()
    form.dong_id.choices = choices((d.id, d.name) for d in dongs)
    categories = category_names(db.session)
    if item is not None and item.category not in categories:
        categories.append(item.category)
    form.category.choices = choices((c, c) for c in categories)
    form.department_id.choices = choices([(0, _("(미정)")), *((d.id, d.name) for d in depts)])
    if item is not None:
        if not form.is_submitted():
            form.version.data = str(item.version)
            form.department_id.data = item.department_id or 0
        del form.dong_id
        del form.source_kind
    return form


@staff.route("/items/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def new_item():
    form = _item_form(None)
    answer = submit(
        form,
        lambda: items.create_item(
            db.session,
            dong_id=form.dong_id.data,
            title=form.title.data,
            description=form.description.data or "",
            category=form.category.data,
            source_kind=form.source_kind.data,
            actor_id=current_user.id,
            now=utcnow(),
            location=form.location.data or None,
            department_id=form.department_id.data or None,
            estimated_cost=form.estimated_cost.data,
        ),
        success=_("관리카드에 항목을 올렸습니다."),
        to=lambda created: item_url(created.id),
    )
    if isinstance(answer, Response):
        return answer
    return render_template("cards/item_form.html", form=form, item=None), answer


@staff.route("/items/<int:item_id>/edit", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def edit_item(item_id: int):
    item = db.get_or_404(CardItem, item_id)
    form = _item_form(item)
    answer = submit(
        form,
        lambda: items.update_item(
            db.session,
            item,
            actor=current_user,
            now=utcnow(),
            expected_version=form.expected_version,
            title=form.title.data,
            description=form.description.data or "",
            category=form.category.data,
            location=form.location.data or None,
            department_id=form.department_id.data or None,
            estimated_cost=form.estimated_cost.data,
        ),
        success=_("저장했습니다."),
        to=lambda _item: item_url(item_id),
    )
    if isinstance(answer, Response):
        return answer
    return render_template("cards/item_form.html", form=form, item=item), answer
