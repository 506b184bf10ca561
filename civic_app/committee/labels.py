"""Korean labels of the committee's codes (translated at render time)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

POSITION_LABELS = {"chair": _l("위원장"), "vice_chair": _l("부위원장"), "member": _l("위원")}
MEMBERSHIP_LABELS = {"ex_officio": _l("당연직"), "appointed": _l("위촉직")}
AFFILIATION_LABELS = {
    "expert": _l("전문가"),
    "civil_society": _l("시민사회"),
    "council": _l("시의회"),
    "resident": _l("주민"),
    "official": _l("공무원"),
}
GENDER_LABELS = {"female": _l("여성"), "male": _l("남성")}
AGE_BAND_LABELS = {
    "20s": _l("20대"),
    "30s": _l("30대"),
    "40s": _l("40대"),
    "50s": _l("50대"),
    "60s": _l("60대"),
    "70+": _l("70대 이상"),
}
ORIGIN_LABELS = {"baseline": _l("정책합의과제"), "new": _l("신규과제"), "advisory": _l("자문안건")}
STATUS_LABELS = {
    "proposed": _l("제안"),
    "active": _l("추진 중"),
    "concluded": _l("종결"),
    "replaced": _l("대체·통합"),
    "dropped": _l("중단"),
}
LINEAGE_LABELS = {"replaced": _l("대체"), "merged": _l("통합")}
OUTCOME_LABELS = {"maintained": _l("유지"), "concluded": _l("종결"), "replaced": _l("대체·통합")}
ENTRY_LABELS = {"pending": _l("미제출"), "submitted": _l("제출"), "reviewed": _l("검토 완료")}
QUARTER_LABELS = {"open": _l("보고 접수 중"), "published": _l("공개")}
REPORT_FIELD_LABELS = {
    "status": _l("상태"),
    "progress_pct": _l("진척률"),
    "progress_text": _l("추진상황"),
    "issues": _l("문제점"),
    "next_steps": _l("향후 계획"),
    "department": _l("담당 부서"),
}
MEETING_KIND_LABELS = {"regular": _l("정기회의"), "ad_hoc": _l("임시회의")}
MEETING_STATUS_LABELS = {"scheduled": _l("예정"), "cancelled": _l("취소"), "held": _l("개최")}

LABELS = {
    "position": POSITION_LABELS,
    "membership": MEMBERSHIP_LABELS,
    "affiliation": AFFILIATION_LABELS,
    "gender": GENDER_LABELS,
    "age_band": AGE_BAND_LABELS,
    "origin": ORIGIN_LABELS,
    "status": STATUS_LABELS,
    "lineage": LINEAGE_LABELS,
    "outcome": OUTCOME_LABELS,
    "entry": ENTRY_LABELS,
    "quarter": QUARTER_LABELS,
    "report_field": REPORT_FIELD_LABELS,
    "meeting_kind": MEETING_KIND_LABELS,
    "meeting_status": MEETING_STATUS_LABELS,
}


def label(kind: str, value: str | None) -> str:
    if value is None:
        return ""
    text = LABELS[kind].get(value)
    return str(text) if text is not None else value
