"""통통데이 words: labels in the reader's language, and the Korean that stored text is made of.

Stored text is data. Timeline notes and e-mail subjects and bodies are written in Korean by rule,
whatever language the acting user reads: a staff member working in English must not leave English
on a Korean citizen's request. Services build that text with :func:`ko` and :func:`ko_datetime`
(never ``gettext``, which follows the request's language); pages show codes (status, route,
reason) through the ``*_label`` functions, which translate for the reader.
"""

from __future__ import annotations

import datetime as dt

from flask_babel import get_locale, gettext

from civic_app.meetings import models as m
from civic_app.meetings.models import MeetingRequest
from civic_app.web.filters import format_date, format_datetime


def N_(message: str) -> str:  # noqa: N802 (the gettext convention, a keyword of tools/i18n.py)
    """Marks a Korean string for the catalog; it is translated where it is shown."""
    return message


REASON_NAMES: dict[str, str] = {
    "mayor_priority": N_("시장 직접 면담이 필요한 사안"),
    "mayor_full": N_("시장 면담 일정이 가득 참"),
    "field_host": N_("소관 분야 책임자가 바로 답할 수 있는 사안"),
    "urgent": N_("빠른 면담이 필요해 가장 가까운 일정으로 배정"),
    "department_matter": N_("담당 부서 처리로 충분한 사안"),
    "duplicate": N_("같은 내용의 신청이 이미 처리 중"),
    "out_of_scope": N_("시 소관이 아닌 사안"),
    "insufficient": N_("신청 내용이 부족함"),
}

# The reasons that fit each decision (the form of each lists only its own; the first is the
# default): a decline never defaults to "the mayor must meet this".
REASONS_BY_ACTION: dict[str, tuple[str, ...]] = {
    "mayor": ("mayor_priority", "urgent"),
    "fallback": ("mayor_full", "field_host", "urgent"),
    "written": ("department_matter", "duplicate", "insufficient", "out_of_scope"),
    "decline": ("out_of_scope", "duplicate", "insufficient"),
}

ROUTE_NAMES: dict[str, str] = {
    m.ROUTE_MAYOR: N_("시장 면담"),
    m.ROUTE_DEPUTY: N_("부시장 면담"),
    m.ROUTE_DIRECTOR: N_("실·국·소장 면담"),
    m.ROUTE_WRITTEN: N_("서면 답변"),
    m.ROUTE_REFERRAL: N_("부서 이관"),
    m.ROUTE_DECLINED: N_("불채택"),
}

STATUS_NAMES: dict[str, str] = {
    m.ST_SUBMITTED: N_("검토 대기"),
    m.ST_WAITLISTED: N_("면담 대기"),
    m.ST_BOOKED: N_("면담 확정"),
    m.ST_HELD: N_("면담 완료"),
    m.ST_REFERRED: N_("부서 답변 대기"),
    m.ST_ANSWERED: N_("답변 완료"),
    m.ST_DECLINED: N_("불채택"),
    m.ST_WITHDRAWN: N_("신청 철회"),
}

# The categories (stored in Korean, see models.CATEGORIES) as catalog messages.
CATEGORY_NAMES = (
    N_("도로·교통"),
    N_("복지"),
    N_("환경"),
    N_("도시계획"),
    N_("안전"),
    N_("지역경제"),
    N_("문화·체육"),
    N_("교육"),
    N_("기타"),
)

MAYOR = "시장"  # the host of a 통통데이 meeting whose booking names no host row


def action_of_route(route: str) -> str:
    return {
        m.ROUTE_MAYOR: "mayor",
        m.ROUTE_DEPUTY: "fallback",
        m.ROUTE_DIRECTOR: "fallback",
        m.ROUTE_WRITTEN: "written",
        m.ROUTE_REFERRAL: "written",
        m.ROUTE_DECLINED: "decline",
    }[route]


# --- shown: in the reader's language -------------------------------------------------------------
def reason_label(code: str | None) -> str:
    name = REASON_NAMES.get(code or "")
    return gettext(name) if name else (code or "")


def route_label(route: str | None) -> str:
    name = ROUTE_NAMES.get(route or "")
    return gettext(name) if name else ""


def status_label(status: str) -> str:
    name = STATUS_NAMES.get(status)
    return gettext(name) if name else status


# --- stored: Korean by rule ----------------------------------------------------------------------
class KoText(str):
    """Stored Korean text that remembers how it was made (``parts``), so that a reader who chose
    another language sees it in theirs (:func:`shown`), while the stored text stays Korean.

    A part is ``["m", message, params]`` (a catalog message and its parameters) or ``["t", text]``
    (text as typed, e.g. a staff note). Parameters are JSON: ``{"s": text}`` (translated when it
    is a catalog message, such as a reason name), ``{"dt": iso}`` (a date and time, formatted for
    the reader) or ``{"k": parts}`` (nested stored text). ``+`` keeps the parts.
    """

    parts: list

    def __new__(cls, text: str, parts: list) -> KoText:
        obj = super().__new__(cls, text)
        obj.parts = parts
        return obj

    def __add__(self, other: object) -> KoText:
        return KoText(str(self) + str(other), self.parts + _parts_of(other))

    def __radd__(self, other: object) -> KoText:
        return KoText(str(other) + str(self), _parts_of(other) + self.parts)


class _KoDateTime(str):
    value: dt.datetime


class _KoDate(str):
    value: dt.date


def _parts_of(value: object) -> list:
    return value.parts if isinstance(value, KoText) else [["t", str(value)]]


def _param(value: object) -> object:
    if isinstance(value, KoText):
        return {"k": value.parts}
    if isinstance(value, _KoDateTime):
        return {"dt": value.value.isoformat()}
    if isinstance(value, _KoDate):
        return {"d": value.value.isoformat()}
    if isinstance(value, str):
        return {"s": value}
    return value  # numbers


def ko(message: str, **params: object) -> KoText:
    """Stored text: the Korean ``message`` with its ``%(name)s`` parameters, never translated."""
    text = message % params if params else message
    return KoText(text, [["m", message, {k: _param(v) for k, v in params.items()}]])


def ko_datetime(value: dt.datetime) -> str:
    """A date and time inside stored text: Korean style, Asia/Seoul."""
    text = _KoDateTime(format_datetime(value, english=False))
    text.value = value
    return text


def ko_date(value: dt.date) -> str:
    """A date inside stored text: Korean style (2026년 11월 28일 (토))."""
    text = _KoDate(format_date(value, english=False))
    text.value = value
    return text


def shown(note: str | None, parts: list | None) -> str:
    """A stored note in the reader's language: Korean readers (and notes stored before parts
    existed, or typed by hand) get the stored text itself."""
    if not parts or str(get_locale() or "ko").startswith("ko"):
        return note or ""
    try:
        return _render(parts)
    except (KeyError, TypeError, ValueError):  # a message whose parameters changed since: the stored text
        return note or ""


def event_note(event: m.RequestEvent) -> str:
    """Template filter: a timeline step's note in the reader's language."""
    return shown(event.note, event.note_parts)


def category_label(category: str | None) -> str:
    """Template filter: a request's category (stored in Korean) in the reader's language."""
    return gettext(category) if category in m.CATEGORIES else (category or "")


def _render(parts: list) -> str:
    out = []
    for part in parts:
        if part[0] == "m":
            params = {k: _render_param(v) for k, v in (part[2] or {}).items()}
            out.append(gettext(part[1]) % params if params else gettext(part[1]))
        else:
            out.append(part[1])
    return "".join(out)


def _render_param(value: object) -> object:
    if isinstance(value, dict):
        if "k" in value:
            return _render(value["k"])
        if "dt" in value:
            return format_datetime(dt.datetime.fromisoformat(value["dt"]))
        if "d" in value:
            return format_date(dt.date.fromisoformat(value["d"]))
        if "s" in value:
            text = value["s"]
            return gettext(text) if text else ""
    return value


def decision_text(route: str | None, reason_code: str | None, note: str | None) -> str:
    """``결정: 시장 면담. 사유: …. <staff's note>`` for the timeline and the e-mail."""
    text = ko(
        "결정: %(route)s. 사유: %(reason)s.",
        route=ROUTE_NAMES.get(route or "", ""),
        reason=REASON_NAMES.get(reason_code or "", reason_code or ""),
    )
    return text + " " + note if note else text


def why_text(req: MeetingRequest) -> str:
    """Why (for the citizen's e-mail): the decision and its reason; a fallback says why not the
    mayor."""
    if not req.route:
        return ""
    text = decision_text(req.route, req.reason_code, req.decision_note)
    if req.route in (m.ROUTE_DEPUTY, m.ROUTE_DIRECTOR):
        reason = REASON_NAMES.get(req.reason_code or "", req.reason_code or "")
        text = ko("시장 면담이 아닌 이유: %(reason)s.", reason=reason) + " " + text
    return text


NEXT_STEPS: dict[str, str] = {
    m.ST_SUBMITTED: "담당자가 검토한 뒤 결과를 알려 드립니다.",
    m.ST_WAITLISTED: "대기 순서를 그대로 유지하며, 자리가 나는 가장 가까운 회차에 자동으로 배정하고 알려 드립니다.",
    m.ST_BOOKED: "면담 전날까지 철회하거나 다른 회차를 요청할 수 있습니다. 면담 전 근무일에 알림을 한 번 더 보내 드립니다.",
    m.ST_HELD: "후속 조치가 정해지면 진행 상황을 신청 화면에서 확인할 수 있습니다.",
    m.ST_ANSWERED: "더 궁금한 점은 새로 신청해 주세요.",
    m.ST_DECLINED: "다른 방법이 필요하면 언제든 새로 신청할 수 있습니다.",
}


def next_step_text(req: MeetingRequest) -> str:
    """What happens next (for the citizen's e-mail), by the request's status."""
    if req.status == m.ST_BOOKED and req.change_session_id is not None:
        return ko("담당자가 회차 변경 요청을 확인하면 결과를 알려 드립니다.")
    if req.status == m.ST_REFERRED:
        due = ko_date(req.answer_due) if req.answer_due else ""
        dept = req.department.name if req.department else ""
        return ko("%(dept)s에서 %(due)s까지 답변합니다.", dept=dept, due=due)
    return NEXT_STEPS.get(req.status, "신청이 끝났습니다. 필요하면 언제든 새로 신청할 수 있습니다.")
