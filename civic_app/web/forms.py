"""Helpers to show domain errors on WTForms forms."""

from __future__ import annotations

from flask import flash
from flask_wtf import FlaskForm
from wtforms import Field

from civic_app.errors import DomainError, ValidationFailed


def apply_domain_error(form: FlaskForm, error: DomainError) -> None:
    """Attach a service's error to the matching fields, or flash it when it has none."""
    placed = False
    if isinstance(error, ValidationFailed):
        for field_name, message in error.errors:
            field = getattr(form, field_name, None)
            if isinstance(field, Field):  # not a method or attribute of the same name
                field.errors = [*list(field.errors), message]
                placed = True
    if error.field and isinstance(getattr(form, error.field, None), Field):
        getattr(form, error.field).errors = [*list(getattr(form, error.field).errors), error.message]
        placed = True
    if not placed:
        flash(error.message, "error")
