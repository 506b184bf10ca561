from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TelField,
)
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from civic_app.accounts.roles import ROLES
from civic_app.web.inputs import bounded_int

ROLE_LABELS = {
    "citizen": _l("시민"),
    "civic_staff": _l("소통민원팀"),
    "budget_office": _l("예산법무과"),
    "policy_office": _l("정책담당관"),
    "department": _l("관련부서"),
    "host": _l("면담 주재자"),
    "committee_secretariat": _l("위원회 사무국"),
    "committee_member": _l("위원"),
    "admin": _l("관리자"),
}


class LoginForm(FlaskForm):
    email = EmailField(
        _l("이메일"), validators=[DataRequired(_l("이메일을 입력해 주세요.")), Length(max=254)]
    )
    password = PasswordField(_l("비밀번호"), validators=[DataRequired(_l("비밀번호를 입력해 주세요."))])
    remember = BooleanField(_l("로그인 상태 유지"))


class RegisterForm(FlaskForm):
    name = StringField(_l("이름"), validators=[DataRequired(_l("이름을 입력해 주세요.")), Length(max=50)])
    email = EmailField(
        _l("이메일"),
        validators=[
            DataRequired(_l("이메일을 입력해 주세요.")),
            Email(_l("이메일 형식이 올바르지 않습니다."), check_deliverability=False),
            Length(max=254),
        ],
    )
    phone = TelField(
        _l("휴대전화"), validators=[DataRequired(_l("휴대전화 번호를 입력해 주세요.")), Length(max=20)]
    )
    password = PasswordField(
        _l("비밀번호 (10자 이상)"),
        validators=[
            DataRequired(_l("비밀번호를 입력해 주세요.")),
            Length(min=10, max=200, message=_l("비밀번호는 10자 이상이어야 합니다.")),
        ],
    )
    password_confirm = PasswordField(
        _l("비밀번호 확인"),
        validators=[EqualTo("password", _l("비밀번호가 서로 다릅니다."))],
    )
    privacy_consent = BooleanField(_l("[필수] 개인정보 수집·이용에 동의합니다."))
    optional_consent = BooleanField(_l("[선택] 소통 소식 안내 메일 수신에 동의합니다."))


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        _l("이메일"), validators=[DataRequired(_l("이메일을 입력해 주세요.")), Length(max=254)]
    )


class ResetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("새 비밀번호 (10자 이상)"),
        validators=[
            DataRequired(_l("비밀번호를 입력해 주세요.")),
            Length(min=10, max=200, message=_l("비밀번호는 10자 이상이어야 합니다.")),
        ],
    )
    password_confirm = PasswordField(
        _l("새 비밀번호 확인"), validators=[EqualTo("password", _l("비밀번호가 서로 다릅니다."))]
    )


class ChangePasswordForm(ResetPasswordForm):
    current_password = PasswordField(
        _l("현재 비밀번호"), validators=[DataRequired(_l("현재 비밀번호를 입력해 주세요."))]
    )


class StaffUserForm(FlaskForm):
    name = StringField(_l("이름"), validators=[DataRequired(_l("이름을 입력해 주세요.")), Length(max=50)])
    email = EmailField(
        _l("이메일"),
        validators=[
            DataRequired(_l("이메일을 입력해 주세요.")),
            Email(_l("이메일 형식이 올바르지 않습니다."), check_deliverability=False),
        ],
    )
    password = PasswordField(
        _l("초기 비밀번호 (10자 이상)"),
        validators=[
            DataRequired(_l("비밀번호를 입력해 주세요.")),
            Length(min=10, max=200, message=_l("비밀번호는 10자 이상이어야 합니다.")),
        ],
    )
    roles = SelectMultipleField(
        _l("역할"),
        choices=[SelectChoice(r, ROLE_LABELS[r]) for r in ROLES],
        validators=[DataRequired(_l("역할을 하나 이상 고르세요."))],
    )
    department_id = SelectField(_l("소속 부서"), coerce=bounded_int, validators=[Optional()])


class RolesForm(FlaskForm):
    roles = SelectMultipleField(_l("역할"), choices=[SelectChoice(r, ROLE_LABELS[r]) for r in ROLES])
    active = BooleanField(_l("사용 중"))


class DeleteAccountForm(FlaskForm):
    """회원 탈퇴: the password again and an explicit confirmation."""

    password = PasswordField(_l("비밀번호"), validators=[DataRequired(_l("비밀번호를 입력해 주세요."))])
    confirm = BooleanField(_l("탈퇴하면 개인정보가 바로 파기되고 되돌릴 수 없다는 것을 확인했습니다."))
