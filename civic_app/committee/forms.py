"""Flask-WTF forms of the committee pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional

from civic_app.committee.labels import (
    AFFILIATION_LABELS,
    AGE_BAND_LABELS,
    GENDER_LABELS,
    MEETING_KIND_LABELS,
    MEMBERSHIP_LABELS,
    POSITION_LABELS,
)
from civic_app.web.inputs import BoundedIntegerField, bounded_int


def _choices(labels: dict, blank: bool = False) -> list:
    items = [SelectChoice(value, text) for value, text in labels.items()]
    return [SelectChoice("", _l("(기록 안 함)")), *items] if blank else items


class ActionForm(FlaskForm):
    """A button that changes state: only the CSRF token."""


class OpenQuarterForm(FlaskForm):
    year = BoundedIntegerField(
        _l("연도"),
        validators=[
            InputRequired(_l("연도를 입력해 주세요.")),
            NumberRange(2000, 2100, _l("연도는 2000~2100 사이여야 합니다.")),
        ],
    )
    quarter = SelectField(
        _l("분기"),
        choices=[SelectChoice(n, _l("%(n)d분기", n=n)) for n in (1, 2, 3, 4)],
        coerce=bounded_int,
    )
    deadline = DateField(_l("보고 마감일"), validators=[InputRequired(_l("마감일을 입력해 주세요."))])


class EntryForm(FlaskForm):
    progress_text = TextAreaField(
        _l("추진상황"), validators=[DataRequired(_l("추진상황을 입력해 주세요.")), Length(max=5000)]
    )
    progress_pct = BoundedIntegerField(
        _l("진척률 (%)"),
        validators=[
            InputRequired(_l("진척률을 입력해 주세요.")),
            NumberRange(0, 100, _l("진척률은 0에서 100 사이의 정수여야 합니다.")),
        ],
    )
    issues = TextAreaField(_l("문제점·건의사항"), validators=[Optional(), Length(max=5000)])
    next_steps = TextAreaField(_l("향후 계획"), validators=[Optional(), Length(max=5000)])


class PublishForm(FlaskForm):
    summary = TextAreaField(_l("총평 (공개)"), validators=[Optional(), Length(max=2000)])
    note = TextAreaField(_l("정정 사유 (공개)"), validators=[Optional(), Length(max=2000)])
    confirm = BooleanField(
        _l("위 내용을 확인했고, 이대로 공개합니다."),
        validators=[DataRequired(_l("공개하려면 확인란에 표시해 주세요."))],
    )


class EvaluationRoundForm(FlaskForm):
    year = BoundedIntegerField(
        _l("연도"),
        validators=[
            InputRequired(_l("연도를 입력해 주세요.")),
            NumberRange(2000, 2100, _l("연도는 2000~2100 사이여야 합니다.")),
        ],
    )
    half = SelectField(
        _l("반기"), choices=[SelectChoice(1, _l("상반기")), SelectChoice(2, _l("하반기"))], coerce=bounded_int
    )


class EvaluationForm(FlaskForm):
    score = SelectField(
        _l("점수 (1~5)"),
        choices=[SelectChoice(n, str(n)) for n in (5, 4, 3, 2, 1)],
        coerce=bounded_int,
        validators=[InputRequired(_l("점수를 골라 주세요."))],
    )
    comment = TextAreaField(_l("의견"), validators=[Optional(), Length(max=2000)])


class ReviewForm(FlaskForm):
    title = StringField(
        _l("중간점검 제목"), validators=[DataRequired(_l("제목을 입력해 주세요.")), Length(max=200)]
    )


class MemberForm(FlaskForm):
    name = StringField(_l("성명"), validators=[DataRequired(_l("성명을 입력해 주세요.")), Length(max=100)])
    position = SelectField(_l("직위"), choices=_choices(POSITION_LABELS))
    membership = SelectField(_l("구분"), choices=_choices(MEMBERSHIP_LABELS))
    affiliation = SelectField(_l("소속 유형"), choices=_choices(AFFILIATION_LABELS))
    subcommittee_id = SelectField(_l("분과"), coerce=bounded_int)
    term_start = DateField(_l("임기 시작일"), validators=[InputRequired(_l("임기 시작일을 입력해 주세요."))])
    term_end = DateField(_l("임기 종료일"), validators=[InputRequired(_l("임기 종료일을 입력해 주세요."))])
    gender = SelectField(_l("성별 (선택)"), choices=_choices(GENDER_LABELS, blank=True))
    age_band = SelectField(_l("연령대 (선택)"), choices=_choices(AGE_BAND_LABELS, blank=True))
    email = StringField(
        _l("연락 이메일 (비공개)"),
        validators=[Optional(), Email(_l("이메일 형식이 아닙니다.")), Length(max=254)],
    )
    phone = StringField(_l("연락처 (비공개)"), validators=[Optional(), Length(max=30)])
    account_email = StringField(
        _l("연결할 위원 계정 이메일 (선택)"),
        validators=[Optional(), Email(_l("이메일 형식이 아닙니다.")), Length(max=254)],
    )
    active = BooleanField(_l("재임 중"), default=True)


class MeetingForm(FlaskForm):
    kind = SelectField(_l("회의 종류"), choices=_choices(MEETING_KIND_LABELS))
    title = StringField(
        _l("회의 제목"), validators=[DataRequired(_l("회의 제목을 입력해 주세요.")), Length(max=200)]
    )
    day = DateField(_l("날짜"), validators=[InputRequired(_l("날짜를 입력해 주세요."))])
    start = TimeField(_l("시작 시각"), validators=[InputRequired(_l("시작 시각을 입력해 주세요."))])
    duration = BoundedIntegerField(
        _l("회의 시간 (분)"),
        default=120,
        validators=[
            InputRequired(_l("회의 시간을 입력해 주세요.")),
            NumberRange(15, 600, _l("15~600분 사이로 입력해 주세요.")),
        ],
    )
    location = StringField(_l("장소"), validators=[Optional(), Length(max=200)])
    agenda = TextAreaField(_l("안건"), validators=[Optional(), Length(max=10000)])


class MinutesForm(FlaskForm):
    minutes = TextAreaField(_l("회의록"), validators=[Optional(), Length(max=50000)])


class AdvisoryForm(FlaskForm):
    code = StringField(
        _l("과제 코드"), validators=[DataRequired(_l("과제 코드를 입력해 주세요.")), Length(max=30)]
    )
    title = StringField(
        _l("자문안건"), validators=[DataRequired(_l("과제명을 입력해 주세요.")), Length(max=300)]
    )
    subcommittee_id = SelectField(_l("분야"), coerce=bounded_int)
    department_id = SelectField(_l("담당 부서"), coerce=bounded_int)


class TaskForm(FlaskForm):
    title = StringField(
        _l("과제명"), validators=[DataRequired(_l("과제명을 입력해 주세요.")), Length(max=300)]
    )
    status = SelectField(
        _l("상태"),
        invalid_choice_message=_l(
            "이 과제의 상태를 그렇게 바꿀 수 없습니다. 대체·통합은 중간점검에서 정합니다."
        ),
    )
    department_id = SelectField(_l("담당 부서"), coerce=bounded_int)
    start_year = BoundedIntegerField(
        _l("추진 연도"),
        validators=[Optional(), NumberRange(2000, 2100, _l("연도는 2000~2100 사이여야 합니다."))],
    )


class TaskImportForm(FlaskForm):
    committee_id = SelectField(_l("위원회"), coerce=int)
    file = FileField(
        _l("CSV 파일 (code,title,field,origin,status,replaced_by,department)"),
        validators=[
            FileRequired(_l("CSV 파일을 고르세요.")),
            FileAllowed(["csv"], _l("확장자가 .csv인 파일만 올릴 수 있습니다.")),
        ],
    )


class CommitteeForm(FlaskForm):
    name = StringField(
        _l("위원회 이름"), validators=[DataRequired(_l("위원회 이름을 입력해 주세요.")), Length(max=100)]
    )
    description = TextAreaField(_l("설명 (선택)"), validators=[Optional(), Length(max=2000)])
    subcommittees = TextAreaField(_l("분과 (한 줄에 하나)"), validators=[Optional(), Length(max=5000)])


class SubCommitteeForm(FlaskForm):
    name = StringField(
        _l("분과 이름"), validators=[DataRequired(_l("분과 이름을 입력해 주세요.")), Length(max=100)]
    )
