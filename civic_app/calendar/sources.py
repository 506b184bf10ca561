"""Where calendar events come from: each owning feature's query functions (``meetings.queries``,
``visits.queries``, ``committee.queries``), never their models. Every function runs a fixed
number of SQL statements."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from civic_app.committee import queries as committee_queries
from civic_app.ical import CalEvent
from civic_app.meetings import queries as meeting_queries
from civic_app.privacy import guard
from civic_app.privacy.guard import mask_name
from civic_app.timeutil import as_utc
from civic_app.visits import queries as visit_queries

if TYPE_CHECKING:  # the rows the owners' query functions return
    from civic_app.committee.models import CommitteeMeeting
    from civic_app.meetings.models import MeetingBooking, TongtongSession
    from civic_app.visits.models import Visit

    Scheduled = TongtongSession | Visit | CommitteeMeeting | MeetingBooking

# A cancelled event stays in the feeds this long after the cancellation, so subscribed
# calendars learn about it; past events stay for a year.
CANCELLED_KEEP = dt.timedelta(days=60)
PAST_KEEP = dt.timedelta(days=366)
# A postponed visit has no date any more: calendars drop it until it is planned again (its
# SEQUENCE is raised then, so clients accept the revival).
CANCELLED_STATES = frozenset({"cancelled", "withdrawn", "rejected", "postponed"})
TENTATIVE_STATES = frozenset({"planned"})
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


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


def page_url(endpoint: str, **values: Any) -> str:
    return absolute(url_for(endpoint, **values))


def ical_status(status: str | None) -> str:
    value = (status or "").lower()
    if value in CANCELLED_STATES:
        return "CANCELLED"
    if value in TENTATIVE_STATES:
        return "TENTATIVE"
    return "CONFIRMED"


def changed_at(obj: Scheduled) -> dt.datetime:
    value = obj.updated_at or obj.created_at
    return as_utc(value) if value is not None else EPOCH


def _keep(status: str, end: dt.datetime, obj: Scheduled, now: dt.datetime) -> bool:
    """In the feed window: not too old, and cancellations only for CANCELLED_KEEP."""
    if as_utc(end) < now - PAST_KEEP:
        return False
    return not (status == "CANCELLED" and changed_at(obj) < now - CANCELLED_KEEP)


def _event(
    kind: str,
    obj: Scheduled,
    *,
    status: str,
    summary: str,
    url: str,
    description: str = "",
    location: str = "",
) -> CalEvent:
    if status == "CANCELLED":
        summary = _("[취소] %(s)s", s=summary)
    # Feeds are public surfaces (a personal feed URL gets shared): mask what staff typed.
    return CalEvent(
        uid=make_uid(kind, obj.id),
        start=as_utc(obj.start_at),
        end=as_utc(obj.end_at),
        summary=guard.mask(summary),
        dtstamp=changed_at(obj),
        sequence=obj.sequence or 0,
        status=status,
        description=guard.mask(description),
        location=guard.mask(location),
        url=url,
    )


def _since(now: dt.datetime) -> dt.datetime:
    return now - PAST_KEEP


# --- 통통데이 sessions --------------------------------------------------------------------


def tongtong_event(obj: TongtongSession) -> CalEvent:
    status = ical_status(obj.status)
    lines = [_("매월 둘째·넷째 목요일, 시민이 시장을 직접 만나는 날입니다.")]
    if obj.moved_from is not None:
        lines.append(_("일정이 변경되었습니다."))
    if obj.cancel_reason and status == "CANCELLED":
        lines.append(_("취소 사유: %(r)s", r=obj.cancel_reason))
    url = page_url("meetings.public_index", _anchor=f"session-{obj.id}")
    return _event(
        "tongtong",
        obj,
        status=status,
        summary=_("통통데이 (시민과 시장의 만남)"),
        url=url,
        description="\n".join([*lines, url]),
        location=obj.location or "",
    )


def tongtong_events(session: Session, *, now: dt.datetime) -> list[CalEvent]:
    rows = meeting_queries.calendar_sessions(session, since=_since(now))
    return [tongtong_event(r) for r in rows if _keep(ical_status(r.status), r.end_at, r, now)]


# --- dong visits and themed tours --------------------------------------------------------


def visit_event(obj: Visit) -> CalEvent:
    dong = obj.dong
    if visit_queries.is_tour(obj) or dong is None:
        summary = _("민생현장 탐방: %(title)s", title=obj.theme or (dong.name if dong else _("현장 탐방")))
    elif obj.theme:
        summary = _("찾아가는 현장소통: %(dong)s · %(title)s", dong=dong.name, title=obj.theme)
    else:
        summary = _("찾아가는 현장소통: %(dong)s", dong=dong.name)
    url = page_url("visits.detail", visit_id=obj.id)
    location = ", ".join(site.name for site in obj.sites) or (dong.name if dong else "")
    return _event(
        "visit",
        obj,
        status=ical_status(obj.status),
        summary=summary,
        url=url,
        description=url,
        location=location,
    )


def visit_events(session: Session, *, now: dt.datetime, unpublished: bool = False) -> list[CalEvent]:
    rows = visit_queries.calendar_visits(session, since=_since(now), include_unpublished=unpublished)
    return [visit_event(r) for r in rows if _keep(ical_status(r.status), r.end_at, r, now)]


# --- committee meetings -------------------------------------------------------------------


def committee_event(obj: CommitteeMeeting) -> CalEvent:
    url = page_url("committee.meeting_detail", meeting_id=obj.id)
    return _event(
        "committee",
        obj,
        status=ical_status(obj.status),
        summary=obj.title or _("시정참여정책위원회 회의"),
        url=url,
        description=url,
        location=obj.location or "",
    )


def committee_events(session: Session, *, now: dt.datetime) -> list[CalEvent]:
    rows = committee_queries.calendar_meetings(session, since=_since(now))
    return [committee_event(r) for r in rows if _keep(ical_status(r.status), r.end_at, r, now)]


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
        url = page_url("meetings.host_schedule")
    else:
        url = page_url("meetings.review_detail", request_id=request.id)
    lines.append(url)
    event = _event(
        "meeting",
        obj,
        status="CONFIRMED",
        summary=summary,
        url=url,
        description="\n".join(lines),
        location=obj.location or "",
    )
    if not obj.active:  # released: the host's calendar must drop it
        event = replace(event, status="CANCELLED", summary=_("[취소] %(s)s", s=summary))
    return event


def booking_events(session: Session, *, now: dt.datetime, host_user_id: int | None) -> list[CalEvent]:
    rows = meeting_queries.calendar_bookings(session, since=_since(now), host_user_id=host_user_id)
    events = [booking_event(r, for_host=host_user_id is not None) for r in rows]
    return [e for e, r in zip(events, rows, strict=True) if _keep(e.status, e.end, r, now)]


# --- one event -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    find: Callable[[Session, int], Any]  # the owner's query: the public row or None
    build: Callable[[Any], CalEvent]


KINDS: dict[str, Kind] = {
    "tongtong": Kind(meeting_queries.session_by_id, tongtong_event),
    "visit": Kind(visit_queries.published_visit, visit_event),
    "committee": Kind(committee_queries.meeting_by_id, committee_event),
}


def public_event(session: Session, kind: str, ident: int) -> CalEvent | None:
    """One public event for a per-event download, or None (unknown, unpublished)."""
    spec = KINDS.get(kind)
    obj = spec.find(session, ident) if spec else None
    return spec.build(obj) if spec and obj is not None else None
