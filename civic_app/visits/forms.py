from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from civic_app.web.inputs import BoundedIntegerField, bounded_int


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CycleForm(FlaskForm):
    start = DateField(_l("시작일"), validators=[DataRequired(_l("시작일을 입력해 주세요."))])
    end = DateField(_l("종료일"), validators=[DataRequired(_l("종료일을 입력해 주세요."))])
    quotas = StringField(
        _l("연도별 방문 수 (연도 순서대로, 쉼표로 구분)"),
        validators=[
            DataRequired(_l("연도별 방문 수를 입력해 주세요.")),
            Regexp(
                r"^\s*\d+(\s*,\s*\d+)*\s*$", message=_l("쉼표로 구분한 숫자로 입력해 주세요 (예: 19,20).")
            ),
        ],
    )
    max_per_week = BoundedIntegerField(
        _l("주간 최대 방문 수"),
        default=3,
        validators=[
            DataRequired(_l("주간 최대 방문 수를 입력해 주세요.")),
            NumberRange(1, 20, _l("1~20 사이로 입력해 주세요.")),
        ],
    )
    max_per_day = BoundedIntegerField(
        _l("하루 최대 방문 수"),
        default=1,
        validators=[
            DataRequired(_l("하루 최대 방문 수를 입력해 주세요.")),
            NumberRange(1, 20, _l("1~20 사이로 입력해 주세요.")),
        ],
    )
    name = StringField(_l("주기 이름 (선택)"), validators=[Optional(), Length(max=100)])
    weights = StringField(
        _l("우선순위 가중치 (쟁점민원, 자연부락, 외곽지역)"),
        default="3,2,2",
        validators=[
            DataRequired(_l("우선순위 가중치를 입력해 주세요.")),
            Regexp(
                r"^\s*\d{1,3}\s*,\s*\d{1,3}\s*,\s*\d{1,3}\s*$",
                message=_l("숫자 세 개를 쉼표로 구분해 입력해 주세요 (예: 3,2,2)."),
            ),
        ],
    )


class MoveForm(FlaskForm):
    day = DateField(_l("새 날짜"), validators=[DataRequired(_l("날짜를 입력해 주세요."))])
    start_time = TimeField(_l("시작 시각"), validators=[Optional()])


class SwapForm(FlaskForm):
    other = SelectField(
        _l("맞바꿀 방문"), coerce=bounded_int, validators=[DataRequired(_l("맞바꿀 방문을 골라 주세요."))]
    )


class StatusForm(FlaskForm):
    status = SelectField(
        _l("상태"),
        choices=[
            SelectChoice("confirmed", _l("확정")),
            SelectChoice("postponed", _l("연기")),
            SelectChoice("cancelled", _l("취소")),
        ],
    )
    reason = StringField(_l("사유 (연기·취소 시 필수)"), validators=[Optional(), Length(max=300)])


class HeldForm(FlaskForm):
    agenda = MultiCheckboxField(_l("진행 내용"))
    residents_count = BoundedIntegerField(
        _l("참석 주민 수"),
        validators=[Optional(), NumberRange(0, 100000, _l("0 이상의 숫자를 입력해 주세요."))],
    )
    participant_groups = MultiCheckboxField(_l("함께한 참여단"))
    other_participants = StringField(_l("그 밖의 참여 (단체명)"), validators=[Optional(), Length(max=200)])
    departments = MultiCheckboxField(_l("참석·관련 부서"), coerce=bounded_int)
    notes = TextAreaField(_l("내부 메모 (공개되지 않음)"), validators=[Optional(), Length(max=5000)])


class SuggestionForm(FlaskForm):
    title = StringField(
        _l("건의 제목"), validators=[DataRequired(_l("건의 제목을 입력해 주세요.")), Length(max=200)]
    )
    description = TextAreaField(_l("내용"), validators=[Optional(), Length(max=5000)])
    category = SelectField(_l("분류"))
    location = StringField(_l("위치"), validators=[Optional(), Length(max=200)])
    department_id = SelectField(_l("담당 부서 (아는 경우)"), coerce=bounded_int, validators=[Optional()])
    dong_id = SelectField(_l("해당 동"), coerce=bounded_int, validators=[Optional()])
    photo = FileField(_l("현장 사진 (PNG, JPG, 5MB 이하, 내부용)"))
    contact_email = EmailField(_l("건의한 주민의 이메일"), validators=[Optional(), Length(max=254)])
    contact_consent = BooleanField(_l("주민이 결과 안내를 위한 이메일 수집·이용에 동의했습니다."))


class ResultForm(FlaskForm):
    summary = TextAreaField(
        _l("공개 결과 요약 (들은 이야기와 후속 조치 부서, 개인정보 없이)"),
        validators=[DataRequired(_l("결과 요약을 입력해 주세요.")), Length(max=5000)],
    )


class TourForm(FlaskForm):
    day = DateField(_l("날짜"), validators=[DataRequired(_l("날짜를 입력해 주세요."))])
    start_time = TimeField(_l("시작 시각"), validators=[DataRequired(_l("시작 시각을 입력해 주세요."))])
    end_time = TimeField(_l("종료 시각"), validators=[DataRequired(_l("종료 시각을 입력해 주세요."))])
    theme_group = SelectField(_l("탐방 유형"))
    theme = StringField(_l("주제"), validators=[DataRequired(_l("주제를 입력해 주세요.")), Length(max=200)])
    sites = TextAreaField(
        _l("탐방 장소 (한 줄에 하나, 동에 속하면 앞에 행정동코드)"),
        validators=[DataRequired(_l("탐방 장소를 입력해 주세요."))],
    )
    departments = MultiCheckboxField(_l("관련 부서"), coerce=bounded_int)


class UnavailableForm(FlaskForm):
    day = DateField(_l("날짜"), validators=[DataRequired(_l("날짜를 입력해 주세요."))])
    reason = StringField(_l("사유"), validators=[DataRequired(_l("사유를 입력해 주세요.")), Length(max=200)])
