from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from civic_app.accounts import services
from civic_app.accounts.roles import ROLES
from civic_app.errors import DomainError
from civic_app.extensions import db
from civic_app.timeutil import utcnow

users_cli = AppGroup("users", help="계정 관리 (Manage accounts).")


@users_cli.command("create")
@click.argument("email")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(ROLES))
@click.option("--name", required=True)
@click.option("--department", "department_code", default=None, help="부서 코드")
def create_user(email: str, roles: tuple[str, ...], name: str, department_code: str | None) -> None:
    """Create a staff account; the password is read from stdin or asked for."""
    from sqlalchemy import select

    from civic_app.dongs.models import Department

    if sys.stdin.isatty():
        password = click.prompt("비밀번호", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\n")
    department_id = None
    if department_code:
        dept = db.session.scalar(select(Department).where(Department.code == department_code))
        if dept is None:
            raise click.ClickException(f"부서 코드를 찾을 수 없습니다: {department_code}")
        department_id = dept.id
    try:
        user = services.create_staff_user(
            db.session,
            email=email,
            name=name,
            password=password,
            roles=list(roles),
            department_id=department_id,
            now=utcnow(),
        )
    except DomainError as error:
        db.session.rollback()
        details = "; ".join(m for _, m in getattr(error, "errors", [])) or error.message
        raise click.ClickException(details) from error
    db.session.commit()
    click.echo(f"계정을 만들었습니다: {user.email} ({', '.join(roles)})")
