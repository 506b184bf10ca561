"""Staff approval queue, per-kind settings, and the citizen's Telegram linking page."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from civic_app.accounts.roles import CITIZEN, CIVIC_OFFICE_ROLES
from civic_app.extensions import db
from civic_app.notify import models as outbox
from civic_app.telegram import policy, privacy, queries, services
from civic_app.telegram.forms import ActionForm, EditMessageForm
from civic_app.telegram.render import KINDS, render_message
from civic_app.timeutil import utcnow
from civic_app.web.actions import run
from civic_app.web.htmx import render_page_or_fragment
from civic_app.web.policy import roles_required
from civic_app.web.redirects import safe_next

bp = Blueprint("telegram", __name__)
STAFF = tuple(sorted(CIVIC_OFFICE_ROLES))


def status_labels() -> dict[str, str]:
    return {
        outbox.STATUS_PENDING_APPROVAL: _("승인 대기"),
        outbox.STATUS_QUEUED: _("발송 대기"),
        outbox.STATUS_SENDING: _("보내는 중"),
        outbox.STATUS_SENT: _("보냄"),
        outbox.STATUS_FAILED: _("실패"),
        outbox.STATUS_WITHDRAWN: _("철회"),
    }


def tab_labels() -> dict[str, str]:
    """A queue tab is named after its first status (the "queued" tab also lists those being sent)."""
    labels = status_labels()
    return {tab: labels[statuses[0]] for tab, statuses in queries.TABS.items()}


@bp.route("/staff/telegram")
@roles_required(*STAFF)
def queue():
    tab = request.args.get("tab", "pending")
    if tab not in queries.TABS:
        abort(404)
    return render_page_or_fragment(
        "telegram/queue.html",
        "telegram/_queue_table.html",
        tab=tab,
        tabs=tab_labels(),
        counts=queries.tab_counts(db.session),
        rows=queries.messages(db.session, tab),
        kinds=services.kind_labels(),
        statuses=status_labels(),
        action_form=ActionForm(),
    )


@bp.route("/staff/telegram/<int:message_id>", methods=["GET", "POST"])
@roles_required(*STAFF)
def message(message_id: int):
    row = services.get_message(db.session, message_id)
    editable = (
        row.status in (outbox.STATUS_PENDING_APPROVAL, outbox.STATUS_FAILED)
        and row.kind != services.DELETE_KIND
    )
    form = EditMessageForm(
        data={
            "title": row.payload.get("title", ""),
            "summary": row.payload.get("summary", ""),
            "lines": "\n".join(str(x) for x in row.payload.get("lines") or []),
        }
    )
    if request.method == "POST":
        if not editable:
            abort(409)
        form = EditMessageForm()
        if form.validate_on_submit():
            title, summary = form.title.data, form.summary.data or ""
            lines = (form.lines.data or "").splitlines()
            now = utcnow()
            outcome = run(
                lambda: services.edit_message(
                    db.session, row, title=title, summary=summary, lines=lines, actor=current_user, now=now
                )
            )
            if outcome.ok:
                flash(_("고쳤습니다."), "success")
                return redirect(url_for("telegram.message", message_id=row.id))
    preview = render_message(row.kind, row.payload, private=row.recipient is not None)
    findings = privacy.check_message(db.session, preview.text)
    status = 400 if request.method == "POST" else 200
    return (
        render_template(
            "telegram/message.html",
            row=row,
            form=form,
            editable=editable,
            preview=preview,
            findings=findings,
            kinds=services.kind_labels(),
            statuses=status_labels(),
            action_form=ActionForm(),
        ),
        status,
    )


def _check_button() -> None:
    """The POST of a button (an ``ActionForm``): a bad request without a valid CSRF token."""
    if not ActionForm().validate_on_submit():
        abort(400)


def _action(message_id: int, fn, done: str):
    _check_button()
    row = services.get_message(db.session, message_id)
    if run(lambda: fn(db.session, row, actor=current_user, now=utcnow())).ok:
        flash(done, "success")
    return redirect(safe_next(request.form.get("next"), url_for("telegram.message", message_id=message_id)))


@bp.route("/staff/telegram/<int:message_id>/approve", methods=["POST"])
@roles_required(*STAFF)
def approve(message_id: int):
    return _action(message_id, services.approve, _("승인했습니다. 봇이 곧 게시합니다."))


@bp.route("/staff/telegram/<int:message_id>/retry", methods=["POST"])
@roles_required(*STAFF)
def retry(message_id: int):
    return _action(message_id, services.retry, _("다시 보내도록 대기열에 넣었습니다."))


@bp.route("/staff/telegram/<int:message_id>/withdraw", methods=["POST"])
@roles_required(*STAFF)
def withdraw(message_id: int):
    return _action(message_id, services.withdraw, _("철회했습니다. 게시된 글은 봇이 삭제합니다."))


@bp.route("/staff/telegram/settings", methods=["GET", "POST"])
@roles_required(*STAFF)
def settings():
    form = ActionForm()
    if form.validate_on_submit():
        chosen = set(request.form.getlist("approval"))
        now = utcnow()
        outcome = run(
            lambda: [
                services.set_kind_policy(
                    db.session, kind, requires_approval=kind in chosen, actor=current_user, now=now
                )
                for kind in KINDS
            ]
        )
        if outcome.ok:
            flash(_("저장했습니다."), "success")
        return redirect(url_for("telegram.settings"))
    current = {kind: policy.needs_approval(db.session, kind) for kind in KINDS}
    return render_template(
        "telegram/settings.html", form=form, kinds=services.kind_labels(), order=KINDS, current=current
    )


# --- citizens -------------------------------------------------------------------------------


@bp.route("/account/telegram")
@roles_required(CITIZEN)
def account():
    chat = services.linked_chat(db.session, current_user)
    return render_template("telegram/account.html", chat=chat, code=None, form=ActionForm())


@bp.route("/account/telegram/code", methods=["POST"])
@roles_required(CITIZEN)
def new_code():
    _check_button()
    code = run(lambda: services.create_link_code(db.session, current_user, now=utcnow())).value
    chat = services.linked_chat(db.session, current_user)
    response = render_template("telegram/account.html", chat=chat, code=code, form=ActionForm())
    # The code is shown once; keep it out of caches.
    return response, 200, {"Cache-Control": "no-store"}


@bp.route("/account/telegram/unlink", methods=["POST"])
@roles_required(CITIZEN)
def unlink():
    _check_button()
    if run(lambda: services.unlink(db.session, current_user, now=utcnow())).value:
        flash(_("텔레그램 연결을 해제했습니다."), "success")
    return redirect(url_for("telegram.account"))


def init_app(app) -> None:
    from civic_app.registry import NavItem, get_registry

    app.register_blueprint(bp)
    registry = get_registry(app)
    registry.add_nav(NavItem(lambda: _("텔레그램 게시"), "telegram.queue", frozenset(STAFF), 700, "staff"))
    registry.add_nav(
        NavItem(lambda: _("텔레그램 알림"), "telegram.account", frozenset({CITIZEN}), 800, "main")
    )
