from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length


class ActionForm(FlaskForm):
    """A button that changes state: only the CSRF token."""


class EditMessageForm(FlaskForm):
    title = StringField(
        _l("제목"), validators=[DataRequired(message=_l("제목을 입력해 주세요.")), Length(max=300)]
    )
    summary = TextAreaField(_l("요약"), validators=[Length(max=3000)])
    lines = TextAreaField(_l("항목 (한 줄에 하나)"), validators=[Length(max=3000)])
