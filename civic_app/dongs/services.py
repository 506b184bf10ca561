"""Dong registry rules: CSV import (all-or-nothing), edits of dongs, departments and hosts."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from civic_app.csvutil import read_csv
from civic_app.dongs.models import Department, Dong, Host
from civic_app.errors import Conflict, ValidationFailed
from civic_app.integrity.conflicts import savepoint

DONG_CSV_HEADER = ["code", "name", "contested_area", "natural_village", "outlying_area"]
FLAG_FIELDS = ("contested_area", "natural_village", "outlying_area")
CODE_RE = re.compile(r"^\d{10}$")
DEPARTMENT_CSV_HEADER = ["code", "name"]
DEPARTMENT_CODE_RE = re.compile(r"^[0-9A-Za-z가-힣._-]{1,20}$")


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


def import_departments(session: Session, source: str | Path) -> dict[str, int]:
    """Load departments from ``code,name`` lines: every line valid, or nothing changes.

    A code already present is renamed (and made active again); departments missing from the file
    are left alone. A name held by another department is an error unless the file renames that
    department too, so two departments can swap names in one file.
    """
    rows = read_csv(source, DEPARTMENT_CSV_HEADER)
    existing = {d.code: d for d in session.scalars(select(Department))}
    errors: list[tuple[str, str]] = []
    parsed: list[dict[str, str]] = []
    seen_codes: dict[str, int] = {}
    seen_names: dict[str, int] = {}
    for line, row in rows:
        if "__error__" in row:
            errors.append((str(line), row["__error__"]))
            continue
        code, name = row["code"], row["name"]
        problems = []
        if not DEPARTMENT_CODE_RE.match(code):
            problems.append(_("부서 코드는 1~20자의 글자, 숫자, '.', '-', '_'여야 합니다: '%(v)s'", v=code))
        elif code in seen_codes:
            problems.append(_("부서 코드 %(c)s가 %(l)d행에도 있습니다.", c=code, l=seen_codes[code]))
        if not name or len(name) > 100:
            problems.append(_("부서 이름은 1~100자여야 합니다."))
        elif name in seen_names:
            problems.append(_("부서 이름 '%(n)s'이(가) %(l)d행에도 있습니다.", n=name, l=seen_names[name]))
        seen_codes.setdefault(code, line)
        seen_names.setdefault(name, line)
        errors.extend((str(line), p) for p in problems)
        if not problems:
            parsed.append({"code": code, "name": name, "_line": str(line)})
    file_names = {data["code"]: data["name"] for data in parsed}
    for data in parsed:
        holder = next((d for d in existing.values() if d.name == data["name"]), None)
        if (
            holder is not None
            and holder.code != data["code"]
            and file_names.get(holder.code, holder.name) == holder.name
        ):
            errors.append(
                (
                    data["_line"],
                    _(
                        "부서 이름 '%(n)s'은(는) 이미 코드 %(c)s인 부서가 쓰고 있습니다.",
                        n=data["name"],
                        c=holder.code,
                    ),
                )
            )
    if errors:
        errors.sort(key=lambda e: int(e[0]) if e[0].isdigit() else 0)
        raise ValidationFailed(_("CSV에 오류가 있어 아무것도 가져오지 않았습니다."), errors)
    if not parsed:
        raise ValidationFailed(_("가져올 행이 없습니다."))
    created = updated = 0
    renamed = [
        existing[d["code"]] for d in parsed if d["code"] in existing and existing[d["code"]].name != d["name"]
    ]
    for dept in renamed:  # free the names first: the unique constraint is checked row by row
        dept.name = f"__renaming-{dept.id}__"
    session.flush()
    for data in parsed:
        dept = existing.get(data["code"])
        if dept is None:
            session.add(Department(code=data["code"], name=data["name"], active=True))
            created += 1
        else:
            dept.name = data["name"]
            dept.active = True
            updated += 1
    session.flush()
    return {"created": created, "updated": updated}


def save_reference_row(
    session: Session,
    row: Dong | Department | Host,
    edit: Callable[[object], None],
    *,
    new: bool,
    now: dt.datetime,
) -> None:
    """Apply ``edit(row)`` (the admin page's form) to a dong, department or host and save it: an
    empty choice (0) is none; a code or name another row holds is refused."""
    try:
        with savepoint(session):  # the edit alone is undone: the session stays usable for the message
            edit(row)
            if isinstance(row, Host):
                row.department_id = row.department_id or None
                row.user_id = row.user_id or None
            if isinstance(row, Dong):
                row.updated_at = now
            if new:
                session.add(row)
            session.flush()
    except IntegrityError as exc:
        raise Conflict(_("같은 코드나 이름이 이미 있습니다.")) from exc
