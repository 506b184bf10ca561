from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, RadioField, SelectChoice, StringField
from wtforms.validators import AnyOf, InputRequired, Length, NumberRange, Optional

from civic_app.follow.models import CHANNELS, FREQUENCIES, TARGET_KINDS


def frequency_choices() -> list[tuple[str, str]]:
    return [("immediate", _l("바뀔 때마다 바로 받기")), ("weekly", _l("한 주에 한 번 모아 받기"))]


class FollowForm(FlaskForm):
    """The 구독 button of a page: the target, how often, and (visitors) the address."""

    target_kind = HiddenField(validators=[InputRequired(), AnyOf(TARGET_KINDS)])
    target_id = IntegerField(validators=[InputRequired(), NumberRange(min=1, max=2**31 - 1)])
    email = StringField(_l("이메일"), validators=[Optional(), Length(max=254)])
    channel = RadioField(
        _l("받을 곳"),
        choices=[SelectChoice(c, c) for c in CHANNELS],
        default="email",
        validators=[Optional()],
        validate_choice=False,
    )
    frequency = RadioField(
        _l("받는 방법"), choices=[SelectChoice(f, f) for f in FREQUENCIES], default="immediate"
    )
    consent = BooleanField(_l("개인정보 수집·이용에 동의합니다"))
    next = HiddenField(validators=[Optional(), Length(max=500)])


class FrequencyForm(FlaskForm):
    frequency = RadioField(_l("받는 방법"), choices=[SelectChoice(f, f) for f in FREQUENCIES])


class ActionForm(FlaskForm):
    """A button that changes state: only the CSRF token."""
