"""Public card pages: the scoreboard, each dong's card, an item's public page and its photos."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for

from civic_app.cards import queries
from civic_app.cards.models import MERGED, STATUSES, CardItem, CardPhoto
from civic_app.cards.priority import score_breakdown
from civic_app.cards.settings import get_settings
from civic_app.cards.views import bp, dong_or_404, labels, page_arg, send_photo
from civic_app.extensions import db
from civic_app.web.policy import public

PUBLIC_STATUSES = tuple(s for s in STATUSES if s != MERGED)


@bp.route("/")
@public
def scoreboard():
    rows, totals = queries.scoreboard(db.session)
    return render_template("cards/scoreboard.html", rows=rows, totals=totals, **labels())


@bp.route("/<string(length=10):dong_code>")
@public
def dong_card(dong_code: str):
    dong = dong_or_404(dong_code)
    status = request.args.get("status") or None
    if status not in (None, *PUBLIC_STATUSES):
        status = None
    page, events = queries.dong_card(db.session, dong, status=status, page=page_arg())
    counts = queries.dong_status_counts(db.session, dong)
    context = {"dong": dong, "page": page, "events": events, "counts": counts, "status": status}
    return render_template("cards/dong_card.html", statuses=PUBLIC_STATUSES, **context, **labels())


@bp.route("/<string(length=10):dong_code>/items/<int:item_id>")
@public
def public_item(dong_code: str, item_id: int):
    dong = dong_or_404(dong_code)
    item = db.session.get(CardItem, item_id)
    if item is None or item.dong_id != dong.id:
        abort(404)
    if item.merged_into_id:
        return redirect(url_for("cards.public_item", dong_code=dong_code, item_id=item.merged_into_id))
    history = queries.item_history(db.session, item, public_only=True)
    reviews = queries.item_reviews(db.session, item)
    settings = get_settings(db.session)
    return render_template(
        "cards/public_item.html",
        dong=dong,
        item=item,
        history=history,
        settings=settings,
        breakdown=score_breakdown(item, reviews, settings),
        milestones=queries.item_milestones(db.session, item),
        **labels(),
    )


@bp.route("/items/<int:item_id>")
@public
def item_link(item_id: int):
    """A stable short link (e-mails, the 통통데이 request page) to an item's public page."""
    item = db.get_or_404(CardItem, item_id)
    return redirect(url_for("cards.public_item", dong_code=item.dong.code, item_id=item.id))


@bp.route("/photos/<int:photo_id>")
@public
def photo(photo_id: int):
    """Milestone photos are public; the photos of a suggestion stay with the staff."""
    row = db.get_or_404(CardPhoto, photo_id)
    item = db.session.get(CardItem, row.item_id)
    if not row.public or item is None or item.status == MERGED:
        abort(404)
    return send_photo(row)
