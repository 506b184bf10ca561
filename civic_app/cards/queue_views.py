"""Staff overview and the three review queues; a queue row's review form loads and saves with
htmx (the same URLs serve whole pages without JavaScript)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from civic_app.cards import queries
from civic_app.cards.forms import ReviewForm
from civic_app.cards.item_views import item_page, review_form_for
from civic_app.cards.models import CRITERIA, PARTIES, PARTY_DEPARTMENT, PARTY_LABELS, CardItem, CardReview
from civic_app.cards.reviews import parties_of, record_review
from civic_app.cards.views import CARD_ROLES, dong_or_404, error_status, labels, page_arg, staff
from civic_app.dongs.models import Dong
from civic_app.extensions import db
from civic_app.timeutil import utcnow
from civic_app.web.actions import run
from civic_app.web.htmx import htmx_view, is_htmx
from civic_app.web.policy import ADMIN, BUDGET_OFFICE, DEPARTMENT, POLICY_OFFICE, roles_required

QUEUE_ROW = "cards/_queue_row.html"


def _my_parties() -> list[str]:
    if current_user.has_role(ADMIN):
        return list(PARTIES)
    return parties_of(current_user)


@staff.route("/")
@roles_required(*CARD_ROLES)
def index():
    dong_code = request.args.get("dong") or None
    dong = dong_or_404(dong_code) if dong_code else None
    now = utcnow()
    dept_id = current_user.department_id if current_user.has_role(DEPARTMENT) else None
    counts = queries.queue_counts(db.session, department_id=dept_id, now=now)
    page, reviews = queries.ranked(db.session, dong=dong, page=page_arg())
    dongs = db.session.scalars(select(Dong).where(Dong.active.is_(True)).order_by(Dong.name)).all()
    ranking = {"page": page, "reviews": reviews, "dong": dong, "dongs": dongs}
    return render_template(
        "cards/staff_index.html", counts=counts, my_parties=_my_parties(), **ranking, **labels()
    )


def _queue_department(party: str) -> int | None:
    if party != PARTY_DEPARTMENT or current_user.has_role(ADMIN):
        return None  # admins see every department's queue
    return current_user.department_id or -1  # a department account without a department: none


def _queue(party: str):
    page, counts, days = queries.party_queue(
        db.session, party, department_id=_queue_department(party), now=utcnow(), page=page_arg()
    )
    # Compact rows: the review form of a row is loaded on demand (``review_form``), so the
    # queue page renders no form at all.
    return render_template("cards/queue.html", party=party, page=page, counts=counts, days=days, **labels())


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


def _review_row(item: CardItem, party: str, form: ReviewForm) -> dict:
    """A queue row with its review form, and what a reviewer needs to decide: the
    suggestion's text, its photos and its history."""
    return {
        "item": item,
        "party": party,
        "done": False,
        "form": form,
        "photos": queries.item_photos(db.session, item, public_only=False),
        "history": queries.item_history(db.session, item, public_only=False),
        "show_context": True,
        **labels(),
    }


def _next_item(item: CardItem, party: str) -> CardItem | None:
    if party not in PARTIES:
        return None
    return queries.next_in_queue(db.session, party, department_id=_queue_department(party), after=item)


@staff.route("/items/<int:item_id>/review", methods=["GET"])
@roles_required(BUDGET_OFFICE, POLICY_OFFICE, DEPARTMENT, ADMIN)
@htmx_view
def review_form(item_id: int):
    """The review form of one queue row: for htmx the row with the form (swapped into the
    queue), otherwise a page of its own (the form posts back to the queue)."""
    item = db.get_or_404(CardItem, item_id)
    parties = parties_of(current_user, item)
    party = request.args.get("party", "")
    if party not in parties:
        if not parties:  # e.g. an administrator, or another department's item
            return redirect(url_for("cards_staff.item", item_id=item.id))
        party = parties[0]
    existing = db.session.scalar(
        select(CardReview).where(CardReview.item_id == item.id, CardReview.party == party)
    )
    context = _review_row(item, party, review_form_for(item, party, existing))
    return render_template(QUEUE_ROW if is_htmx() else "cards/review.html", **context)


@staff.route("/items/<int:item_id>/review", methods=["POST"])
@roles_required(BUDGET_OFFICE, POLICY_OFFICE, DEPARTMENT)
@htmx_view
def review(item_id: int):
    """Save a review. With htmx the answer is the queue row (saved, with a link to the next
    item; or the form with its errors, status 200 since htmx swaps only 2xx answers)."""
    item = db.get_or_404(CardItem, item_id)
    form = ReviewForm(prefix=f"r{item.id}")
    party = form.party.data or ""
    status = 400
    if form.validate_on_submit():
        outcome = run(
            lambda: record_review(
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
            ),
            form=form,
        )
        if outcome.ok:
            return _reviewed(item, party)
        status = error_status(outcome.error)
    else:
        db.session.rollback()
    item = db.get_or_404(CardItem, item_id)
    if is_htmx():
        return render_template(QUEUE_ROW, fragment=True, **_review_row(item, party, form))
    return item_page(item, status=status, shown=form)


def _reviewed(item: CardItem, party: str):
    following = _next_item(item, party)
    if is_htmx():
        return render_template(
            QUEUE_ROW, row=None, item=item, party=party, done=True, next_item=following, **labels()
        )
    flash(_("%(p)s 검토를 기록했습니다.", p=str(PARTY_LABELS.get(party, ""))), "success")
    if request.form.get("after") == "next" and following is not None:
        return redirect(url_for("cards_staff.review_form", item_id=following.id, party=party))
    if request.form.get("next") == "queue" and party in PARTIES:
        return redirect(url_for(f"cards_staff.queue_{party}"))
    return redirect(url_for("cards_staff.item", item_id=item.id))
