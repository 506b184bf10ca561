from __future__ import annotations

import json

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import or_, select
from wtforms import SelectChoice

from civic_app.accounts import rights, services
from civic_app.accounts.forms import (
    ROLE_LABELS,
    ChangePasswordForm,
    DeleteAccountForm,
    ForgotPasswordForm,
    LoginForm,
    RegisterForm,
    ResetPasswordForm,
    RolesForm,
    StaffUserForm,
)
from civic_app.accounts.models import User
from civic_app.accounts.roles import ADMIN
from civic_app.audit.services import VIEW_PERSONAL_DATA
from civic_app.dongs.models import Department
from civic_app.errors import DomainError
from civic_app.extensions import db, limiter
from civic_app.storage import storage
from civic_app.timeutil import utcnow
from civic_app.web.actions import audit
from civic_app.web.forms import apply_domain_error
from civic_app.web.i18n import LANG_COOKIE
from civic_app.web.inputs import query_int
from civic_app.web.policy import public, roles_required, signed_in
from civic_app.web.redirects import safe_next

bp = Blueprint("accounts", __name__)


def _safe_next(target: str | None) -> str:
    """A local path to go back to; anything that could leave the site goes home instead."""
    return safe_next(target, url_for("public.home"))


def rotate_csrf_token() -> None:
    """A new CSRF token for the new privilege level: one planted or read before sign-in (a
    shared computer, a fixated session) must not be valid for the signed-in session."""
    from flask import g, session

    session.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)


def _login_account_key() -> str:
    return "login-account:" + (request.form.get("email") or "").strip().lower()


def _mail_links() -> dict:
    """What a service needs for the signed links in the e-mails it queues."""
    return {"secret_key": current_app.config["SECRET_KEY"], "base_url": current_app.config["PUBLIC_BASE_URL"]}


def _mail_form(rule: str, post_limit: str):
    """A public form page (GET and POST) whose POST sends e-mail: at most ``post_limit`` posts
    (e.g. "10 per hour") from one address."""

    def register_view(view):
        limited = limiter.limit(post_limit, methods=["POST"])(view)
        return bp.route(rule, methods=["GET", "POST"])(public(limited))

    return register_view


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT_ADDRESS"], methods=["POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT_ACCOUNT"],
    key_func=_login_account_key,
    methods=["POST"],
    scope="login-account",
)
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = services.find_user_by_email(db.session, form.email.data)
        if services.verify_password(user, form.password.data) and user.is_active:
            user.last_login_at = utcnow()
            db.session.commit()
            login_user(user, remember=form.remember.data)
            rotate_csrf_token()
            flash(_("로그인했습니다."), "success")
            return redirect(_safe_next(request.args.get("next")))
        form.password.errors = [_("이메일 또는 비밀번호가 맞지 않습니다.")]
    return render_template(
        "accounts/login.html", form=form
    ), 200 if request.method == "GET" or form.errors == {} else 400


@bp.route("/logout", methods=["POST"])
@signed_in
def logout():
    services.end_all_sessions(db.session, current_user._get_current_object())
    db.session.commit()
    logout_user()
    flash(_("로그아웃했습니다."), "success")
    return redirect(url_for("public.home"))


@_mail_form("/register", "30 per hour")
def register():
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            services.register_citizen(
                db.session,
                name=form.name.data,
                email=form.email.data,
                phone=form.phone.data,
                password=form.password.data,
                privacy_consent=form.privacy_consent.data,
                optional_consent=form.optional_consent.data,
                now=utcnow(),
                **_mail_links(),
                # The cookie is client data: keep it only when it names a supported language.
                locale=request.cookies.get(LANG_COOKIE)
                if request.cookies.get(LANG_COOKIE) in current_app.config["LANGUAGES"]
                else None,
            )
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            # The same answer whether or not the address already had an account (then the
            # service made none and e-mailed its owner): the page must not tell which
            # addresses are registered. So nobody is signed in here; the citizen signs in next.
            db.session.commit()
            flash(
                _(
                    "가입 신청을 받았습니다. 이메일로 보낸 안내를 확인한 뒤 로그인해 주세요. "
                    "이미 가입된 주소라면 그 주소로 안내 메일을 보냈습니다."
                ),
                "success",
            )
            return redirect(url_for("accounts.login"))
    elif request.method == "POST" and not form.privacy_consent.data:
        form.privacy_consent.errors = [_("개인정보 수집·이용에 동의해야 가입할 수 있습니다.")]
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/register.html", form=form), status


def _token_user(token: str, purpose: str, max_age_setting: str):
    """The account a signed link (``purpose``: verify | reset) names, or None with the reason
    (expired, already used, tampered) flashed."""
    try:
        return services.read_token(
            db.session,
            current_app.config["SECRET_KEY"],
            purpose,
            token,
            current_app.config[max_age_setting],
        )
    except DomainError as error:
        flash(error.message, "error")
        return None


@bp.route("/account/verify/<token>")
@public
def verify(token: str):
    user = _token_user(token, "verify", "EMAIL_VERIFY_MAX_AGE")
    if user is None:
        return render_template("accounts/verify_result.html", ok=False), 400
    services.verify_email(db.session, user, now=utcnow())
    db.session.commit()
    flash(_("이메일 주소가 확인되었습니다."), "success")
    return render_template("accounts/verify_result.html", ok=True)


@_mail_form("/account/forgot", "10 per hour")
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(db.session, form.email.data, now=utcnow(), **_mail_links())
        db.session.commit()
        flash(_("가입된 주소라면 비밀번호 재설정 메일을 보냈습니다."), "success")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/forgot.html", form=form)


@bp.route("/account/reset/<token>", methods=["GET", "POST"])
@public
def reset_password(token: str):
    user = _token_user(token, "reset", "PASSWORD_RESET_MAX_AGE")
    if user is None:
        return redirect(url_for("accounts.forgot_password"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.set_password(db.session, user, form.password.data)
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            db.session.commit()
            logout_user()
            flash(_("비밀번호를 바꿨습니다. 새 비밀번호로 로그인해 주세요."), "success")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/reset.html", form=form)


def _account_page(form: ChangePasswordForm):
    return render_template(
        "accounts/account.html",
        form=form,
        role_labels=ROLE_LABELS,
        can_self_delete=rights.can_self_delete(current_user),
    )


@bp.route("/account")
@signed_in
def account():
    return _account_page(ChangePasswordForm())


@bp.route("/account/verify/resend", methods=["POST"])
@signed_in
@limiter.limit("5 per hour")
def resend_verification():
    if current_user.email_verified_at is None:
        user = current_user._get_current_object()
        services.queue_verification_email(db.session, user, now=utcnow(), **_mail_links())
        db.session.commit()
        flash(_("확인 메일을 다시 보냈습니다."), "success")
    return redirect(url_for("accounts.account"))


@bp.route("/account/data", methods=["POST"])
@signed_in
@limiter.limit("10 per hour")
def export_data():
    """열람·전송: the citizen's data as one JSON file (a POST: it is personal data, so no link
    another site could make the browser fetch)."""
    data = rights.export_user_data(
        db.session, current_user._get_current_object(), now=utcnow(), ip=request.remote_addr
    )
    db.session.commit()
    body = json.dumps(data, ensure_ascii=False, indent=2)
    response = current_app.response_class(body, mimetype="application/json")
    response.headers["Content-Disposition"] = 'attachment; filename="my-civic-data.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/account/delete", methods=["GET", "POST"])
@signed_in
@limiter.limit("10 per hour", methods=["POST"])
def delete_account():
    """회원 탈퇴 with the password again: personal data destroyed at once, public records kept
    anonymised, requests in progress withdrawn (staff told)."""
    form = DeleteAccountForm()
    allowed = rights.can_self_delete(current_user)
    if allowed and form.validate_on_submit():
        try:
            files = rights.delete_account(
                db.session,
                current_user._get_current_object(),
                password=form.password.data,
                confirmed=bool(form.confirm.data),
                now=utcnow(),
                ip=request.remote_addr,
                staff_email=current_app.config.get("TONGTONG_STAFF_EMAIL"),
                upload_dir=storage().folder("meeting_uploads"),
            )
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            db.session.commit()
            for path in files:  # after the commit: a rolled-back deletion keeps its files
                path.unlink(missing_ok=True)
            logout_user()
            flash(_("탈퇴했습니다. 개인정보를 파기했습니다. 그동안 이용해 주셔서 감사합니다."), "success")
            return redirect(url_for("public.home"))
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/delete.html", form=form, allowed=allowed), status


@bp.route("/account/password", methods=["POST"])
@signed_in
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(
                db.session, current_user._get_current_object(), form.current_password.data, form.password.data
            )
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            db.session.commit()
            # Keep this session (the cookie gets the new token); the others end with the old one.
            login_user(current_user._get_current_object())
            flash(_("비밀번호를 바꿨습니다. 다른 기기의 로그인은 해제되었습니다."), "success")
            return redirect(url_for("accounts.account"))
    return _account_page(form), 400


def _check_language_switch() -> None:
    """CSRF for the language switch. Signed-in users and visitors with a session send the
    usual token. An anonymous visitor on a page without a form has no token (pages give one
    only when a form needs it, so a reader gets no session cookie); their switch only sets a
    cookie in their own browser, and a cross-site form posting here is refused by its origin:
    browsers send ``Origin`` (or at least ``Referer``) with every cross-origin POST."""
    from urllib.parse import urlsplit

    from flask import session
    from flask_wtf.csrf import CSRFError

    from civic_app.extensions import csrf

    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    if current_user.is_authenticated or request.form.get(field) or field in session:
        csrf.protect()
        return
    source = urlsplit(request.headers.get("Origin") or request.headers.get("Referer") or "")
    here = urlsplit(request.host_url)
    if not source.netloc or (source.scheme, source.netloc) != (here.scheme, here.netloc):
        raise CSRFError("The CSRF token is missing.")


@bp.route("/lang", methods=["POST"])
@public
def set_language():
    _check_language_switch()
    lang = request.form.get("lang", "")
    if lang not in current_app.config["LANGUAGES"]:
        abort(400)
    if current_user.is_authenticated:
        current_user.locale = lang
        db.session.commit()
    response = redirect(_safe_next(request.form.get("next")))
    response.set_cookie(
        LANG_COOKIE,
        lang,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
    )
    return response


# --- admin: staff accounts ----------------------------------------------------------------


def _department_choices() -> list[SelectChoice]:
    rows = db.session.scalars(select(Department).order_by(Department.name)).all()
    return [SelectChoice(0, _("(없음)"))] + [SelectChoice(d.id, d.name) for d in rows]


USERS_PER_PAGE = 50


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


@bp.route("/admin/users")
@roles_required(ADMIN)
def admin_users():
    """Accounts, 50 a page, searchable by name or e-mail. Names and e-mails of citizens are
    personal data: every view writes an access-log row naming the accounts shown."""
    q = (request.args.get("q") or "").strip()[:100]
    query = select(User).order_by(User.id)
    if q:
        pattern = _like(q)
        query = query.where(
            or_(User.name.ilike(pattern, escape="\\"), User.email.ilike(pattern, escape="\\"))
        )
    page = db.paginate(query, page=query_int("page", 1), per_page=USERS_PER_PAGE, error_out=False)
    args = {"q": q} if q else {}
    # Rendered before the commit, which would expire the 50 accounts (one reload each).
    body = render_template(
        "accounts/admin_users.html", users=page.items, page=page, q=q, args=args, role_labels=ROLE_LABELS
    )
    audit(
        VIEW_PERSONAL_DATA,
        now=utcnow(),
        target_type="user_list",
        detail={"q": q, "page": page.page, "user_ids": [u.id for u in page.items]},
    )
    db.session.commit()
    return body


@bp.route("/admin/users/new", methods=["GET", "POST"])
@roles_required(ADMIN)
def admin_user_new():
    form = StaffUserForm()
    form.department_id.choices = _department_choices()
    if form.validate_on_submit():
        now = utcnow()
        try:
            user = services.create_staff_user(
                db.session,
                email=form.email.data,
                name=form.name.data,
                password=form.password.data,
                roles=form.roles.data,
                department_id=form.department_id.data or None,
                now=now,
            )
            audit(
                "user.create",
                now=now,
                target_type="user",
                target_id=user.id,
                detail={"roles": form.roles.data},
            )
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash(_("계정을 만들었습니다."), "success")
            return redirect(url_for("accounts.admin_users"))
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/admin_user_form.html", form=form), status


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@roles_required(ADMIN)
def admin_user_edit(user_id: int):
    user = db.get_or_404(User, user_id)
    form = RolesForm(obj=None)
    if request.method == "GET":
        form.roles.data = sorted(user.role_set)
        form.active.data = user.active
    if form.validate_on_submit():
        now = utcnow()
        services.set_roles(db.session, user, form.roles.data or [])
        if user.active != form.active.data:
            user.active = form.active.data
            services.end_all_sessions(db.session, user)
        audit(
            "user.update",
            now=now,
            target_type="user",
            target_id=user.id,
            detail={"roles": form.roles.data, "active": form.active.data},
        )
        db.session.commit()
        flash(_("저장했습니다."), "success")
        return redirect(url_for("accounts.admin_users"))
    audit(VIEW_PERSONAL_DATA, now=utcnow(), target_type="user", target_id=user.id)
    db.session.commit()
    return render_template("accounts/admin_user_edit.html", form=form, user=user)


def init_app(app) -> None:
    from civic_app.extensions import csrf
    from civic_app.registry import NavItem, get_registry

    csrf.exempt(set_language)  # it checks the token itself (or the origin, see above)
    app.register_blueprint(bp)
    reg = get_registry(app)
    reg.add_nav(NavItem(lambda: _("계정 관리"), "accounts.admin_users", frozenset({ADMIN}), 900, "staff"))
