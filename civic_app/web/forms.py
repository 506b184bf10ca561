"""Helpers for WTForms forms: domain errors on the fields, field values, uploaded CSV text."""

from __future__ import annotations

from flask import flash
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import Field

from civic_app.errors import DomainError, ValidationFailed


def apply_domain_error(form: FlaskForm, error: DomainError) -> None:
    """Attach a service's error to the matching fields; flash its message when no field shows
    it (no matching field, or a summary that says more than the fields' short messages)."""
    placed: list[str] = []
    if isinstance(error, ValidationFailed):
        for field_name, message in error.errors:
            field = getattr(form, field_name, None)
            if isinstance(field, Field):  # not a method or attribute of the same name
                field.errors = [*list(field.errors), message]
                placed.append(message)
    if error.field and isinstance(getattr(form, error.field, None), Field):
        getattr(form, error.field).errors = [*list(getattr(form, error.field).errors), error.message]
        placed.append(error.message)
    if error.message not in placed:
        flash(error.message, "error")


def read_csv_upload(field: Field) -> str | None:
    """An uploaded CSV file's text (UTF-8, with or without BOM), or None with the error on the field."""
    try:
        return field.data.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        field.errors = [_("파일이 UTF-8 인코딩이 아닙니다.")]
        return None


def field_values(form: FlaskForm, *names: str, empty: object = None) -> dict:
    """``{name: form.<name>.data}`` (``empty`` for a field without data): fields a service takes
    as keyword arguments of the same names."""
    values = {name: getattr(form, name).data for name in names}
    return {name: empty if value is None else value for name, value in values.items()}
