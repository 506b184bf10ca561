"""Core demo data: 39 dongs of a fictional city, departments, hosts, one account per role."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from civic_app.accounts.models import User
from civic_app.accounts.services import create_staff_user
from civic_app.dongs.models import Department, Dong, Host

CITY_NAME = "한빛시"
# (name, contested_area, natural_village, outlying_area)
DEMO_DONGS: list[tuple[str, bool, bool, bool]] = [
    ("중앙동", True, False, False),
    ("신흥동", False, False, False),
    ("태평동", False, False, False),
    ("수진동", True, False, False),
    ("단대동", False, False, False),
    ("산성동", False, True, True),
    ("양지동", False, False, False),
    ("복정동", False, False, True),
    ("위례동", True, False, False),
    ("신촌동", False, True, False),
    ("고등동", False, True, True),
    ("시흥동", False, False, True),
    ("은행동", False, False, False),
    ("금광동", False, False, False),
    ("상대원동", True, False, False),
    ("하대원동", False, False, False),
    ("도촌동", False, False, True),
    ("성남동", False, False, False),
    ("금곡동", False, False, False),
    ("정자동", False, False, False),
    ("서현동", False, False, False),
    ("이매동", False, False, False),
    ("야탑동", False, False, False),
    ("판교동", True, False, False),
    ("삼평동", False, False, False),
    ("백현동", False, False, False),
    ("운중동", False, True, True),
    ("구미동", False, False, False),
    ("분당동", False, False, False),
    ("수내동", False, False, False),
    ("율동", False, True, False),
    ("동원동", False, True, True),
    ("대장동", True, True, False),
    ("석운동", False, True, True),
    ("궁내동", False, False, False),
    ("청계동", False, False, False),
    ("내곡동", False, False, True),
    ("신월동", False, False, False),
    ("호반동", False, False, False),
]
DEMO_DEPARTMENTS: list[tuple[str, str, str | None]] = [
    ("AUDIT", "감사관", None),
    ("COMM", "소통민원팀", None),
    ("BUDGET", "예산법무과", "예산"),
    ("POLICY", "정책담당관", "정책"),
    ("ROAD", "도로과", "도로·교통"),
    ("TRAFFIC", "교통정책과", "도로·교통"),
    ("SAFETY", "안전총괄과", "안전"),
    ("ENV", "환경정책과", "환경"),
    ("WELFARE", "복지정책과", "복지"),
    ("CULTURE", "문화체육과", "문화·체육"),
    ("ECONOMY", "일자리경제과", "지역경제"),
    ("URBAN", "도시계획과", "도시계획"),
    ("EDU", "교육청소년과", "교육"),
]
# (title, person, rank, department code, field)
DEMO_HOSTS: list[tuple[str, str, int, str | None, str | None]] = [
    ("시장", "김한빛", 1, None, None),
    ("부시장", "이정민", 2, None, None),
    ("안전건설국장", "박도윤", 3, "ROAD", "도로·교통"),
    ("복지문화국장", "최서연", 3, "WELFARE", "복지"),
    ("도시주택국장", "정우진", 3, "URBAN", "도시계획"),
    ("경제환경국장", "한지수", 3, "ENV", "환경"),
]
# One account per role; the passwords are for development only and printed in the README.
DEMO_ACCOUNTS: list[tuple[str, str, list[str], str | None]] = [
    ("admin@demo.civic.kr", "관리자", ["admin"], None),
    ("staff@demo.civic.kr", "소통민원팀 주무관", ["civic_staff"], "COMM"),
    ("budget@demo.civic.kr", "예산법무과 주무관", ["budget_office"], "BUDGET"),
    ("policy@demo.civic.kr", "정책담당관 주무관", ["policy_office"], "POLICY"),
    ("road@demo.civic.kr", "도로과 주무관", ["department"], "ROAD"),
    ("mayor@demo.civic.kr", "김한빛", ["host"], None),
    ("deputy@demo.civic.kr", "이정민", ["host"], None),
    ("secretariat@demo.civic.kr", "위원회 사무국 주무관", ["committee_secretariat"], "POLICY"),
    ("member@demo.civic.kr", "윤위원", ["committee_member"], None),
    ("citizen@demo.civic.kr", "홍길동", ["citizen"], None),
]
DEMO_PASSWORD = "civic-demo-2026"  # noqa: S105 - development demo accounts only


def dong_code(index: int) -> str:
    """10-digit 행정동코드 of the fictional city (시도 41, 시군구 990)."""
    return f"41990{510 + index * 3:03d}00"


def load_core(session: Session, ctx: dict) -> None:
    now = ctx["now"]
    echo = ctx.get("echo", print)
    existing_dongs = {d.code for d in session.scalars(select(Dong))}
    for i, (name, contested, village, outlying) in enumerate(DEMO_DONGS):
        code = dong_code(i)
        if code not in existing_dongs:
            session.add(
                Dong(
                    code=code,
                    name=name,
                    contested_area=contested,
                    natural_village=village,
                    outlying_area=outlying,
                    active=True,
                    updated_at=now,
                )
            )
    existing_depts = {d.code: d for d in session.scalars(select(Department))}
    for code, name, field in DEMO_DEPARTMENTS:
        if code not in existing_depts:
            dept = Department(code=code, name=name, field=field, active=True)
            session.add(dept)
            existing_depts[code] = dept
    session.flush()
    existing_hosts = {h.title for h in session.scalars(select(Host))}
    for title, person, rank, dept_code, field in DEMO_HOSTS:
        if title not in existing_hosts:
            session.add(
                Host(
                    title=title,
                    person_name=person,
                    rank=rank,
                    field=field,
                    active=True,
                    department_id=existing_depts[dept_code].id if dept_code else None,
                )
            )
    session.flush()
    created = []
    for email, name, roles, dept_code in DEMO_ACCOUNTS:
        if session.scalar(select(User).where(User.email == email)) is not None:
            continue
        user = create_staff_user(
            session,
            email=email,
            name=name,
            password=DEMO_PASSWORD,
            roles=roles,
            now=now,
            department_id=existing_depts[dept_code].id if dept_code else None,
            phone="010-1234-5678" if "citizen" in roles else None,
        )
        if "citizen" in roles:
            user.privacy_consent_at = now
            user.privacy_consent_version = "2026-11"
        created.append((email, roles))
    session.flush()
    # Link host accounts to their host records.
    for email, title in (("mayor@demo.civic.kr", "시장"), ("deputy@demo.civic.kr", "부시장")):
        user = session.scalar(select(User).where(User.email == email))
        host = session.scalar(select(Host).where(Host.title == title))
        if user and host and host.user_id is None:
            host.user_id = user.id
    session.flush()
    if created:
        echo("데모 계정 (개발용, 비밀번호 모두 " + DEMO_PASSWORD + "):")
        for email, roles in created:
            echo(f"    {email:<28} {', '.join(roles)}")
