"""From a change event to the notice its followers receive.

Each builder reads the changed row from the owning feature's models and says which targets the
change concerns (an item's change concerns the item, its dong and the request it came from),
the public page, and the text, rendered later in each follower's language. Texts hold public
data only; the privacy guard masks them again before anything is queued (``services``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from civic_app.events import ChangeEvent
from civic_app.follow.models import CARD_ITEM, COMMITTEE_TASK, DONG, REQUEST

TargetKey = tuple[str, int]


@dataclass
class Notice:
    ref: str  # unique per change: the follower's dedupe key is built from it
    targets: list[TargetKey]
    path: str
    # (title, summary) in the current locale.
    text: Callable[[], tuple[str, str]]
    # Extra lines for the targets a follower follows (a report's line per task).
    lines: Callable[[set[TargetKey]], list[str]] = lambda _matched: []
    # Addresses the owning feature already told about this very change (e-mail).
    skip_addresses: frozenset[str] = field(default_factory=frozenset)


def _card_targets(item) -> list[TargetKey]:
    targets: list[TargetKey] = [(CARD_ITEM, item.id), (DONG, item.dong_id)]
    if item.source_kind == "meeting" and item.source_ref:
        targets.append((REQUEST, int(item.source_ref)))
    return targets


def card_status(session: Session, event: ChangeEvent) -> Notice | None:
    from civic_app.cards.models import MERGED, CardItem

    item = session.get(CardItem, event.subject_id)
    if item is None or item.status in (MERGED, event.detail):
        return None

    def text() -> tuple[str, str]:
        title = _(
            "%(dong)s · %(title)s: '%(status)s' 단계가 되었습니다",
            dong=item.dong.name,
            title=item.title,
            status=item.status_label,
        )
        summary = _("사유: %(r)s", r=item.decision_reason) if item.decision_reason else ""
        return title, summary

    return Notice(
        ref=f"card_status:{item.id}:{item.status}:{item.version}",
        targets=_card_targets(item),
        path=f"/cards/items/{item.id}",
        text=text,
    )


def card_milestone(session: Session, event: ChangeEvent) -> Notice | None:
    from civic_app.cards.models import CardItem, CardMilestone

    milestone = session.get(CardMilestone, event.subject_id)
    item = session.get(CardItem, milestone.item_id) if milestone is not None else None
    if milestone is None or item is None:
        return None

    def text() -> tuple[str, str]:
        title = _(
            "%(dong)s · %(title)s: 집행 단계 '%(step)s' (%(day)s)",
            dong=item.dong.name,
            title=item.title,
            step=milestone.label,
            day=milestone.day.isoformat(),
        )
        return title, milestone.note or ""

    return Notice(
        ref=f"card_milestone:{milestone.id}",
        targets=_card_targets(item),
        path=f"/cards/items/{item.id}#milestones",
        text=text,
    )


def visit_result(session: Session, event: ChangeEvent) -> Notice | None:
    from civic_app.visits.models import Visit

    visit = session.get(Visit, event.subject_id)
    if visit is None or not visit.published or not visit.result_summary:
        return None
    targets: list[TargetKey] = []
    if visit.dong_id:
        targets.append((DONG, visit.dong_id))
    targets += [(DONG, site.dong_id) for site in visit.sites if site.dong_id]
    place = visit.dong.name if visit.dong else ", ".join(s.name for s in visit.sites)
    corrected = (visit.results_revision or 0) > 0

    def text() -> tuple[str, str]:
        if corrected:
            title = _("%(place)s 현장소통 결과가 정정되었습니다", place=place)
        else:
            title = _("%(place)s 현장소통 결과가 공개되었습니다", place=place)
        return title, visit.result_summary or ""

    return Notice(
        ref=f"visit_result:{visit.id}:r{visit.results_revision or 0}",
        targets=list(dict.fromkeys(targets)),
        path=f"/visits/{visit.id}",
        text=text,
    )


def committee_report(session: Session, event: ChangeEvent) -> Notice | None:
    from civic_app.committee.models import ReportVersion

    version = session.get(ReportVersion, event.subject_id)
    if version is None:
        return None
    quarter = version.quarter
    rows = {row.task_id: row for row in version.report_rows()}

    def text() -> tuple[str, str]:
        values = {"c": quarter.committee.name, "y": quarter.year, "q": quarter.quarter}
        if version.number > 1:
            title = _("%(c)s %(y)d년 %(q)d분기 과제 추진상황 정정본이 공개되었습니다", **values)
        else:
            title = _("%(c)s %(y)d년 %(q)d분기 과제 추진상황이 공개되었습니다", **values)
        return title, version.summary or ""

    def lines(matched: set[TargetKey]) -> list[str]:
        out = []
        for kind, task_id in sorted(matched):
            row = rows.get(task_id)
            if kind != COMMITTEE_TASK or row is None:
                continue
            if not row.is_reported:
                out.append(_("%(code)s %(title)s: 미제출", code=row.task_code, title=row.task_title))
                continue
            before = "-" if row.previous_pct is None else f"{row.previous_pct}%"
            out.append(f"{row.task_code} {row.task_title}: {before} → {row.progress_pct}%")
            if len(out) >= 20:
                break
        return out

    return Notice(
        ref=f"committee_report:{version.id}",
        targets=[(COMMITTEE_TASK, task_id) for task_id in rows],
        path=f"/committee/reports/{quarter.id}",
        text=text,
        lines=lines,
    )


def request_status(session: Session, event: ChangeEvent) -> Notice | None:
    from civic_app.meetings.models import MeetingRequest
    from civic_app.meetings.texts import status_label

    if event.detail == "submitted" or event.detail.startswith("reminder-"):
        return None  # nobody follows a request before it exists; a reminder is no change
    req = session.get(MeetingRequest, event.subject_id)
    if req is None or req.requester_id is None:
        return None

    def text() -> tuple[str, str]:
        return _("통통데이 신청 %(code)s: %(status)s", code=req.code, status=status_label(req.status)), ""

    told = (req.requester_email or "").strip().lower()
    return Notice(
        ref=f"request_status:{req.id}:{event.detail[:80]}",
        targets=[(REQUEST, req.id)],
        path=f"/tongtong/requests/{req.code}",
        text=text,
        skip_addresses=frozenset({told} if told else ()),
    )


BUILDERS: dict[str, Callable[[Session, ChangeEvent], Notice | None]] = {
    "card_status": card_status,
    "card_milestone": card_milestone,
    "visit_result": visit_result,
    "committee_report": committee_report,
    "request_status": request_status,
}
