"""Translated labels for the codes stored on visits (rendered at request time)."""

from __future__ import annotations

from flask_babel import gettext as _


def status_labels() -> dict[str, str]:
    return {
        "planned": _("예정"),
        "confirmed": _("확정"),
        "held": _("진행"),
        "results_published": _("결과 공개"),
        "postponed": _("연기"),
        "cancelled": _("취소"),
    }


def kind_labels() -> dict[str, str]:
    return {"regular": _("정기 동방문"), "tour": _("민생현장 탐방")}


def agenda_labels() -> dict[str, str]:
    return {
        "dialogue": _("주민과의 대화"),
        "issues": _("현안사항 청취"),
        "staff": _("직원격려"),
        "field": _("현장탐방"),
    }


def group_labels() -> dict[str, str]:
    return {
        "monitors": _("주부시정모니터"),
        "reporters": _("소셜기자단"),
        "council": _("주민자치위원회"),
        "leaders": _("통장·자생단체"),
    }


def theme_group_labels() -> dict[str, str]:
    return {
        "issue": _("현안별 (집단민원, 쟁점사안 현장)"),
        "season": _("시기별 (폭설·폭우·폭염 대비, 명절 소외계층 방문)"),
        "field": _("분야별 (민생경제와 일자리, 청소년과 교육, 복지)"),
    }


def card_status_labels() -> dict[str, str]:
    """The contract's statuses, completed by the card feature's own labels when it has more."""
    labels = {
        "received": _("접수"),
        "under_review": _("검토중"),
        "selected": _("선정"),
        "budget_reflected": _("예산반영"),
        "in_progress": _("집행중"),
        "done": _("완료"),
        "long_term": _("장기검토"),
        "not_feasible": _("불가"),
        "referred": _("이송"),
    }
    from civic_app.cards import models as card_models

    extra = getattr(card_models, "STATUS_LABELS", {})
    labels.update({key: str(value) for key, value in extra.items() if key not in labels})
    return labels


def card_category_labels() -> dict[str, str]:
    return {
        "도로·교통": _("도로·교통"),
        "안전": _("안전"),
        "환경": _("환경"),
        "복지": _("복지"),
        "문화·체육": _("문화·체육"),
        "기타": _("기타"),
    }


def all_labels() -> dict:
    """Everything a visits template needs, as one context dict."""
    return {
        "status_labels": status_labels(),
        "kind_labels": kind_labels(),
        "agenda_labels": agenda_labels(),
        "group_labels": group_labels(),
        "theme_group_labels": theme_group_labels(),
        "card_status_labels": card_status_labels(),
        "card_category_labels": card_category_labels(),
    }
