"""Forms of the card pages. Every form that changes an item carries the version it saw."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    DateField,
    DecimalField,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from civic_app.cards.models import (
    BUDGET_KIND_LABELS,
    CRITERION_LABELS,
    MILESTONE_LABELS,
    RECOMMENDATION_LABELS,
)
from civic_app.web.inputs import BoundedIntegerField, bounded_int

SCORE_CHOICES = [SelectChoice(n, str(n)) for n in range(1, 6)]


def choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


class VersionedForm(FlaskForm):
    version = HiddenField()

    @property
    def expected_version(self) -> int | None:
        try:
            return int(self.version.data)
        except (TypeError, ValueError):
            return None


class ItemForm(VersionedForm):
    dong_id = SelectField(_l("동"), coerce=bounded_int, validators=[DataRequired(_l("동을 골라 주세요."))])
    title = StringField(_l("제목"), validators=[DataRequired(_l("제목을 입력해 주세요.")), Length(max=200)])
    description = TextAreaField(_l("내용"), validators=[Optional(), Length(max=4000)])
    category = SelectField(_l("분류"), validators=[DataRequired(_l("분류를 골라 주세요."))])
    location = StringField(_l("위치"), validators=[Optional(), Length(max=200)])
    source_kind = SelectField(
        _l("접수 경로"),
        choices=choices([("walk_in", _l("방문 접수")), ("staff", _l("직원 입력"))]),
        default="staff",
    )
    department_id = SelectField(_l("담당 부서"), coerce=bounded_int, validators=[Optional()])
    estimated_cost = BoundedIntegerField(
        _l("예상 사업비 (원)"),
        validators=[Optional(), NumberRange(0, 10**13, _l("0원 이상 10조원 이하로 입력해 주세요."))],
    )


class ReviewForm(VersionedForm):
    party = HiddenField()
    feasibility = RadioField(CRITERION_LABELS["feasibility"], choices=SCORE_CHOICES, coerce=bounded_int)
    legality = RadioField(CRITERION_LABELS["legality"], choices=SCORE_CHOICES, coerce=bounded_int)
    urgency = RadioField(CRITERION_LABELS["urgency"], choices=SCORE_CHOICES, coerce=bounded_int)
    safety = RadioField(CRITERION_LABELS["safety"], choices=SCORE_CHOICES, coerce=bounded_int)
    beneficiaries = RadioField(CRITERION_LABELS["beneficiaries"], choices=SCORE_CHOICES, coerce=bounded_int)
    cost_estimate = BoundedIntegerField(
        _l("추정 사업비 (원)"),
        validators=[Optional(), NumberRange(0, 10**13, _l("0원 이상 10조원 이하로 입력해 주세요."))],
    )
    recommendation = SelectField(
        _l("권고"), choices=choices(RECOMMENDATION_LABELS.items()), validators=[DataRequired()]
    )
    comment = TextAreaField(_l("내부 의견 (공개되지 않음)"), validators=[Optional(), Length(max=4000)])

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in ("feasibility", "legality", "urgency", "safety", "beneficiaries"):
            getattr(self, name).validators = [InputRequired(_l("1에서 5 사이의 점수를 골라 주세요."))]


class TransitionForm(VersionedForm):
    target = HiddenField(validators=[DataRequired()])
    reason = TextAreaField(_l("사유 (공개)"), validators=[Optional(), Length(max=2000)])
    rank = BoundedIntegerField(_l("순위"), validators=[Optional(), NumberRange(1, 100000)])
    referred_to = StringField(_l("이송 기관"), validators=[Optional(), Length(max=200)])
    fiscal_year = BoundedIntegerField(_l("회계연도"), validators=[Optional(), NumberRange(2000, 2100)])
    budget_kind = SelectField(
        _l("예산 구분"), choices=choices(BUDGET_KIND_LABELS.items()), validators=[Optional()]
    )
    amount = BoundedIntegerField(_l("반영 금액 (원)"), validators=[Optional(), NumberRange(1, 10**13)])
    budget_line = StringField(_l("예산과목"), validators=[Optional(), Length(max=200)])


class OverrideForm(VersionedForm):
    score = DecimalField(
        _l("조정 점수 (비우면 조정 해제)"), places=2, validators=[Optional(), NumberRange(0, 1000)]
    )
    reason = TextAreaField(_l("조정 사유"), validators=[Optional(), Length(max=2000)])


class CommentForm(FlaskForm):
    body = TextAreaField(
        _l("내부 의견"), validators=[DataRequired(_l("의견을 입력해 주세요.")), Length(max=4000)]
    )


class MergeForm(VersionedForm):
    target_id = BoundedIntegerField(
        _l("합칠 대상 항목 번호"), validators=[DataRequired(_l("대상 항목 번호를 입력해 주세요."))]
    )
    reason = TextAreaField(_l("사유"), validators=[Optional(), Length(max=2000)])


class SplitForm(VersionedForm):
    title_1 = StringField(_l("첫째 항목 제목"), validators=[Optional(), Length(max=200)])
    cost_1 = BoundedIntegerField(
        _l("첫째 항목 예상 사업비 (원)"), validators=[Optional(), NumberRange(0, 10**13)]
    )
    title_2 = StringField(_l("둘째 항목 제목"), validators=[Optional(), Length(max=200)])
    cost_2 = BoundedIntegerField(
        _l("둘째 항목 예상 사업비 (원)"), validators=[Optional(), NumberRange(0, 10**13)]
    )
    title_3 = StringField(_l("셋째 항목 제목 (선택)"), validators=[Optional(), Length(max=200)])
    cost_3 = BoundedIntegerField(
        _l("셋째 항목 예상 사업비 (원)"), validators=[Optional(), NumberRange(0, 10**13)]
    )
    reason = TextAreaField(_l("사유"), validators=[Optional(), Length(max=2000)])

    def parts(self) -> list[dict]:
        return [
            {"title": getattr(self, f"title_{n}").data, "estimated_cost": getattr(self, f"cost_{n}").data}
            for n in (1, 2, 3)
        ]


class EnvelopeForm(FlaskForm):
    amount = BoundedIntegerField(
        _l("예산 총액 (원)"),
        validators=[
            DataRequired(_l("예산 총액을 입력해 주세요.")),
            NumberRange(1, 10**13, _l("1원 이상 10조원 이하로 입력해 주세요.")),
        ],
    )


class CarryOverForm(FlaskForm):
    from_year = BoundedIntegerField(
        _l("이월할 회계연도"),
        validators=[DataRequired(_l("회계연도를 입력해 주세요.")), NumberRange(2000, 2100)],
    )


class SettingsForm(FlaskForm):
    weight_feasibility = DecimalField(
        CRITERION_LABELS["feasibility"], places=2, validators=[InputRequired(), NumberRange(0, 10)]
    )
    weight_legality = DecimalField(
        CRITERION_LABELS["legality"], places=2, validators=[InputRequired(), NumberRange(0, 10)]
    )
    weight_urgency = DecimalField(
        CRITERION_LABELS["urgency"], places=2, validators=[InputRequired(), NumberRange(0, 10)]
    )
    weight_safety = DecimalField(
        CRITERION_LABELS["safety"], places=2, validators=[InputRequired(), NumberRange(0, 10)]
    )
    weight_beneficiaries = DecimalField(
        CRITERION_LABELS["beneficiaries"], places=2, validators=[InputRequired(), NumberRange(0, 10)]
    )
    dong_flag_bonus = DecimalField(
        _l("동 우선지역 가산점 (플래그 하나당)"), places=2, validators=[InputRequired(), NumberRange(0, 100)]
    )
    review_deadline_days = BoundedIntegerField(
        _l("검토 기한 (근무일)"), validators=[InputRequired(), NumberRange(1, 365)]
    )


class CategoryForm(FlaskForm):
    name = StringField(
        _l("새 분류 이름"), validators=[DataRequired(_l("분류 이름을 입력해 주세요.")), Length(max=40)]
    )


class MilestoneForm(FlaskForm):
    kind = SelectField(
        _l("집행 단계"),
        choices=choices(MILESTONE_LABELS.items()),
        validators=[DataRequired(_l("단계를 골라 주세요."))],
    )
    day = DateField(_l("날짜"), validators=[DataRequired(_l("날짜를 입력해 주세요."))])
    note = StringField(_l("설명 (공개)"), validators=[Optional(), Length(max=500)])
    photo = FileField(_l("사진 (PNG, JPG, 5MB 이하, 공개)"))


class PhotoForm(FlaskForm):
    photo = FileField(_l("현장 사진 (PNG, JPG, 5MB 이하, 내부용)"))
    caption = StringField(_l("사진 설명"), validators=[Optional(), Length(max=200)])


class BulkReflectForm(FlaskForm):
    """Act on several ranked items at once: reflect them (one fiscal year, kind and 예산과목 for
    all, each with its own amount) or send them to 장기검토 (one public reason). Each goes
    through the same transition as one by one."""

    fiscal_year = BoundedIntegerField(
        _l("회계연도"),
        validators=[DataRequired(_l("회계연도를 입력해 주세요.")), NumberRange(2000, 2100)],
    )
    budget_kind = SelectField(
        _l("예산 구분"), choices=choices(BUDGET_KIND_LABELS.items()), validators=[DataRequired()]
    )
    budget_line = StringField(_l("예산과목"), validators=[Optional(), Length(max=200)])
    reason = TextAreaField(_l("장기검토 사유 (공개)"), validators=[Optional(), Length(max=2000)])
