"""Survey and publish forms (server-side validation; the survey works without JavaScript)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, Length, Optional

from civic_app.satisfaction.models import MAX_COMMENT
from civic_app.web.inputs import bounded_int

SATISFACTION_CHOICES = [
    SelectChoice(5, _l("5 · 매우 만족")),
    SelectChoice(4, _l("4 · 만족")),
    SelectChoice(3, _l("3 · 보통")),
    SelectChoice(2, _l("2 · 불만족")),
    SelectChoice(1, _l("1 · 매우 불만족")),
]
REASON_CHOICES = [
    SelectChoice(5, _l("5 · 매우 분명했다")),
    SelectChoice(4, _l("4 · 분명했다")),
    SelectChoice(3, _l("3 · 보통이다")),
    SelectChoice(2, _l("2 · 분명하지 않았다")),
    SelectChoice(1, _l("1 · 전혀 분명하지 않았다")),
]


class SurveyForm(FlaskForm):
    satisfaction = RadioField(
        _l("처리 결과에 얼마나 만족하십니까?"),
        choices=SATISFACTION_CHOICES,
        coerce=bounded_int,
        invalid_choice_message=_l("만족도를 1~5 중에서 골라 주세요."),
        invalid_value_message=_l("만족도를 1~5 중에서 골라 주세요."),
    )
    reason_clear = RadioField(
        _l("그렇게 결정된 이유가 분명했습니까?"),
        choices=REASON_CHOICES,
        coerce=bounded_int,
        invalid_choice_message=_l("이유가 분명했는지 1~5 중에서 골라 주세요."),
        invalid_value_message=_l("이유가 분명했는지 1~5 중에서 골라 주세요."),
    )
    comment = TextAreaField(
        _l("하고 싶은 말 (선택)"),
        validators=[
            Optional(),
            Length(max=MAX_COMMENT, message=_l("의견은 %(max)d자 이내로 적어 주세요.")),
        ],
    )


class PublishForm(FlaskForm):
    action = HiddenField(validators=[AnyOf(("publish", "unpublish"))])
