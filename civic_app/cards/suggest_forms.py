"""Forms of the online suggestions (issue 17)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import BooleanField, DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from civic_app.cards.forms import choices
from civic_app.cards.models import ANSWER_FINAL, ANSWER_INTERIM, ANSWER_LABELS
from civic_app.web.inputs import bounded_int


class SuggestionForm(FlaskForm):
    dong_id = SelectField(_l("동"), coerce=bounded_int, validators=[DataRequired(_l("동을 골라 주세요."))])
    title = StringField(_l("제목"), validators=[DataRequired(_l("제목을 입력해 주세요.")), Length(max=200)])
    category = SelectField(_l("분류"), validators=[DataRequired(_l("분류를 골라 주세요."))])
    description = TextAreaField(
        _l("제안 내용"), validators=[DataRequired(_l("제안 내용을 입력해 주세요.")), Length(max=4000)]
    )
    location = StringField(_l("장소 (선택)"), validators=[Optional(), Length(max=200)])
    photos = MultipleFileField(_l("사진 (선택)"))
    consent = BooleanField(_l("위 개인정보 수집·이용에 동의합니다 (필수)"))


class SupportForm(FlaskForm):
    """The 공감 buttons: nothing but the CSRF token."""


class AnswerForm(FlaskForm):
    kind = RadioField(
        _l("답변 종류"),
        choices=choices([(k, ANSWER_LABELS[k]) for k in (ANSWER_INTERIM, ANSWER_FINAL)]),
        default=ANSWER_FINAL,
        validators=[DataRequired(_l("답변 종류를 골라 주세요."))],
    )
    body = TextAreaField(
        _l("답변 내용 (공개)"), validators=[DataRequired(_l("답변 내용을 입력해 주세요.")), Length(max=4000)]
    )
    next_due_on = DateField(_l("다음 답변 날짜 (중간 답변일 때)"), validators=[Optional()])
