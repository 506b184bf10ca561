from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from civic_app.web.inputs import BoundedIntegerField, bounded_int


class DongForm(FlaskForm):
    code = StringField(
        _l("행정동코드 (10자리)"),
        validators=[
            DataRequired(_l("행정동코드를 입력해 주세요.")),
            Regexp(r"^\d{10}$", message=_l("행정동코드는 숫자 10자리여야 합니다.")),
        ],
    )
    name = StringField(
        _l("동 이름"), validators=[DataRequired(_l("동 이름을 입력해 주세요.")), Length(max=50)]
    )
    contested_area = BooleanField(_l("주요 현안·쟁점민원 지역"))
    natural_village = BooleanField(_l("자연부락"))
    outlying_area = BooleanField(_l("소외·외곽지역"))
    active = BooleanField(_l("사용 중"), default=True)


class DepartmentForm(FlaskForm):
    code = StringField(
        _l("부서 코드"), validators=[DataRequired(_l("부서 코드를 입력해 주세요.")), Length(max=20)]
    )
    name = StringField(
        _l("부서 이름"), validators=[DataRequired(_l("부서 이름을 입력해 주세요.")), Length(max=100)]
    )
    field = StringField(_l("담당 분야"), validators=[Optional(), Length(max=50)])
    active = BooleanField(_l("사용 중"), default=True)


class HostForm(FlaskForm):
    title = StringField(_l("직위"), validators=[DataRequired(_l("직위를 입력해 주세요.")), Length(max=100)])
    person_name = StringField(_l("성명"), validators=[Optional(), Length(max=100)])
    rank = BoundedIntegerField(
        _l("서열 (1 시장, 2 부시장, 3 실·국·소장)"),
        validators=[
            DataRequired(_l("서열을 입력해 주세요.")),
            NumberRange(1, 3, _l("서열은 1에서 3 사이입니다.")),
        ],
    )
    department_id = SelectField(_l("소관 부서"), coerce=bounded_int, validators=[Optional()])
    field = StringField(_l("담당 분야"), validators=[Optional(), Length(max=50)])
    # The host's own account (role "host"): its schedule page and calendar feed show the meetings.
    user_id = SelectField(
        _l("연결된 계정 (면담 주재자 역할)"), coerce=int, validators=[Optional()], validate_choice=False
    )
    active = BooleanField(_l("사용 중"), default=True)

    def validate_user_id(self, field) -> None:
        from wtforms.validators import ValidationError

        if field.data and field.data not in {c.value for c in field.choices or []}:
            raise ValidationError(_l("면담 주재자 역할이 있는 계정만 연결할 수 있습니다."))


class DongImportForm(FlaskForm):
    file = FileField(
        _l("CSV 파일 (code,name,contested_area,natural_village,outlying_area)"),
        validators=[
            FileRequired(_l("CSV 파일을 고르세요.")),
            FileAllowed(["csv"], _l("확장자가 .csv인 파일만 올릴 수 있습니다.")),
        ],
    )


class DepartmentImportForm(FlaskForm):
    file = FileField(
        _l("CSV 파일 (code,name)"),
        validators=[
            FileRequired(_l("CSV 파일을 고르세요.")),
            FileAllowed(["csv"], _l("확장자가 .csv인 파일만 올릴 수 있습니다.")),
        ],
    )
