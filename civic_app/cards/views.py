"""Card pages: public card per dong and scoreboard; staff queues, item page, budget view."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from civic_app.cards import policy as card_policy
from civic_app.cards import queries, services
from civic_app.cards.forms import (
    BulkReflectForm,
    CarryOverForm,
    CategoryForm,
    CommentForm,
    EnvelopeForm,
    ItemForm,
    MergeForm,
    MilestoneForm,
    OverrideForm,
    PhotoForm,
    ReviewForm,
    SettingsForm,
    SplitForm,
    TransitionForm,
    choices,
)
from civic_app.cards.models import (
    BUDGET_KIND_LABELS,
    BUDGET_REFLECTED,
    CRITERIA,
    CRITERION_LABELS,
    LONG_TERM,
    MERGED,
    MILESTONE_LABELS,
    MILESTONE_STATUSES,
    OPEN_STATUSES,
    PARTIES,
    PARTY_DEPARTMENT,
    PARTY_LABELS,
    RECOMMENDATION_LABELS,
    SOURCE_LABELS,
    STATUS_LABELS,
    STATUSES,
    TRANSITIONS,
    CardCategory,
    CardItem,
    CardPhoto,
    CardReview,
)
from civic_app.dongs.models import Department, Dong
from civic_app.errors import DomainError
from civic_app.extensions import db
from civic_app.storage import storage
from civic_app.timeutil import utcnow
from civic_app.web.filters import format_won_short
from civic_app.web.forms import apply_domain_error
from civic_app.web.htmx import is_htmx
from civic_app.web.inputs import query_int
from civic_app.web.policy import (
    ADMIN,
    BUDGET_OFFICE,
    CIVIC_STAFF,
    DEPARTMENT,
    POLICY_OFFICE,
    public,
    roles_required,
)

bp = Blueprint("cards", __name__, url_prefix="/cards")
staff = Blueprint("cards_staff", __name__, url_prefix="/staff/cards")

CARD_ROLES = (BUDGET_OFFICE, POLICY_OFFICE, DEPARTMENT, CIVIC_STAFF, ADMIN)
PUBLIC_STATUSES = tuple(s for s in STATUSES if s != "merged")


def _page_arg() -> int:
    return query_int("page", 1)


def _dong_or_404(code: str) -> Dong:
    dong = db.session.scalar(select(Dong).where(Dong.code == code, Dong.active.is_(True)))
    if dong is None:
        abort(404)
    return dong


def _common() -> dict:
    return {
        "STATUS_LABELS": STATUS_LABELS,
        "PARTY_LABELS": PARTY_LABELS,
        "CRITERIA": CRITERIA,
        "CRITERION_LABELS": CRITERION_LABELS,
        "RECOMMENDATION_LABELS": RECOMMENDATION_LABELS,
        "BUDGET_KIND_LABELS": BUDGET_KIND_LABELS,
        "SOURCE_LABELS": SOURCE_LABELS,
        "MILESTONE_LABELS": MILESTONE_LABELS,
    }


def _upload_dir() -> str:
    return storage().folder("card_photos")


def _read_upload(field) -> tuple[str, bytes] | None:
    """The uploaded file of ``field`` (at most one byte over the limit is read)."""
    file = field.data
    if file is None or not getattr(file, "filename", ""):
        return None
    return file.filename, file.read(services.MAX_PHOTO_BYTES + 1)


# --- public ----------------------------------------------------------------------------


@bp.route("/")
@public
def scoreboard():
    rows, totals = queries.scoreboard(db.session)
    return render_template("cards/scoreboard.html", rows=rows, totals=totals, **_common())


@bp.route("/<string(length=10):dong_code>")
@public
def dong_card(dong_code: str):
    dong = _dong_or_404(dong_code)
    status = request.args.get("status") or None
    if status not in (None, *PUBLIC_STATUSES):
        status = None
    page, events = queries.dong_card(db.session, dong, status=status, page=_page_arg())
    counts = queries.dong_status_counts(db.session, dong)
    return render_template(
        "cards/dong_card.html",
        dong=dong,
        page=page,
        events=events,
        counts=counts,
        status=status,
        statuses=PUBLIC_STATUSES,
        **_common(),
    )


@bp.route("/<string(length=10):dong_code>/items/<int:item_id>")
@public
def public_item(dong_code: str, item_id: int):
    dong = _dong_or_404(dong_code)
    item = db.session.get(CardItem, item_id)
    if item is None or item.dong_id != dong.id:
        abort(404)
    if item.merged_into_id:
        return redirect(url_for("cards.public_item", dong_code=dong_code, item_id=item.merged_into_id))
    history = queries.item_history(db.session, item, public_only=True)
    reviews = queries.item_reviews(db.session, item)
    settings = services.get_settings(db.session)
    return render_template(
        "cards/public_item.html",
        dong=dong,
        item=item,
        history=history,
        settings=settings,
        breakdown=services.score_breakdown(item, reviews, settings),
        milestones=queries.item_milestones(db.session, item),
        **_common(),
    )


@bp.route("/items/<int:item_id>")
@public
def item_link(item_id: int):
    """A stable short link (e-mails, the 통통데이 request page) to an item's public page."""
    item = db.get_or_404(CardItem, item_id)
    return redirect(url_for("cards.public_item", dong_code=item.dong.code, item_id=item.id))


def _send_photo(photo: CardPhoto):
    return storage().send("card_photos", photo.stored_name, mimetype=photo.content_type)


@bp.route("/photos/<int:photo_id>")
@public
def photo(photo_id: int):
    """Milestone photos are public; the photos of a suggestion stay with the staff."""
    row = db.get_or_404(CardPhoto, photo_id)
    item = db.session.get(CardItem, row.item_id)
    if not row.public or item is None or item.status == MERGED:
        abort(404)
    return _send_photo(row)


# --- staff: overview and queues --------------------------------------------------------


def _my_parties() -> list[str]:
    if current_user.has_role(ADMIN):
        return list(PARTIES)
    return services.parties_of(current_user)


@staff.route("/")
@roles_required(*CARD_ROLES)
def index():
    dong_code = request.args.get("dong") or None
    dong = _dong_or_404(dong_code) if dong_code else None
    now = utcnow()
    dept_id = current_user.department_id if current_user.has_role(DEPARTMENT) else None
    counts = queries.queue_counts(db.session, department_id=dept_id, now=now)
    page, reviews = queries.ranked(db.session, dong=dong, page=_page_arg())
    dongs = db.session.scalars(select(Dong).where(Dong.active.is_(True)).order_by(Dong.name)).all()
    return render_template(
        "cards/staff_index.html",
        counts=counts,
        my_parties=_my_parties(),
        page=page,
        reviews=reviews,
        dong=dong,
        dongs=dongs,
        **_common(),
    )


def _queue_department(party: str) -> int | None:
    if party != PARTY_DEPARTMENT or current_user.has_role(ADMIN):
        return None  # admins see every department's queue
    return current_user.department_id or -1  # a department account without a department: none


def _queue(party: str):
    page, counts, days = queries.party_queue(
        db.session, party, department_id=_queue_department(party), now=utcnow(), page=_page_arg()
    )
    # Compact rows: the review form of a row is loaded on demand (``review_form``), so the
    # queue page renders no form at all.
    return render_template("cards/queue.html", party=party, page=page, counts=counts, days=days, **_common())


@staff.route("/queue/budget")
@roles_required(BUDGET_OFFICE, ADMIN)
def queue_budget():
    return _queue("budget")


@staff.route("/queue/policy")
@roles_required(POLICY_OFFICE, ADMIN)
def queue_policy():
    return _queue("policy")


@staff.route("/queue/department")
@roles_required(DEPARTMENT, ADMIN)
def queue_department():
    return _queue("department")


def _review_form(item: CardItem, party: str, review=None, formdata=None) -> ReviewForm:
    form = ReviewForm(formdata=formdata, prefix=f"r{item.id}", obj=review)
    if formdata is None:
        form.party.data = party
        form.version.data = str(review.version if review else 0)
    return form


def _review_context(item: CardItem) -> dict:
    """What a reviewer needs to decide: the suggestion's text, its photos and its history."""
    return {
        "photos": queries.item_photos(db.session, item, public_only=False),
        "history": queries.item_history(db.session, item, public_only=False),
        "show_context": True,
    }


def _next_item(item: CardItem, party: str) -> CardItem | None:
    if party not in PARTIES:
        return None
    return queries.next_in_queue(db.session, party, department_id=_queue_department(party), after=item)


@staff.route("/items/<int:item_id>/review", methods=["GET"])
@roles_required(BUDGET_OFFICE, POLICY_OFFICE, DEPARTMENT, ADMIN)
def review_form(item_id: int):
    """The review form of one queue row: for htmx the row with the form (swapped into the
    queue), otherwise a page of its own (the form posts back to the queue)."""
    item = db.get_or_404(CardItem, item_id)
    parties = services.parties_of(current_user, item)
    party = request.args.get("party", "")
    if party not in parties:
        if not parties:  # e.g. an administrator, or another department's item
            return redirect(url_for("cards_staff.item", item_id=item.id))
        party = parties[0]
    existing = db.session.scalar(
        select(CardReview).where(CardReview.item_id == item.id, CardReview.party == party)
    )
    form = _review_form(item, party, existing)
    context = {"item": item, "party": party, "done": False, "form": form, "message": None}
    context.update(_review_context(item))
    if is_htmx():
        return render_template("cards/_queue_row.html", **context, **_common())
    return render_template("cards/review.html", **context, **_common())


@staff.route("/items/<int:item_id>/review", methods=["POST"])
@roles_required(BUDGET_OFFICE, POLICY_OFFICE, DEPARTMENT)
def review(item_id: int):
    item = db.get_or_404(CardItem, item_id)
    form = ReviewForm(prefix=f"r{item.id}")
    party = form.party.data or ""
    back = request.form.get("next") or ""
    error = None
    if form.validate_on_submit():
        try:
            services.record_review(
                db.session,
                item,
                party=party,
                actor=current_user,
                now=utcnow(),
                scores={c: getattr(form, c).data for c in CRITERIA},
                recommendation=form.recommendation.data,
                cost_estimate=form.cost_estimate.data,
                comment=form.comment.data or "",
                expected_version=form.expected_version,
            )
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            error = exc
        else:
            following = _next_item(item, party)
            if is_htmx():
                return render_template(
                    "cards/_queue_row.html",
                    row=None,
                    item=item,
                    party=party,
                    done=True,
                    next_item=following,
                    **_common(),
                )
            flash(_("%(p)s 검토를 기록했습니다.", p=str(PARTY_LABELS.get(party, ""))), "success")
            if request.form.get("after") == "next" and following is not None:
                return redirect(url_for("cards_staff.review_form", item_id=following.id, party=party))
            if back == "queue" and party in PARTIES:
                return redirect(url_for(f"cards_staff.queue_{party}"))
            return redirect(url_for("cards_staff.item", item_id=item.id))
    db.session.rollback()
    item = db.get_or_404(CardItem, item_id)
    status = error.status_code if error is not None else 400
    # htmx swaps only 2xx responses: the fragment carries the messages, the status stays 200.
    if is_htmx():
        for field_name, text in getattr(error, "errors", []):
            if field_name in form:
                form[field_name].errors = [*form[field_name].errors, text]
        message = error.message if error is not None else _("검토 내용을 확인해 주세요.")
        return render_template(
            "cards/_queue_row.html",
            item=item,
            party=party,
            done=False,
            form=form,
            message=message,
            **_review_context(item),
            **_common(),
        )
    if error is not None:
        apply_domain_error(form, error)
    return _item_page(item, review_form=form, status=status)


# --- staff: item page ------------------------------------------------------------------


def _allowed_targets(item: CardItem) -> list[str]:
    return card_policy.allowed_targets(current_user, item)


def _transition_form(item: CardItem, target: str, reviews) -> TransitionForm:
    form = TransitionForm(prefix=f"t-{target}", formdata=None)
    form.target.data = target
    form.version.data = str(item.version)
    if target == BUDGET_REFLECTED:
        form.fiscal_year.data = item.target_year
        form.amount.data = services.planned_cost(item, reviews)
        form.budget_kind.data = "main"
    return form


def _item_page(item: CardItem, *, status: int = 200, **forms):
    session = db.session
    reviews = queries.item_reviews(session, item)
    settings = services.get_settings(session)
    my = services.parties_of(current_user, item)
    by_party = {r.party: r for r in reviews}
    review_forms = {}
    for party in my:
        if "review_form" in forms and forms["review_form"].party.data == party:
            review_forms[party] = forms["review_form"]
        else:
            review_forms[party] = _review_form(item, party, by_party.get(party))
    targets = _allowed_targets(item)
    transition_forms = {t: forms.get(f"t_{t}") or _transition_form(item, t, reviews) for t in targets}
    edit_form = None
    override_form = forms.get("override_form") or OverrideForm(formdata=None, obj=None)
    override_form.version.data = str(item.version)
    if override_form.score.data is None and item.priority_override is not None:
        override_form.score.data = item.priority_override
    merge_form = forms.get("merge_form") or MergeForm(formdata=None)
    merge_form.version.data = str(item.version)
    split_form = forms.get("split_form") or SplitForm(formdata=None)
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
        breakdown=services.score_breakdown(item, reviews, settings),
        settings=settings,
        history=queries.item_history(session, item, public_only=False),
        comments=queries.item_comments(session, item),
        photos=queries.item_photos(session, item, public_only=False),
        milestones=queries.item_milestones(session, item),
        milestone_form=forms.get("milestone_form") or MilestoneForm(formdata=None),
        photo_form=forms.get("photo_form") or PhotoForm(formdata=None),
        can_milestone=item.status in MILESTONE_STATUSES
        and bool(current_user.role_set & services.MILESTONE_ROLES),
        merged_into=session.get(CardItem, item.merged_into_id) if item.merged_into_id else None,
        review_forms=review_forms,
        transition_forms=transition_forms,
        comment_form=forms.get("comment_form") or CommentForm(formdata=None),
        override_form=override_form,
        merge_form=merge_form,
        split_form=split_form,
        edit_form=edit_form,
        is_open=item.status in OPEN_STATUSES,
        can_manage=bool(current_user.role_set & {CIVIC_STAFF, BUDGET_OFFICE, POLICY_OFFICE, ADMIN}),
        can_override=bool(current_user.role_set & {BUDGET_OFFICE, POLICY_OFFICE, ADMIN}),
        **_common(),
    ), status


@staff.route("/items/<int:item_id>")
@roles_required(*CARD_ROLES)
def item(item_id: int):
    return _item_page(db.get_or_404(CardItem, item_id))


def _after_error(item_id: int, form, exc: DomainError, key: str):
    """Re-render the item page with the error next to the form (nothing is half-written)."""
    db.session.rollback()
    apply_domain_error(form, exc)
    item = db.get_or_404(CardItem, item_id)
    status = exc.status_code if exc.status_code in (400, 403, 409) else 400
    return _item_page(item, status=status, **{key: form})


@staff.route("/items/<int:item_id>/transition", methods=["POST"])
@roles_required(*CARD_ROLES)
def transition(item_id: int):
    item = db.get_or_404(CardItem, item_id)
    target = request.form.get("target", "")
    if target not in TRANSITIONS:
        abort(400)
    form = TransitionForm(prefix=f"t-{target}")
    if not form.validate_on_submit():
        db.session.rollback()
        return _item_page(item, status=400, **{f"t_{target}": form})
    try:
        services.transition(
            db.session,
            item,
            target,
            actor=current_user,
            now=utcnow(),
            reason=form.reason.data,
            expected_version=form.expected_version,
            rank=form.rank.data,
            fiscal_year=form.fiscal_year.data,
            budget_kind=form.budget_kind.data or None,
            amount=form.amount.data,
            budget_line=form.budget_line.data,
            referred_to=form.referred_to.data,
        )
        db.session.commit()
    except DomainError as exc:
        if form.next.data == "budget":
            db.session.rollback()
            flash(exc.message, "error")
            return redirect(url_for("cards_staff.budget", year=form.fiscal_year.data or ""))
        return _after_error(item_id, form, exc, f"t_{target}")
    flash(_("'%(s)s' 단계로 바꿨습니다.", s=str(STATUS_LABELS[target])), "success")
    if form.next.data == "budget":
        return redirect(url_for("cards_staff.budget", year=item.fiscal_year))
    return redirect(url_for("cards_staff.item", item_id=item.id))


@staff.route("/items/<int:item_id>/override", methods=["POST"])
@roles_required(BUDGET_OFFICE, POLICY_OFFICE, ADMIN)
def override(item_id: int):
    item = db.get_or_404(CardItem, item_id)
    form = OverrideForm()
    if not form.validate_on_submit():
        db.session.rollback()
        return _item_page(item, status=400, override_form=form)
    try:
        services.set_override(
            db.session,
            item,
            actor=current_user,
            now=utcnow(),
            score=float(form.score.data) if form.score.data is not None else None,
            reason=form.reason.data,
            expected_version=form.expected_version,
        )
        db.session.commit()
    except DomainError as exc:
        return _after_error(item_id, form, exc, "override_form")
    flash(_("우선순위를 저장했습니다."), "success")
    return redirect(url_for("cards_staff.item", item_id=item_id))


@staff.route("/items/<int:item_id>/milestones", methods=["POST"])
@roles_required(DEPARTMENT, BUDGET_OFFICE, CIVIC_STAFF, ADMIN)
def milestone(item_id: int):
    item = db.get_or_404(CardItem, item_id)
    form = MilestoneForm()
    if not form.validate_on_submit():
        db.session.rollback()
        return _item_page(item, status=400, milestone_form=form)
    try:
        services.add_milestone(
            db.session,
            item,
            actor=current_user,
            now=utcnow(),
            kind=form.kind.data,
            day=form.day.data,
            note=form.note.data,
            photo=_read_upload(form.photo),
            upload_dir=_upload_dir(),
        )
        db.session.commit()
    except DomainError as exc:
        return _after_error(item_id, form, exc, "milestone_form")
    flash(_("집행 단계를 기록했습니다."), "success")
    return redirect(url_for("cards_staff.item", item_id=item_id) + "#milestones")


@staff.route("/items/<int:item_id>/photos", methods=["POST"])
@roles_required(*CARD_ROLES)
def add_photo(item_id: int):
    item = db.get_or_404(CardItem, item_id)
    form = PhotoForm()
    upload = _read_upload(form.photo) if form.validate_on_submit() else None
    if upload is None:
        db.session.rollback()
        form.photo.errors = [*form.photo.errors, _("사진 파일을 골라 주세요.")]
        return _item_page(item, status=400, photo_form=form)
    try:
        services.add_photo(
            db.session,
            item,
            actor=current_user,
            now=utcnow(),
            filename=upload[0],
            data=upload[1],
            upload_dir=_upload_dir(),
            caption=form.caption.data,
        )
        db.session.commit()
    except DomainError as exc:
        return _after_error(item_id, form, exc, "photo_form")
    flash(_("사진을 올렸습니다."), "success")
    return redirect(url_for("cards_staff.item", item_id=item_id) + "#photos")


@staff.route("/photos/<int:photo_id>")
@roles_required(*CARD_ROLES)
def staff_photo(photo_id: int):
    return _send_photo(db.get_or_404(CardPhoto, photo_id))


@staff.route("/items/<int:item_id>/comment", methods=["POST"])
@roles_required(*CARD_ROLES)
def comment(item_id: int):
    item = db.get_or_404(CardItem, item_id)
    form = CommentForm()
    if not form.validate_on_submit():
        db.session.rollback()
        return _item_page(item, status=400, comment_form=form)
    try:
        services.add_comment(db.session, item, actor=current_user, now=utcnow(), body=form.body.data)
        db.session.commit()
    except DomainError as exc:
        return _after_error(item_id, form, exc, "comment_form")
    flash(_("내부 의견을 남겼습니다."), "success")
    return redirect(url_for("cards_staff.item", item_id=item_id) + "#comments")


@staff.route("/items/<int:item_id>/merge", methods=["POST"])
@roles_required(CIVIC_STAFF, BUDGET_OFFICE, POLICY_OFFICE, ADMIN)
def merge(item_id: int):
    item = db.get_or_404(CardItem, item_id)
    form = MergeForm()
    if not form.validate_on_submit():
        db.session.rollback()
        return _item_page(item, status=400, merge_form=form)
    target = db.session.get(CardItem, form.target_id.data)
    if target is None:
        form.target_id.errors = [_("그 번호의 항목이 없습니다.")]
        return _item_page(item, status=400, merge_form=form)
    try:
        services.merge(
            db.session,
            item,
            target,
            actor=current_user,
            now=utcnow(),
            reason=form.reason.data,
            expected_version=form.expected_version,
        )
        db.session.commit()
    except DomainError as exc:
        return _after_error(item_id, form, exc, "merge_form")
    flash(_("#%(a)d 항목을 #%(b)d 항목에 병합했습니다.", a=item_id, b=target.id), "success")
    return redirect(url_for("cards_staff.item", item_id=target.id))


@staff.route("/items/<int:item_id>/split", methods=["POST"])
@roles_required(CIVIC_STAFF, BUDGET_OFFICE, POLICY_OFFICE, ADMIN)
def split(item_id: int):
    item = db.get_or_404(CardItem, item_id)
    form = SplitForm()
    if not form.validate_on_submit():
        db.session.rollback()
        return _item_page(item, status=400, split_form=form)
    try:
        parts = services.split(
            db.session,
            item,
            form.parts(),
            actor=current_user,
            now=utcnow(),
            reason=form.reason.data,
            expected_version=form.expected_version,
        )
        db.session.commit()
    except DomainError as exc:
        if isinstance(exc, DomainError) and not getattr(exc, "field", None):
            exc.field = "title_1"
        return _after_error(item_id, form, exc, "split_form")
    flash(_("항목을 %(n)d개로 나눴습니다.", n=len(parts)), "success")
    return redirect(url_for("cards_staff.item", item_id=item_id))


def _item_form(item: CardItem | None) -> ItemForm:
    form = ItemForm(obj=item)
    dongs = db.session.scalars(select(Dong).where(Dong.active.is_(True)).order_by(Dong.name)).all()
    depts = db.session.scalars(
        select(Department).where(Department.active.is_(True)).order_by(Department.name)
    ).all()
    form.dong_id.choices = choices((d.id, d.name) for d in dongs)
    categories = services.category_names(db.session)
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
@roles_required(CIVIC_STAFF, BUDGET_OFFICE, POLICY_OFFICE, ADMIN)
def new_item():
    form = _item_form(None)
    if form.validate_on_submit():
        try:
            created = services.create_item(
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
            )
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            apply_domain_error(form, exc)
        else:
            flash(_("관리카드에 항목을 올렸습니다."), "success")
            return redirect(url_for("cards_staff.item", item_id=created.id))
    status = 400 if request.method == "POST" else 200
    return render_template("cards/item_form.html", form=form, item=None), status


@staff.route("/items/<int:item_id>/edit", methods=["GET", "POST"])
@roles_required(CIVIC_STAFF, BUDGET_OFFICE, POLICY_OFFICE, ADMIN)
def edit_item(item_id: int):
    item = db.get_or_404(CardItem, item_id)
    form = _item_form(item)
    if form.validate_on_submit():
        try:
            services.update_item(
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
            )
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            apply_domain_error(form, exc)
            item = db.get_or_404(CardItem, item_id)
        else:
            flash(_("저장했습니다."), "success")
            return redirect(url_for("cards_staff.item", item_id=item.id))
    status = 400 if request.method == "POST" else 200
    return render_template("cards/item_form.html", form=form, item=item), status


# --- staff: budget ---------------------------------------------------------------------


def _year_arg() -> int:
    default = services.default_target_year(utcnow())
    try:
        year = int(request.args.get("year") or default)
    except ValueError:
        return default
    return year if 2000 <= year <= 2100 else default


@staff.route("/budget")
@roles_required(BUDGET_OFFICE, POLICY_OFFICE, ADMIN)
def budget():
    return _budget_page(_year_arg())


def _budget_page(year: int, envelope_form=None, carry_form=None, status: int = 200, bulk_form=None):
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
        **_common(),
    ), status


def _int_or_none(value: str | None) -> int | None:
    try:
        return int((value or "").replace(",", "").strip())
    except ValueError:
        return None


@staff.route("/budget/<int:year>/reflect", methods=["POST"])
@roles_required(BUDGET_OFFICE, ADMIN)
def reflect_bulk(year: int):
    """Act on every checked row, all or nothing: reflect them in the budget (each with its
    own amount) or move them to 장기검토 (one public reason). Each row goes through the same
    transition as one by one, with the version the page showed."""
    form = BulkReflectForm()
    action = request.form.get("action", "reflect")
    target = LONG_TERM if action == "long_term" else BUDGET_REFLECTED
    ids = list(dict.fromkeys(i for i in (_int_or_none(v) for v in request.form.getlist("item_id")) if i))
    if not form.validate_on_submit() or not ids:
        db.session.rollback()
        if not ids:
            flash(_("처리할 항목을 골라 주세요."), "error")
        return _budget_page(year, bulk_form=form, status=400)
    now = utcnow()
    total = 0
    for item_id in ids:
        item = db.session.get(CardItem, item_id)
        if item is None:
            db.session.rollback()
            flash(_("그 번호의 항목이 없습니다.") + f" (#{item_id})", "error")
            return _budget_page(year, bulk_form=form, status=400)
        amount = _int_or_none(request.form.get(f"amount-{item_id}"))
        version = _int_or_none(request.form.get(f"version-{item_id}"))
        try:
            if target == LONG_TERM:
                services.transition(
                    db.session,
                    item,
                    LONG_TERM,
                    actor=current_user,
                    now=now,
                    reason=form.reason.data,
                    expected_version=version,
                )
            else:
                services.transition(
                    db.session,
                    item,
                    BUDGET_REFLECTED,
                    actor=current_user,
                    now=now,
                    expected_version=version,
                    fiscal_year=form.fiscal_year.data,
                    budget_kind=form.budget_kind.data,
                    amount=amount,
                    budget_line=form.budget_line.data,
                )
        except DomainError as exc:
            db.session.rollback()
            flash(f"#{item_id} {item.title}: {exc.message}", "error")
            return _budget_page(
                year, bulk_form=form, status=exc.status_code if exc.status_code == 409 else 400
            )
        total += amount or 0
    db.session.commit()
    if target == LONG_TERM:
        flash(_("%(n)d개 항목을 장기검토로 옮겼습니다.", n=len(ids)), "success")
    else:
        flash(
            _("%(n)d개 항목을 예산에 반영했습니다 (합계 %(a)s).", n=len(ids), a=format_won_short(total)),
            "success",
        )
    return redirect(url_for("cards_staff.budget", year=year))


@staff.route("/budget/<int:year>/items/<int:item_id>/reflect", methods=["POST"])
@roles_required(BUDGET_OFFICE, ADMIN)
def reflect(year: int, item_id: int):
    """Confirm one item of the budget view into the budget (본예산/추경, amount, 예산과목)."""
    item = db.get_or_404(CardItem, item_id)
    form = TransitionForm(prefix=f"b{item_id}")
    if form.validate_on_submit():
        try:
            services.transition(
                db.session,
                item,
                BUDGET_REFLECTED,
                actor=current_user,
                now=utcnow(),
                reason=form.reason.data,
                expected_version=form.expected_version,
                fiscal_year=form.fiscal_year.data,
                budget_kind=form.budget_kind.data or None,
                amount=form.amount.data,
                budget_line=form.budget_line.data,
            )
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            flash(_("#%(i)d 항목을 예산에 반영했습니다.", i=item_id), "success")
    else:
        db.session.rollback()
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "error")
    return redirect(url_for("cards_staff.budget", year=year))


@staff.route("/budget/<int:year>/envelope", methods=["POST"])
@roles_required(BUDGET_OFFICE, ADMIN)
def envelope(year: int):
    form = EnvelopeForm()
    if form.validate_on_submit():
        try:
            services.set_envelope(
                db.session, fiscal_year=year, amount=form.amount.data, actor=current_user, now=utcnow()
            )
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            apply_domain_error(form, exc)
        else:
            flash(_("%(y)d년도 예산 총액을 저장했습니다.", y=year), "success")
            return redirect(url_for("cards_staff.budget", year=year))
    db.session.rollback()
    return _budget_page(year, envelope_form=form, status=400)


@staff.route("/carry-over", methods=["POST"])
@roles_required(BUDGET_OFFICE, ADMIN)
def carry_over():
    form = CarryOverForm()
    if form.validate_on_submit():
        year = form.from_year.data
        try:
            moved = services.carry_over(db.session, from_year=year, actor=current_user, now=utcnow())
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            flash(_("%(n)d개 항목을 %(y)d년도로 이월했습니다.", n=moved, y=year + 1), "success")
            return redirect(url_for("cards_staff.budget", year=year + 1))
        return redirect(url_for("cards_staff.budget", year=year))
    db.session.rollback()
    return _budget_page(_year_arg(), carry_form=form, status=400)


@staff.route("/settings", methods=["GET", "POST"])
@roles_required(BUDGET_OFFICE, ADMIN)
def settings():
    current = services.get_settings(db.session)
    form = SettingsForm(obj=current)
    if form.validate_on_submit():
        try:
            services.update_settings(
                db.session,
                actor=current_user,
                now=utcnow(),
                weights={c: float(getattr(form, f"weight_{c}").data) for c in CRITERIA},
                dong_flag_bonus=float(form.dong_flag_bonus.data),
                review_deadline_days=form.review_deadline_days.data,
            )
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            apply_domain_error(form, exc)
        else:
            flash(_("우선순위 가중치를 저장했습니다. 점수를 다시 계산했습니다."), "success")
            return redirect(url_for("cards_staff.settings"))
    status = 400 if request.method == "POST" else 200
    return render_template("cards/settings.html", form=form, **_common()), status


def _categories_page(form=None, status: int = 200):
    rows = db.session.scalars(select(CardCategory).order_by(CardCategory.position, CardCategory.id)).all()
    return render_template(
        "cards/categories.html", rows=rows, form=form or CategoryForm(formdata=None)
    ), status


@staff.route("/categories")
@roles_required(CIVIC_STAFF, ADMIN)
def categories():
    return _categories_page()


@staff.route("/categories", methods=["POST"])
@roles_required(CIVIC_STAFF, ADMIN)
def add_category():
    form = CategoryForm()
    if form.validate_on_submit():
        try:
            services.add_category(db.session, actor=current_user, name=form.name.data)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            apply_domain_error(form, exc)
        else:
            flash(_("분류를 저장했습니다."), "success")
            return redirect(url_for("cards_staff.categories"))
    return _categories_page(form, 400)


@staff.route("/categories/<int:category_id>/active", methods=["POST"])
@roles_required(CIVIC_STAFF, ADMIN)
def toggle_category(category_id: int):
    category = db.get_or_404(CardCategory, category_id)
    services.set_category_active(
        db.session, category, actor=current_user, active=request.form.get("active") == "1"
    )
    db.session.commit()
    flash(_("분류를 저장했습니다."), "success")
    return redirect(url_for("cards_staff.categories"))


def home_section() -> dict:
    counts = queries.status_counts(db.session)
    return {"template": "cards/_home.html", "counts": counts, "labels": STATUS_LABELS}
