from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    EmailField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from civic_app.meetings.models import CATEGORIES
from civic_app.meetings.texts import REASON_NAMES, reason_label
from civic_app.web.inputs import BoundedIntegerField, bounded_int


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class RequestForm(FlaskForm):
    topic = StringField(
        _l("면담 주제"), validators=[DataRequired(_l("면담 주제를 입력해 주세요.")), Length(max=200)]
    )
    category = SelectField(_l("분야"), choices=[SelectChoice(c, _l(c)) for c in CATEGORIES])
    desired_outcome = TextAreaField(
        _l("바라는 내용"), validators=[DataRequired(_l("바라는 내용을 입력해 주세요.")), Length(max=4000)]
    )
    dong_id = SelectField(_l("관련 동"), coerce=bounded_int, validators=[Optional()])
    is_group = BooleanField(_l("집단민원입니다"))
    party_size = BoundedIntegerField(
        _l("참석 인원"),
        default=1,
        validators=[
            InputRequired(_l("참석 인원을 입력해 주세요.")),
            NumberRange(1, 30, _l("참석 인원은 1명에서 30명 사이여야 합니다.")),
        ],
    )
    preferred_sessions = MultiCheckboxField(_l("희망 회차"), coerce=bounded_int, validators=[Optional()])
    accessibility = StringField(
        _l("편의 지원 요청 (휠체어, 수어 통역 등)"), validators=[Optional(), Length(max=300)]
    )
    attachment = FileField(_l("첨부 파일 (PDF, PNG, JPG, 5MB 이하)"))
    consent = BooleanField(_l("위 개인정보 수집·이용에 동의합니다 (필수)"))
    publish_consent = BooleanField(_l("개인정보를 뺀 면담 결과 요약 공개에 동의합니다 (선택)"))


class WalkInForm(RequestForm):
    requester_name = StringField(_l("신청인 이름"), validators=[Optional(), Length(max=100)])
    requester_phone = StringField(_l("연락처"), validators=[Optional(), Length(max=30)])
    requester_email = EmailField(
        _l("이메일"), validators=[Optional(), Email(_l("이메일 주소 형식이 올바르지 않습니다."))]
    )
    room_start = DateTimeLocalField(
        _l("상담실 사용 시작"),
        format="%Y-%m-%dT%H:%M",
        validators=[InputRequired(_l("시작 시각을 입력해 주세요."))],
    )
    room_minutes = BoundedIntegerField(
        _l("사용 시간 (분)"),
        default=30,
        validators=[NumberRange(10, 180, _l("10분에서 180분 사이로 입력해 주세요."))],
    )
    consent = BooleanField(_l("신청인이 개인정보 수집·이용에 동의했습니다 (필수)"))


def reason_choices() -> list[SelectChoice]:
    return [SelectChoice(code, reason_label(code)) for code in REASON_NAMES]


class DecisionForm(FlaskForm):
    reason_code = SelectField(_l("사유"), choices=reason_choices, validate_choice=False)
    note = TextAreaField(_l("시민에게 보내는 설명"), validators=[Optional(), Length(max=2000)])
    slot_id = SelectField(_l("면담 시간"), coerce=bounded_int, validators=[Optional()], validate_choice=False)
    department_id = SelectField(
        _l("담당 부서"), coerce=bounded_int, validators=[Optional()], validate_choice=False
    )
    route = SelectField(
        _l("처리 방식"),
        choices=[
            SelectChoice("written", _l("서면 답변")),
            SelectChoice("referral", _l("부서 이관 (일반 민원)")),
        ],
        validate_choice=False,
    )
    due = DateField(_l("답변 기한 (비우면 14일 뒤)"), validators=[Optional()])
    # The fallback form opens a deputy's or director's slot inline when none fits.
    new_host_id = SelectField(_l("면담 주재자"), coerce=int, validators=[Optional()], validate_choice=False)
    new_start = DateTimeLocalField(_l("시작 시각"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    new_minutes = BoundedIntegerField(
        _l("길이 (분)"), default=30, validators=[Optional(), NumberRange(10, 240)]
    )


class AnswerForm(FlaskForm):
    text = TextAreaField(_l("답변 내용"), validators=[DataRequired(_l("답변 내용을 입력해 주세요."))])
    new_due = DateField(_l("새 답변 기한"), validators=[Optional()])


class OutcomeForm(FlaskForm):
    attended = BooleanField(_l("신청인이 참석했습니다"), default=True)
    outcome = TextAreaField(
        _l("면담 결과 (합의 내용)"), validators=[DataRequired(_l("면담 결과를 입력해 주세요."))]
    )
    public_summary = TextAreaField(
        _l("공개 요약 (개인정보 없이, 신청인이 동의한 경우만)"), validators=[Optional(), Length(max=2000)]
    )


class FollowUpForm(FlaskForm):
    title = StringField(
        _l("후속 조치"), validators=[DataRequired(_l("후속 조치 내용을 입력해 주세요.")), Length(max=200)]
    )
    department_id = SelectField(_l("담당 부서"), coerce=bounded_int, validators=[Optional()])
    due_date = DateField(_l("기한"), validators=[InputRequired(_l("기한을 입력해 주세요."))])
    local_budget = BooleanField(_l("지역 예산 사안 (동 관리카드에 올림)"))


class CancelSessionForm(FlaskForm):
    reason = StringField(
        _l("취소 사유"), validators=[DataRequired(_l("취소 사유를 입력해 주세요.")), Length(max=300)]
    )


class MoveSessionForm(FlaskForm):
    day = DateField(_l("새 날짜"), validators=[InputRequired(_l("새 날짜를 입력해 주세요."))])
    reason = StringField(
        _l("옮기는 사유"), validators=[DataRequired(_l("옮기는 사유를 입력해 주세요.")), Length(max=300)]
    )


class OtherSessionForm(FlaskForm):
    session_id = SelectField(_l("다른 회차"), coerce=bounded_int)


class HostSlotForm(FlaskForm):
    host_id = SelectField(_l("면담 주재자"), coerce=bounded_int)
    start = DateTimeLocalField(
        _l("시작 시각"), format="%Y-%m-%dT%H:%M", validators=[InputRequired(_l("시작 시각을 입력해 주세요."))]
    )
    minutes = BoundedIntegerField(
        _l("면담 시간 (분)"), default=30, validators=[InputRequired(_l("면담 시간을 입력해 주세요."))]
    )
    location = StringField(_l("장소"), validators=[Optional(), Length(max=100)])


class ActionForm(FlaskForm):
    """A button that only needs the CSRF token."""


class ChangeDecisionForm(FlaskForm):
    """Staff answer a booked citizen's request for another session."""

    note = TextAreaField(_l("거절 사유 (시민에게 보냄)"), validators=[Optional(), Length(max=1000)])


class GenerateForm(FlaskForm):
    start = DateField(_l("시작일"), validators=[InputRequired(_l("시작일을 입력해 주세요."))])
    end = DateField(_l("종료일"), validators=[InputRequired(_l("종료일을 입력해 주세요."))])


class RuleForm(FlaskForm):
    holiday_policy = SelectField(
        _l("공휴일에 걸린 회차"),
        choices=[
            SelectChoice("skip", _l("건너뜀")),
            SelectChoice("next", _l("다음 근무일로 옮김")),
            SelectChoice("previous", _l("앞 근무일로 옮김")),
        ],
    )
