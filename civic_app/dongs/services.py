"""Dong registry rules: CSV import (all-or-nothing), edits."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from civic_app.csvutil import read_csv
from civic_app.dongs.models import Dong
from civic_app.errors import ValidationFailed

DONG_CSV_HEADER = ["code", "name", "contested_area", "natural_village", "outlying_area"]
FLAG_FIELDS = ("contested_area", "natural_village", "outlying_area")
CODE_RE = re.compile(r"^\d{10}$")


def validate_dong_values(code: str, name: str) -> list[str]:
    problems = []
    if not CODE_RE.match(code or ""):
        problems.append(_("행정동코드는 숫자 10자리여야 합니다: '%(v)s'", v=code))
    if not name or len(name) > 50:
        problems.append(_("동 이름은 1~50자여야 합니다."))
    return problems


def import_dongs(session: Session, source: str | Path, *, now: dt.datetime) -> dict[str, int]:
    """Validate every line first; import nothing if any line is bad. Re-import updates by code."""
    rows = read_csv(source, DONG_CSV_HEADER)
    errors: list[tuple[str, str]] = []
    parsed: list[dict] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        if "__error__" in row:
            errors.append((str(line), row["__error__"]))
            continue
        problems = validate_dong_values(row["code"], row["name"])
        flags = {}
        for flag in FLAG_FIELDS:
            if row[flag] not in ("0", "1"):
                problems.append(_("%(f)s 값은 0 또는 1이어야 합니다: '%(v)s'", f=flag, v=row[flag]))
            else:
                flags[flag] = row[flag] == "1"
        if row["code"] in seen:
            problems.append(_("행정동코드 %(c)s가 %(l)d행에도 있습니다.", c=row["code"], l=seen[row["code"]]))
        seen.setdefault(row["code"], line)
        for problem in problems:
            errors.append((str(line), problem))
        if not problems:
            parsed.append({"code": row["code"], "name": row["name"], **flags})
    if errors:
        raise ValidationFailed(_("CSV에 오류가 있어 아무것도 가져오지 않았습니다."), errors)
    if not parsed:
        raise ValidationFailed(_("가져올 행이 없습니다."))
    existing = {d.code: d for d in session.scalars(select(Dong))}
    created = updated = 0
    for data in parsed:
        dong = existing.get(data["code"])
        if dong is None:
            session.add(Dong(**data, active=True, updated_at=now))
            created += 1
        else:
            for key, value in data.items():
                setattr(dong, key, value)
            dong.active = True
            dong.updated_at = now
            updated += 1
    session.flush()
    return {"created": created, "updated": updated}


def active_dongs(session: Session) -> list[Dong]:
    return list(session.scalars(select(Dong).where(Dong.active.is_(True)).order_by(Dong.code)))


def get_dong_by_code(session: Session, code: str) -> Dong | None:
    return session.scalar(select(Dong).where(Dong.code == code))
