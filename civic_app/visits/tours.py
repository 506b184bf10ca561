"""Themed field tours (민생현장 탐방): sites and creation."""

from __future__ import annotations

import datetime as dt
import re

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from civic_app.dongs.models import Dong
from civic_app.errors import ValidationFailed
from civic_app.visits.models import KIND_TOUR, PLANNED, THEME_GROUPS, TourSite, Visit
from civic_app.visits.rules import check_visit_day, departments_by_id, require_public_text, visit_times


def parse_sites(session: Session, text: str) -> list[tuple[str, int | None]]:
    """One site per line: ``장소명`` or ``행정동코드 장소명``; unknown codes are refused."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if not lines:
        raise ValidationFailed(
            _("탐방 장소를 한 줄에 하나씩 입력해 주세요."), [("sites", _("장소를 입력해 주세요."))]
        )
    codes = {}
    parsed = []
    for line in lines:
        match = re.match(r"^(\d{10})\s+(.+)$", line)
        if match:
            codes[match.group(1)] = None
            parsed.append((match.group(2).strip()[:200], match.group(1)))
        elif re.match(r"^\d{6,}\b", line):
            problem = _("행정동코드는 숫자 10자리여야 합니다: '%(v)s'", v=line.split()[0])
            raise ValidationFailed(problem, [("sites", problem)])
        else:
            parsed.append((line[:200], None))
    if codes:
        for dong in session.scalars(select(Dong).where(Dong.code.in_(list(codes)))):
            codes[dong.code] = dong.id
        unknown = [c for c, i in codes.items() if i is None]
        if unknown:
            problem = _("알 수 없는 행정동코드입니다: %(codes)s", codes=", ".join(sorted(unknown)))
            raise ValidationFailed(problem, [("sites", problem)])
    return [(name, codes[code] if code else None) for name, code in parsed]


def create_tour(
    session: Session,
    *,
    actor_id: int | None,
    now: dt.datetime,
    day: dt.date,
    start_time: dt.time,
    end_time: dt.time,
    theme_group: str,
    theme: str,
    sites_text: str,
    department_ids: list[int] | None = None,
    publish: bool = False,
) -> Visit:
    if theme_group not in THEME_GROUPS:
        raise ValidationFailed(
            _("탐방 유형을 골라 주세요."), [("theme_group", _("탐방 유형을 골라 주세요."))]
        )
    theme = (theme or "").strip()
    if not theme:
        raise ValidationFailed(_("탐방 주제를 입력해 주세요."), [("theme", _("주제를 입력해 주세요."))])
    require_public_text(session, {"theme": theme, "sites": sites_text})
    sites = parse_sites(session, sites_text)
    check_visit_day(session, None, day)
    start_at, end_at = visit_times(day, start_time, end_time)
    departments = departments_by_id(session, department_ids or [])
    first_dong = next((d for _n, d in sites if d), None)
    visit = Visit(
        kind=KIND_TOUR,
        dong_id=first_dong,
        start_at=start_at,
        end_at=end_at,
        status=PLANNED,
        published=publish,
        theme_group=theme_group,
        theme=theme[:200],
        agenda=[],
        participant_groups=[],
        results_revision=0,
        sequence=0,
        created_at=now,
        updated_at=now,
    )
    visit.departments = departments
    visit.sites = [
        TourSite(position=i, name=name, dong_id=dong_id) for i, (name, dong_id) in enumerate(sites)
    ]
    session.add(visit)
    session.flush()
    return visit
