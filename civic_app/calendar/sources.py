"""Where calendar events come from. Each feature's models are imported lazily, inside the
functions, so a feature that is missing (or not yet merged) leaves its feed empty instead of
breaking the application start. Every function runs a fixed number of SQL statements."""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload, selectinload
from werkzeug.routing import BuildError

from civic_app.calendar.ical import CalEvent
from civic_app.meetings.models import MeetingBooking
from civic_app.privacy import guard
from civic_app.privacy.guard import mask_name
from civic_app.timeutil import as_utc

# A cancelled event stays in the feeds this long after the cancellation, so subscribed
# calendars learn about it; past events stay for a year.
CANCELLED_KEEP = dt.timedelta(days=60)
PAST_KEEP = dt.timedelta(days=366)
# A postponed visit has no date any more: calendars drop it until it is planned again (its
# SEQUENCE is raised then, so clients accept the revival).
CANCELLED_STATES = frozenset({"cancelled", "canceled", "withdrawn", "rejected", "postponed"})
TENTATIVE_STATES = frozenset({"planned", "draft", "proposed", "tentative", "requested"})
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def load_model(module: str, name: str) -> Any | None:
    """``civic_app.<module>.models.<name>`` or None when that feature is not there."""
    try:
        mod = importlib.import_module(f"civic_app.{module}.models")
    except ImportError:
        return None
    return getattr(mod, name, None)


def uid_domain() -> str:
    configured = current_app.config.get("CALENDAR_UID_DOMAIN")
    if configured:
        return configured
    return urlsplit(current_app.config.get("PUBLIC_BASE_URL", "")).hostname or "civic-app.local"


def make_uid(kind: str, ident: int) -> str:
    """Stable per event: kind and primary key only, never the date, so moves keep the UID."""
    return f"{kind}-{ident}@{uid_domain()}"


def absolute(path: str) -> str:
    return current_app.config.get("PUBLIC_BASE_URL", "").rstrip("/") + path


def page_url(candidates: Iterable[tuple[str, dict]], fallback: str) -> str:
    """The first of ``candidates`` (endpoint, values) the app can build, as an absolute URL."""
    for endpoint, values in candidates:
        try:
            return absolute(url_for(endpoint, **values))
        except BuildError:
            continue
    return absolute(fallback)


def ical_status(status: str | None) -> str:
    value = (status or "").lower()
    if value in CANCELLED_STATES or value.startswith("cancel"):
        return "CANCELLED"
    if value in TENTATIVE_STATES:
        return "TENTATIVE"
    return "CONFIRMED"


def changed_at(obj: Any) -> dt.datetime:
    for attr in ("updated_at", "created_at"):
        value = getattr(obj, attr, None)
        if value is not None:
            return as_utc(value)
    return EPOCH


def visible(obj: Any, now: dt.datetime) -> bool:
    """In the feed window: not too old, and cancellations only for CANCELLED_KEEP."""
    end = getattr(obj, "end_at", None) or getattr(obj, "start_at", None)
    if end is None or as_utc(end) < now - PAST_KEEP:
        return False
    return not (
        ical_status(getattr(obj, "status", None)) == "CANCELLED" and changed_at(obj) < now - CANCELLED_KEEP
    )


def _end(obj: Any, default: dt.timedelta) -> dt.datetime:
    end = getattr(obj, "end_at", None)
    start = as_utc(obj.start_at)
    return as_utc(end) if end is not None else start + default


def _event(
    kind: str, obj: Any, *, summary: str, url: str, description: str = "", location: str = ""
) -> CalEvent:
    status = ical_status(getattr(obj, "status", None))
    if status == "CANCELLED":
        summary = _("[취소] %(s)s", s=summary)
    # Feeds are public surfaces (a personal feed URL gets shared): mask what staff typed.
    return CalEvent(
        uid=make_uid(kind, obj.id),
        start=as_utc(obj.start_at),
        end=_end(obj, dt.timedelta(hours=1)),
        summary=guard.mask(summary),
        dtstamp=changed_at(obj),
        sequence=int(getattr(obj, "sequence", 0) or 0),
        status=status,
        description=guard.mask(description),
        location=guard.mask(location or (getattr(obj, "location", None) or "")),
        url=url,
    )


def _window(model: Any, now: dt.datetime, *unused: str):
    """The rows of a feed; ``unused``: collections the events never read (the models load them
    eagerly for other pages), left unloaded so a feed costs one statement per kind of row."""
    query = select(model).where(model.start_at >= now - PAST_KEEP).order_by(model.start_at, model.id)
    skipped = [lazyload(getattr(model, name)) for name in unused if hasattr(model, name)]
    return query.options(*skipped) if skipped else query


# --- 통통데이 sessions --------------------------------------------------------------------


def tongtong_event(obj: Any) -> CalEvent:
    moved = getattr(obj, "moved_from", None)
    lines = [_("매월 둘째·넷째 목요일, 시민이 시장을 직접 만나는 날입니다.")]
    if moved is not None and not hasattr(moved, "id"):
        lines.append(_("일정이 변경되었습니다."))
    reason = getattr(obj, "cancel_reason", None)
    if reason and ical_status(getattr(obj, "status", None)) == "CANCELLED":
        lines.append(_("취소 사유: %(r)s", r=reason))
    url = page_url(
        [
            ("meetings.session_detail", {"session_id": obj.id}),
            ("meetings.public_index", {"_anchor": f"session-{obj.id}"}),
        ],
        "/tongtong",
    )
    return _event(
        "tongtong",
        obj,
        summary=_("통통데이 (시민과 시장의 만남)"),
        url=url,
        description="\n".join([*lines, url]),
    )


def tongtong_events(session: Session, *, now: dt.datetime) -> list[CalEvent]:
    model = load_model("meetings", "TongtongSession")
    if model is None:
        return []
    rows = session.scalars(_window(model, now, "slots")).all()
    return [tongtong_event(row) for row in rows if visible(row, now)]


# --- dong visits and themed tours --------------------------------------------------------


def is_published(obj: Any) -> bool:
    for attr in ("published", "is_published"):
        value = getattr(obj, attr, None)
        if value is not None:
            return bool(value)
    if hasattr(obj, "published_at"):
        return obj.published_at is not None
    state = getattr(obj, "publication", None) or getattr(obj, "publish_state", None)
    if state is not None:
        return str(state).lower() in ("published", "public")
    return True


def visit_event(obj: Any) -> CalEvent:
    dong = getattr(obj, "dong", None)
    theme = getattr(obj, "theme", None)
    if getattr(obj, "kind", "regular") == "tour" or dong is None:
        fallback = dong.name if dong else _("현장 탐방")
        summary = _("민생현장 탐방: %(title)s", title=theme or fallback)
    elif theme:
        summary = _("찾아가는 현장소통: %(dong)s · %(title)s", dong=dong.name, title=theme)
    else:
        summary = _("찾아가는 현장소통: %(dong)s", dong=dong.name)
    url = page_url(
        [("visits.detail", {"visit_id": obj.id}), ("visits.visit", {"visit_id": obj.id})],
        f"/visits/{obj.id}",
    )
    sites = [site.name for site in getattr(obj, "sites", None) or []]
    location = ", ".join(sites) or (dong.name if dong else "")
    return _event("visit", obj, summary=summary, url=url, description=url, location=location or "")


def visit_events(session: Session, *, now: dt.datetime, unpublished: bool = False) -> list[CalEvent]:
    model = load_model("visits", "Visit")
    if model is None:
        return []
    query = _window(model, now, "departments")
    if not unpublished and hasattr(model, "published"):
        query = query.where(model.published.is_(True))
    rows = session.scalars(query).unique().all()
    return [visit_event(r) for r in rows if visible(r, now) and (unpublished or is_published(r))]


# --- committee meetings -------------------------------------------------------------------


def committee_event(obj: Any) -> CalEvent:
    url = page_url(
        [("committee.meeting_detail", {"meeting_id": obj.id}), ("committee.tasks", {})],
        "/committee/",
    )
    title = getattr(obj, "title", None) or _("시정참여정책위원회 회의")
    return _event("committee", obj, summary=title, url=url, description=url)


def committee_events(session: Session, *, now: dt.datetime) -> list[CalEvent]:
    model = load_model("committee", "CommitteeMeeting")
    if model is None:
        return []
    rows = session.scalars(_window(model, now, "attendance", "committee")).unique().all()
    return [committee_event(r) for r in rows if visible(r, now)]


# --- personal: a host's (or staff's) citizen meetings ----------------------------------------


def booking_event(obj: MeetingBooking, *, for_host: bool = False) -> CalEvent:
    """A booked citizen meeting for a personal calendar. A feed URL gets pasted into third-party
    calendar services, so it carries only what a public surface may: the reference code, the
    masked name, the category, the dong, the place and a link to the staff page. Never the
    topic or any other text the citizen wrote."""
    request = obj.request
    parts = [request.code, mask_name(request.requester_name), request.category]
    if request.dong is not None:
        parts.append(request.dong.name)
    summary = _("시민 면담: %(s)s", s=" · ".join(p for p in parts if p))
    lines = [
        _("접수번호: %(code)s", code=request.code),
        _("신청인: %(name)s", name=mask_name(request.requester_name)),
        _("분야: %(c)s", c=request.category),
    ]
    if request.dong is not None:
        lines.append(_("동: %(d)s", d=request.dong.name))
    if obj.host is not None:
        lines.append(_("면담자: %(h)s", h=obj.host.title))
    if for_host:
        url = page_url([("meetings.host_schedule", {})], "/host/tongtong")
    else:
        url = page_url(
            [("meetings.review_detail", {"request_id": request.id})],
            "/staff/tongtong/requests",
        )
    lines.append(url)
    event = _event("meeting", obj, summary=summary, url=url, description="\n".join(lines))
    if not obj.active:  # released: the host's calendar must drop it
        event = replace(event, status="CANCELLED", summary=_("[취소] %(s)s", s=summary))
    return event


def booking_events(session: Session, *, now: dt.datetime, host_user_id: int | None) -> list[CalEvent]:
    model = load_model("meetings", "MeetingBooking")
    if model is None:
        return []
    from civic_app.meetings.models import MeetingRequest

    # The request's dong is joined; its bookings, events and follow-ups are never read here.
    query = _window(model, now, "slot", "tongtong_session").options(
        selectinload(model.request).options(
            lazyload(MeetingRequest.bookings),
            lazyload(MeetingRequest.events),
            lazyload(MeetingRequest.followups),
        )
    )
    if host_user_id is not None:
        from civic_app.dongs.models import Host

        query = query.where(model.host_id.in_(select(Host.id).where(Host.user_id == host_user_id)))
    rows = session.scalars(query).unique().all()
    events = [booking_event(r, for_host=host_user_id is not None) for r in rows]
    return [e for e, r in zip(events, rows, strict=True) if _keep(e, r, now)]


def _keep(event: CalEvent, obj: Any, now: dt.datetime) -> bool:
    if as_utc(event.end) < now - PAST_KEEP:
        return False
    return not (event.status == "CANCELLED" and changed_at(obj) < now - CANCELLED_KEEP)


# --- one event -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    module: str
    model: str
    build: Callable[[Any], CalEvent]
    public: Callable[[Any], bool] = lambda obj: True


KINDS: dict[str, Kind] = {
    "tongtong": Kind("meetings", "TongtongSession", tongtong_event),
    "visit": Kind("visits", "Visit", visit_event, is_published),
    "committee": Kind("committee", "CommitteeMeeting", committee_event),
}


def public_event(session: Session, kind: str, ident: int) -> CalEvent | None:
    """One public event for a per-event download, or None (unknown, unpublished)."""
    spec = KINDS.get(kind)
    model = load_model(spec.module, spec.model) if spec else None
    if spec is None or model is None:
        return None
    obj = session.get(model, ident)
    if obj is None or not spec.public(obj):
        return None
    return spec.build(obj)
