"""Calendar feeds (public and personal), per-event downloads and the feed-address page."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user

from civic_app.accounts.roles import (
    ADMIN,
    CIVIC_OFFICE_ROLES,
    COMMITTEE_MEMBER,
    COMMITTEE_SECRETARIAT,
    HOST,
    POLICY_OFFICE,
    STAFF_ROLES,
)
from civic_app.calendar import services, sources
from civic_app.extensions import db
from civic_app.ical import CalEvent, build_calendar
from civic_app.timeutil import utcnow
from civic_app.web.actions import run
from civic_app.web.policy import public, roles_required

bp = Blueprint("calendar", __name__)

PERSONAL_ROLES = tuple(sorted(STAFF_ROLES | {COMMITTEE_MEMBER}))
_SESSION_KEY = "calendar_new_feed_token"


def _feeds() -> dict[str, tuple[Callable[[], str], Callable]]:
    return {
        "tongtong": (lambda: _("통통데이 일정"), sources.tongtong_events),
        "visits": (lambda: _("찾아가는 현장소통 일정"), sources.visit_events),
        "committee": (lambda: _("시정참여정책위원회 회의 일정"), sources.committee_events),
    }


FEED_FOR_KIND = {"tongtong": "tongtong", "visit": "visits", "committee": "committee"}


def calendar_name(feed: str) -> str:
    """X-WR-CALNAME: always Korean, whatever the visitor's language (it names a shared calendar)."""
    return {
        "tongtong": "통통데이 일정",
        "visits": "찾아가는 현장소통 일정",
        "committee": "시정참여정책위원회 회의 일정",
    }[feed]


def ics_response(
    events: list[CalEvent], *, name: str, filename: str, private: bool = False, method: str | None = None
) -> Response:
    """The .ics with a content ETag and Last-Modified; 304 when the client already has it."""
    body = build_calendar(events, name=name, method=method)
    response = Response(body, mimetype="text/calendar")
    response.charset = "utf-8"
    response.set_etag(hashlib.sha256(body).hexdigest()[:40])
    response.last_modified = max((e.dtstamp for e in events), default=sources.EPOCH)
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    if private:
        response.cache_control.private = True
        response.cache_control.no_cache = True
    else:
        response.cache_control.public = True
        response.cache_control.max_age = 300
    return response.make_conditional(request)


def webcal_url(path: str) -> str:
    base = current_app.config.get("PUBLIC_BASE_URL", "").rstrip("/")
    scheme, _sep, rest = base.partition("://")
    return f"webcal://{rest or scheme}{path}"


@bp.route("/calendar/<any(tongtong, visits, committee):feed>.ics")
@public
def feed(feed: str):
    _label, provider = _feeds()[feed]
    with force_locale("ko"):  # one cacheable Korean body; calendar apps send no language cookie
        events = provider(db.session, now=utcnow())
    return ics_response(events, name=calendar_name(feed), filename=f"{feed}.ics")


@bp.route("/calendar/events/<any(tongtong, visit, committee):kind>/<int:event_id>.ics")
@public
def event_ics(kind: str, event_id: int):
    with force_locale("ko"):
        event = sources.public_event(db.session, kind, event_id)
    if event is None:
        abort(404)
    return ics_response(
        [event], name=calendar_name(FEED_FOR_KIND[kind]), filename=f"{kind}-{event_id}.ics", method="PUBLISH"
    )


def personal_events(user, now: dt.datetime) -> list[CalEvent]:
    """What this person needs in their own calendar, by role; never citizens' contact data."""
    roles = user.role_set
    events: list[CalEvent] = []
    if roles & CIVIC_OFFICE_ROLES:
        events += sources.tongtong_events(db.session, now=now)
        events += sources.visit_events(db.session, now=now, unpublished=True)
        events += sources.booking_events(db.session, now=now, host_user_id=None)
    elif HOST in roles:
        events += sources.booking_events(db.session, now=now, host_user_id=user.id)
        events += sources.tongtong_events(db.session, now=now)
    if roles & {COMMITTEE_SECRETARIAT, COMMITTEE_MEMBER, POLICY_OFFICE, ADMIN}:
        events += sources.committee_events(db.session, now=now)
    if not events and roles & STAFF_ROLES:
        events += sources.visit_events(db.session, now=now)
    unique = {e.uid: e for e in events}
    return sorted(unique.values(), key=lambda e: (e.start, e.uid))


@bp.route("/calendar/personal/<token>.ics")
@public  # the secret token in the URL is the credential
def personal_feed(token: str):
    now = utcnow()
    feed_token = services.find(db.session, token)
    served = feed_token is not None and feed_token.revoked_at is None and feed_token.user.is_active
    response = None
    if served:  # built before the commit below, which would expire what it reads
        with force_locale("ko"):
            events = personal_events(feed_token.user, now)
        response = ics_response(events, name="내 시민소통실 일정", filename="personal.ics", private=True)
    if feed_token is not None:  # every fetch by a known address is logged, served or not
        run(
            lambda: services.record_fetch(
                db.session,
                feed_token,
                now=now,
                ip=request.remote_addr,
                user_agent=request.headers.get("User-Agent"),
                served=served,
            )
        )
    if response is None:
        abort(404)
    return response


@bp.route("/calendar")
@public
def index():
    feeds = [(key, label()) for key, (label, _p) in _feeds().items()]
    return render_template("calendar/index.html", feeds=feeds)


@bp.route("/account/calendar")
@roles_required(*PERSONAL_ROLES)
def account():
    token = services.active_token(db.session, current_user.id)
    raw = session.pop(_SESSION_KEY, None)
    feed_path = url_for("calendar.personal_feed", token=raw) if raw and token else None
    return render_template("calendar/account.html", token=token, feed_path=feed_path)


@bp.route("/account/calendar/renew", methods=["POST"])
@roles_required(*PERSONAL_ROLES)
def renew():
    raw = run(lambda: services.renew(db.session, user_id=current_user.id, now=utcnow())).value
    session[_SESSION_KEY] = raw
    flash(_("새 캘린더 주소를 만들었습니다. 이전 주소는 더 이상 쓸 수 없습니다."), "success")
    return redirect(url_for("calendar.account"))


@bp.route("/account/calendar/revoke", methods=["POST"])
@roles_required(*PERSONAL_ROLES)
def revoke():
    run(lambda: services.revoke(db.session, user_id=current_user.id, now=utcnow()))
    session.pop(_SESSION_KEY, None)
    flash(_("캘린더 주소를 폐기했습니다. 구독 중인 캘린더는 더 이상 갱신되지 않습니다."), "success")
    return redirect(url_for("calendar.account"))
