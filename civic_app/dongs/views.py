"""Admin pages for dongs, departments and hosts (reference data)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from wtforms import SelectChoice

from civic_app.dongs.forms import DepartmentForm, DepartmentImportForm, DongForm, DongImportForm, HostForm
from civic_app.dongs.models import Department, Dong, Host
from civic_app.dongs.services import import_departments, import_dongs, save_reference_row
from civic_app.extensions import db
from civic_app.timeutil import utcnow
from civic_app.web.actions import audit, run
from civic_app.web.forms import read_csv_upload
from civic_app.web.policy import ADMIN, roles_required

bp = Blueprint("dongs_admin", __name__, url_prefix="/admin")

# (model, form, template noun, list ordering, audit name)
KINDS = {
    "dongs": (Dong, DongForm, Dong.code),
    "departments": (Department, DepartmentForm, Department.name),
    "hosts": (Host, HostForm, Host.rank),
}


def _titles() -> dict[str, str]:
    return {"dongs": _("행정동"), "departments": _("부서"), "hosts": _("면담 주재자")}


def _prepare(kind: str, form) -> None:
    if kind == "hosts":
        depts = db.session.scalars(select(Department).order_by(Department.name)).all()
        form.department_id.choices = [SelectChoice(0, _("(없음)"))] + [
            SelectChoice(d.id, d.name) for d in depts
        ]
        from civic_app.accounts.models import User, UserRole

        hosts = db.session.scalars(
            select(User)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == "host", User.active.is_(True))
            .order_by(User.name, User.id)
        ).unique()
        form.user_id.choices = [SelectChoice(0, _("(없음)"))] + [
            SelectChoice(u.id, f"{u.name} <{u.email}>") for u in hosts
        ]


IMPORT_FORMS = {"dongs": DongImportForm, "departments": DepartmentImportForm}


def _list_page(kind: str, import_form=None, import_errors=(), status: int = 200):
    model, _form, order = KINDS[kind]
    if import_form is None and kind in IMPORT_FORMS:
        import_form = IMPORT_FORMS[kind]()
    items = db.session.scalars(select(model).order_by(order, model.id)).all()
    return (
        render_template(
            "dongs/admin_list.html",
            kind=kind,
            items=items,
            title=_titles()[kind],
            import_form=import_form,
            import_errors=import_errors,
        ),
        status,
    )


@bp.route("/<any(dongs, departments, hosts):kind>")
@roles_required(ADMIN)
def list_items(kind: str):
    return _list_page(kind)


@bp.route("/dongs/import", methods=["POST"])
@roles_required(ADMIN)
def import_dongs_upload():
    """The CSV import of ``flask dongs import`` as a form: all lines valid, or nothing changes."""
    return _import_upload("dongs", lambda text, now: import_dongs(db.session, text, now=now))


@bp.route("/departments/import", methods=["POST"])
@roles_required(ADMIN)
def import_departments_upload():
    """The CSV import of ``flask departments import`` as a form: all lines valid, or nothing changes."""
    return _import_upload("departments", lambda text, now: import_departments(db.session, text))


def _import_upload(kind: str, load):
    form = IMPORT_FORMS[kind]()
    text = read_csv_upload(form.file) if form.validate_on_submit() else None
    if text is None:
        return _list_page(kind, form, status=400)
    now = utcnow()
    imported = run(
        lambda: load(text, now),
        form=form,
        on_success=lambda result: audit(f"{kind}.import", now=now, target_type=kind, detail=result),
    )
    if not imported.ok:
        return _list_page(kind, form, import_errors=getattr(imported.error, "errors", []), status=400)
    result = imported.value
    flash(_("가져오기 완료: 새로 %(c)d개, 갱신 %(u)d개", c=result["created"], u=result["updated"]), "success")
    return redirect(url_for("dongs_admin.list_items", kind=kind))


@bp.route("/<any(dongs, departments, hosts):kind>/new", methods=["GET", "POST"])
@bp.route("/<any(dongs, departments, hosts):kind>/<int:item_id>", methods=["GET", "POST"])
@roles_required(ADMIN)
def edit_item(kind: str, item_id: int | None = None):
    model, form_cls, _order = KINDS[kind]
    item = db.get_or_404(model, item_id) if item_id else None
    form = form_cls(obj=item)
    _prepare(kind, form)
    now = utcnow()
    verb = "update" if item else "create"

    def save():
        target = item or model()
        save_reference_row(db.session, target, form.populate_obj, new=item is None, now=now)
        return target

    saved = form.validate_on_submit() and run(
        save,
        form=form,
        on_success=lambda row: audit(f"{kind}.{verb}", now=now, target_type=kind, target_id=row.id),
    )
    if saved and saved.ok:
        flash(_("저장했습니다."), "success")
        return redirect(url_for("dongs_admin.list_items", kind=kind))
    status = 400 if request.method == "POST" else 200
    return (
        render_template("dongs/admin_form.html", kind=kind, form=form, item=item, title=_titles()[kind]),
        status,
    )


def init_app(app) -> None:
    from civic_app.registry import NavItem, get_registry

    app.register_blueprint(bp)
    reg = get_registry(app)
    reg.add_nav(
        NavItem(
            lambda: _("기준정보"),
            "dongs_admin.list_items",
            frozenset({ADMIN}),
            910,
            "staff",
            (("kind", "dongs"),),
        )
    )
