"""Follow pages: the 구독 form on public pages, confirmation and unsubscribe links, 내 구독."""

from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from civic_app.errors import DomainError
from civic_app.extensions import csrf, db, limiter
from civic_app.follow import services, targets
from civic_app.follow.forms import ActionForm, FollowForm, FrequencyForm, frequency_choices
from civic_app.follow.models import ACTIVE, EMAIL, REQUEST, TELEGRAM, WEEKLY, Follow
from civic_app.timeutil import utcnow
from civic_app.web.actions import run
from civic_app.web.policy import public, signed_in
from civic_app.web.redirects import safe_next

bp = Blueprint("follow", __name__)
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def frequency_label(frequency: str) -> str:
    return _("주간 요약") if frequency == WEEKLY else _("바로 받기")


def channel_label(channel: str) -> str:
    return _("텔레그램") if channel == TELEGRAM else _("이메일")


def follow_box(kind: str, target_id: int, handle: str = "") -> dict | None:
    """What the 구독 include shows. Anonymous visitors cost no query (the page may be cached);
    a signed-in user's own follow of the target is looked up."""
    if kind == REQUEST and not current_user.is_authenticated:
        return None
    box = {
        "kind": kind,
        "id": target_id,
        "handle": handle,
        "signed_in": current_user.is_authenticated,
        "following": None,
        "telegram": False,
        "choices": frequency_choices(),
        "next": request.path,
    }
    if current_user.is_authenticated:
        from civic_app.telegram.services import linked_chat

        box["following"] = services.find_follow(db.session, current_user, kind, target_id)
        box["telegram"] = linked_chat(db.session, current_user) is not None
    return box


def _locale() -> str:
    return str(get_locale() or "ko")[:5]


@bp.route("/follow", methods=["POST"])
@public
@limiter.limit("30 per hour", methods=["POST"])
def follow():
    form = FollowForm()
    back = safe_next(form.next.data, url_for("public.home"))
    if not form.validate_on_submit():
        flash(_("구독 신청 내용을 확인해 주세요."), "error")
        return redirect(back)
    now = utcnow()
    wish = {"kind": form.target_kind.data, "target_id": form.target_id.data, "frequency": form.frequency.data}
    if current_user.is_authenticated:
        channel = TELEGRAM if form.channel.data == TELEGRAM else EMAIL
        outcome = run(
            lambda: services.follow_signed_in(
                db.session, current_user, **wish, channel=channel, locale=_locale(), now=now
            )
        )
        if outcome.ok and outcome.value.status == ACTIVE:
            flash(_("구독했습니다. 내 구독에서 받는 방법을 바꾸거나 해지할 수 있습니다."), "success")
        elif outcome.ok:
            flash(_("확인 메일을 보냈습니다. 메일의 링크를 열면 구독이 시작됩니다."), "success")
        return redirect(back)
    if not form.consent.data:
        flash(_("개인정보 수집·이용에 동의해야 이메일로 구독할 수 있습니다."), "error")
        return redirect(back)
    email = form.email.data or ""
    outcome = run(
        lambda: services.follow_by_email(db.session, **wish, email=email, locale=_locale(), now=now)
    )
    if outcome.ok:
        # The same answer whatever the address's state: nobody learns who follows what.
        flash(_("확인 메일을 보냈습니다. 메일의 링크를 열면 구독이 시작됩니다."), "success")
    return redirect(back)


def _invalid(message: str):
    return render_template("follow/message.html", title=_("구독"), message=message), 400, NO_STORE


def _read_link(read, token: str):
    """What a signed link names (``read``: the services' reader of its token); an invalid or
    expired link ends the request with the message page."""
    try:
        return read(db.session, token)
    except DomainError as error:
        abort(make_response(_invalid(error.message)))


def _run_button(call) -> bool:
    """The confirmation page's button posted (400 without a valid CSRF token): ``call`` ran;
    whether it succeeded."""
    if not ActionForm().validate_on_submit():
        abort(400)
    return run(call).ok


@bp.route("/follow/confirm/<token>", methods=["GET", "POST"])
@public
def confirm(token: str):
    row = _read_link(services.read_confirm_token, token)
    target = targets.describe(db.session, row.target_kind, row.target_id)
    if target is None:
        return _invalid(_("구독할 대상이 더 이상 없습니다."))
    if request.method == "POST" and _run_button(lambda: services.confirm(db.session, row, now=utcnow())):
        message = _(
            "구독이 시작되었습니다. %(kind)s '%(label)s'이(가) 바뀌면 알려 드립니다.",
            kind=targets.kind_label(target.kind),
            label=target.label,
        )
    elif row.status == ACTIVE:
        message = _("이미 구독하고 있습니다.")
    else:
        return (
            render_template(
                "macros/confirm_page.html",
                title=_("구독 확인"),
                message=_("아래 대상의 소식을 이메일로 받으시겠습니까?"),
                facts=[
                    (targets.kind_label(target.kind), target.label),
                    (_("받는 방법"), frequency_label(row.frequency)),
                ],
                action=url_for("follow.confirm", token=token),
                submit_label=_("구독 확인"),
                cancel_url=target.path,
                tone="primary",
            ),
            200,
            NO_STORE,
        )
    return (
        render_template("follow/message.html", title=_("구독 확인"), message=message, target=target),
        200,
        NO_STORE,
    )


def _unsubscribe_facts(rows) -> list[tuple[str, str]]:
    found = targets.describe_many(db.session, [(r.target_kind, r.target_id) for r in rows])
    facts = []
    for row in rows:
        target = found.get((row.target_kind, row.target_id))
        if target is not None:
            facts.append((targets.kind_label(target.kind), target.label))
    return facts


@bp.route("/follow/unsubscribe/<token>", methods=["GET", "POST"])
@public
def unsubscribe(token: str):
    """GET shows what the link unsubscribes; POST (with the CSRF token) does it."""
    rows = _read_link(services.read_unsubscribe_token, token)
    if not rows:
        return (
            render_template(
                "follow/message.html", title=_("구독 해지"), message=_("이미 해지된 구독입니다.")
            ),
            200,
            NO_STORE,
        )
    if request.method == "POST" and _run_button(lambda: services.unsubscribe(db.session, rows, now=utcnow())):
        return (
            render_template(
                "follow/message.html",
                title=_("구독 해지"),
                message=_("구독을 해지했습니다. 더 이상 소식을 보내지 않습니다."),
            ),
            200,
            NO_STORE,
        )
    return (
        render_template(
            "macros/confirm_page.html",
            title=_("구독 해지"),
            message=_("아래 구독을 해지하시겠습니까? 해지하면 더 이상 소식을 보내지 않습니다."),
            facts=_unsubscribe_facts(rows),
            action=url_for("follow.unsubscribe", token=token),
            submit_label=_("구독 해지"),
            cancel_url=url_for("public.home"),
            tone="danger",
        ),
        200,
        NO_STORE,
    )


@bp.route("/follow/unsubscribe/<token>/one-click", methods=["GET", "POST"])
@public
def one_click(token: str):
    """RFC 8058: a mail client POSTs ``List-Unsubscribe=One-Click`` here, without cookies or a
    CSRF token (the signed token in the address is the proof). A GET (a link opened by hand, a
    link scanner) only shows the confirmation page."""
    if request.method == "GET" or request.form.get("List-Unsubscribe") != "One-Click":
        return redirect(url_for("follow.unsubscribe", token=token))
    try:
        rows = services.read_unsubscribe_token(db.session, token)
    except DomainError as error:
        return error.message, 400, {"Content-Type": "text/plain; charset=utf-8"}
    outcome = run(lambda: services.unsubscribe(db.session, rows, now=utcnow()))
    if not outcome.ok:
        return outcome.error.message, 409, {"Content-Type": "text/plain; charset=utf-8"}
    return _("구독을 해지했습니다."), 200, {"Content-Type": "text/plain; charset=utf-8", **NO_STORE}


csrf.exempt(one_click)


@bp.route("/account/follows")
@signed_in
def mine():
    rows = services.user_follows(db.session, current_user)
    found = targets.describe_many(db.session, [(r.target_kind, r.target_id) for r in rows])
    return render_template(
        "follow/mine.html",
        rows=[(row, found.get((row.target_kind, row.target_id))) for row in rows],
        kind_label=targets.kind_label,
        frequency_label=frequency_label,
        channel_label=channel_label,
        choices=frequency_choices(),
        form=ActionForm(),
    )


@bp.route("/account/follows/<int:follow_id>/<any(frequency, unfollow):action>", methods=["POST"])
@signed_in
def change(follow_id: int, action: str):
    row = db.session.get(Follow, follow_id)
    if row is None:
        abort(404)
    now = utcnow()
    if action == "unfollow":
        if not ActionForm().validate_on_submit():
            abort(400)
        if run(lambda: services.unsubscribe_own(db.session, row, actor=current_user, now=now)).ok:
            flash(_("구독을 해지했습니다."), "success")
        return redirect(url_for("follow.mine"))
    form = FrequencyForm()
    if not form.validate_on_submit():
        flash(_("받는 방법을 골라 주세요."), "error")
        return redirect(url_for("follow.mine"))
    frequency = form.frequency.data
    if run(lambda: services.set_frequency(db.session, row, frequency, actor=current_user, now=now)).ok:
        flash(_("저장했습니다."), "success")
    return redirect(url_for("follow.mine"))


def init_app(app) -> None:
    from civic_app.registry import NavItem, get_registry

    app.register_blueprint(bp)
    app.add_template_global(follow_box, "follow_box")
    get_registry(app).add_nav(NavItem(lambda: _("내 구독"), "follow.mine", frozenset(), 810, "main"))
