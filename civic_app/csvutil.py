"""CSV reading shared by every import command: validate all lines, then import or nothing."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path

from flask_babel import gettext as _

from civic_app.errors import ValidationFailed


def _reject_nul(text: str) -> None:
    """A NUL character is never data (PostgreSQL refuses it in text); name every line holding one."""
    if "\x00" not in text:
        return
    lines = [n for n, line in enumerate(text.splitlines(), start=1) if "\x00" in line]
    msg = _("파일에 NUL 문자가 들어 있습니다. 텍스트 CSV 파일인지 확인해 주세요.")
    raise ValidationFailed(msg, [(str(n), msg) for n in lines[:20]])


def read_csv(path_or_text: str | Path, expected_header: list[str]) -> list[tuple[int, dict[str, str]]]:
    """Return (line number, row) pairs; raise ValidationFailed on a bad file or header.

    Accepts UTF-8 with or without BOM. Line numbers count the header as line 1.
    """
    if isinstance(path_or_text, Path):
        try:
            raw = path_or_text.read_bytes()
        except OSError as exc:
            raise ValidationFailed(_("파일을 읽을 수 없습니다: %(err)s", err=str(exc))) from exc
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ValidationFailed(_("파일이 UTF-8 인코딩이 아닙니다.")) from exc
    else:
        text = path_or_text.lstrip("\ufeff")
    _reject_nul(text)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration as exc:
        raise ValidationFailed(_("빈 파일입니다.")) from exc
    header = [h.strip() for h in header]
    if header != expected_header:
        raise ValidationFailed(
            _("머리글이 올바르지 않습니다. 필요한 머리글: %(h)s", h=",".join(expected_header)),
            [("1", _("머리글이 올바르지 않습니다. 필요한 머리글: %(h)s", h=",".join(expected_header)))],
        )
    rows = []
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            rows.append((line, {"__error__": _("열 개수가 %(n)d개여야 합니다.", n=len(header))}))
            continue
        rows.append((line, {k: v.strip() for k, v in zip(header, values, strict=True)}))
    return rows


# Cells a spreadsheet would read as a formula (OWASP "CSV injection"): = + - @ and the tab and
# carriage return that some programs strip before looking.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: object) -> object:
    """Text starting like a formula gets a leading single quote; numbers and other types pass."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_bytes(header: list[str], rows: Iterable[Iterable[object]]) -> bytes:
    """The one writer of every CSV the app hands out: UTF-8 with BOM (spreadsheet programs then
    read Korean text), ``None`` as empty, every text cell neutralised against formulas."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([neutralise_cell(h) for h in header])
    for row in rows:
        writer.writerow(["" if v is None else neutralise_cell(v) for v in row])
    return out.getvalue().encode("utf-8")
