"""Development mailbox: staff read queued e-mail when no SMTP server is around."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from civic_app.accounts.roles import CIVIC_OFFICE_ROLES
from civic_app.audit.services import VIEW_PERSONAL_DATA, record
from civic_app.extensions import db
from civic_app.notify.models import CHANNEL_EMAIL, OutboxMessage
from civic_app.timeutil import utcnow
from civic_app.web.policy import roles_required

bp = Blueprint("notify", __name__)


@bp.route("/dev/mailbox")
@roles_required(*CIVIC_OFFICE_ROLES)
def dev_mailbox():
    if not current_app.config.get("DEV_MAILBOX"):
        abort(404)
    rows = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.channel == CHANNEL_EMAIL)
        .order_by(OutboxMessage.id.desc())
        .limit(50)
    ).all()
    body = render_template("notify/dev_mailbox.html", rows=rows)  # before the commit expires the rows
    record(
        db.session,
        actor_id=current_user.id,
        action=VIEW_PERSONAL_DATA,
        target_type="dev_mailbox",
        target_id=None,
        now=utcnow(),
    )
    db.session.commit()
    return body


def init_app(app) -> None:
    from civic_app.registry import NavItem, get_registry

    app.register_blueprint(bp)
    if app.config.get("DEV_MAILBOX"):
        get_registry(app).add_nav(
            NavItem(
                lambda: _("개발용 메일함"),
                "notify.dev_mailbox",
                CIVIC_OFFICE_ROLES,
                990,
                "staff",
            )
        )
