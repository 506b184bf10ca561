"""Visits over HTTP and the CLI: staff flow, bad input, public pages, API, statement counts."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from sqlalchemy import event, func, select

from civic_app.cards.models import CardItem
from civic_app.extensions import db
from civic_app.notify.models import OutboxMessage
from civic_app.timeutil import seoul_datetime, to_seoul
from civic_app.visits.models import HELD, Visit, VisitCycle
from civic_app.visits.results import add_suggestion, publish_results, record_held
from civic_app.visits.tours import create_tour
from tests.factories import NOW, login, make_department, make_dong, make_user
from tests.factories_visits import make_city, plan


@pytest.fixture
def staff(session):
    return make_user("civic_staff", name="김담당", email="staff-visits@example.com", phone="010-9876-5432")


def _set_day(visit: Visit, day: dt.date) -> None:
    visit.start_at = seoul_datetime(day, dt.time(10)).astimezone(dt.UTC)
    visit.end_at = visit.start_at + dt.timedelta(hours=2)


def test_staff_plans_a_cycle_and_bad_quotas_change_nothing(client, session, staff):
    make_city(5)
    login(client, staff)
    bad = client.post(
        "/staff/visits/cycles",
        data={
            "c-start": "2027-01-01",
            "c-end": "2028-12-31",
            "c-quotas": "2,2",
            "c-max_per_week": "3",
            "c-weights": "3,2,2",
        },
    )
    assert bad.status_code == 400
    assert "연도별 할당의 합계(4)가 활성 동 수(5)와 같아야 합니다" in bad.get_data(as_text=True)
    assert session.scalar(select(func.count(VisitCycle.id))) == 0

    ok = client.post(
        "/staff/visits/cycles",
        data={
            "c-start": "2027-01-01",
            "c-end": "2028-12-31",
            "c-quotas": "2,3",
            "c-max_per_week": "3",
            "c-weights": "3,2,2",
        },
    )
    assert ok.status_code == 302
    cycle = session.scalar(select(VisitCycle))
    page = client.get(ok.headers["Location"]).get_data(as_text=True)
    assert "방문 기록 없음" in page
    assert len(cycle.visits) == 5
    calendar = client.get(f"/staff/visits/cycles/{cycle.id}?view=calendar").get_data(as_text=True)
    assert "2027년 1월" in calendar or "2027년" in calendar
    # Drafts are not public until published.
    assert client.get("/api/v1/visits").get_json()["total"] == 0
    client.post(f"/staff/visits/cycles/{cycle.id}/publish")
    assert client.get("/api/v1/visits").get_json()["total"] == 5


def test_moving_onto_a_holiday_is_refused_and_changes_nothing(client, session, staff):
    make_city(3)
    cycle = plan(dt.date(2027, 1, 1), dt.date(2027, 12, 31), [3])
    visit = cycle.visits[0]
    before = (visit.start_at, visit.sequence)
    login(client, staff)
    response = client.post(f"/staff/visits/{visit.id}/move", data={"m-day": "2027-02-08"})  # 설날 연휴
    assert response.status_code == 400
    assert "공휴일·휴무일(설날" in response.get_data(as_text=True)
    db.session.expire_all()
    visit = session.get(Visit, visit.id)
    assert (visit.start_at, visit.sequence, visit.moved_manually) == (*before, False)
    thursday = client.post(f"/staff/visits/{visit.id}/move", data={"m-day": "2027-03-11"})  # 2nd Thursday
    assert "통통데이에는 방문을 잡을 수 없습니다" in thursday.get_data(as_text=True)

    moved = client.post(
        f"/staff/visits/{visit.id}/move", data={"m-day": "2027-03-10", "m-start_time": "15:00"}
    )
    assert moved.status_code == 302
    db.session.expire_all()
    visit = session.get(Visit, visit.id)
    assert to_seoul(visit.start_at) == seoul_datetime(dt.date(2027, 3, 10), dt.time(15))
    assert visit.moved_manually
    assert visit.sequence == before[1] + 1


def test_tour_with_unknown_dong_code_is_refused(client, session, staff):
    make_dong("중앙동", code="4199051000")
    login(client, staff)
    data = {
        "t-day": "2027-03-10",
        "t-start_time": "14:00",
        "t-end_time": "16:00",
        "t-theme_group": "season",
        "t-theme": "폭우 대비 배수로 점검",
        "t-sites": "4199051000 중앙시장\n4199099999 없는 동 현장",
    }
    response = client.post("/staff/visits/tours/new", data=data)
    assert response.status_code == 400
    assert "알 수 없는 행정동코드입니다: 4199099999" in response.get_data(as_text=True)
    assert session.scalar(select(func.count(Visit.id))) == 0
    data["t-sites"] = "4199051000 중앙시장\n빗물펌프장"
    assert client.post("/staff/visits/tours/new", data=data).status_code == 302
    tour = session.scalar(select(Visit))
    assert (tour.kind, [s.name for s in tour.sites]) == ("tour", ["중앙시장", "빗물펌프장"])
    assert tour.sites[0].dong.name == "중앙동"


def test_hold_suggestions_and_results_reach_card_outbox_and_public_pages(client, session, staff):
    dong = make_dong("푸른동", code="4199060000")
    road = make_department("도로과")
    cycle = plan(dt.date(2026, 1, 1), dt.date(2026, 12, 31), [1], publish=True)
    visit = cycle.visits[0]
    _set_day(visit, dt.date(2026, 11, 18))
    session.commit()
    login(client, staff)
    assert (
        client.post(
            f"/staff/visits/{visit.id}/held",
            data={
                "h-agenda": ["dialogue", "field"],
                "h-residents_count": "31",
                "h-participant_groups": "monitors",
                "h-departments": str(road.id),
                "h-notes": "내부 메모: 010-5555-1234 홍길동 통장",
            },
        ).status_code
        == 302
    )
    suggestion = {"g-location": "푸른초 앞", "g-department_id": str(road.id)}
    refused = client.post(
        f"/staff/visits/{visit.id}/suggestions",
        data={
            **suggestion,
            "g-title": "통학로",
            "g-category": "안전",
            "g-description": "제안자 010-1111-2222",
        },
    )
    assert refused.status_code == 400  # the card is public: the privacy guard refuses a phone number
    assert "전화번호: 010-1111-2222" in refused.get_data(as_text=True)
    for title, category in (("통학로 보도 확장", "도로·교통"), ("보안등 설치", "안전")):
        response = client.post(
            f"/staff/visits/{visit.id}/suggestions",
            data={**suggestion, "g-title": title, "g-description": "주민 제안", "g-category": category},
        )
        assert response.status_code == 302
    bad = client.post(
        f"/staff/visits/{visit.id}/suggestions", data={"g-title": "분류 없음", "g-category": "우주"}
    )
    assert bad.status_code == 400
    items = session.scalars(select(CardItem).order_by(CardItem.id)).all()
    assert [(i.dong_id, i.source_kind, i.source_ref, i.status) for i in items] == [
        (dong.id, "visit", visit.id, "received")
    ] * 2

    public = client.get(f"/visits/{visit.id}").get_data(as_text=True)
    assert "통학로 보도 확장" not in public  # results not yet published
    assert (
        client.post(
            f"/staff/visits/{visit.id}/results",
            data={"r-summary": "주민 31명과 통학로 안전을 이야기했습니다."},
        ).status_code
        == 302
    )

    message = session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "visit_result"))
    assert message.subject_ref == f"visit:{visit.id}"
    assert message.payload["url"] == f"/visits/{visit.id}"
    assert message.payload["dong_name"] == "푸른동"
    assert message.payload["departments"] == ["도로과"]
    assert message.payload["lines"] == ["도로·교통 · 통학로 보도 확장", "안전 · 보안등 설치"]
    dumped = json.dumps(message.payload, ensure_ascii=False)
    for secret in ("홍길동", "010-", "김담당", "staff-visits@", "내부 메모"):
        assert secret not in dumped

    dong_page = client.get("/visits/dongs/4199060000").get_data(as_text=True)
    assert "통학로 보도 확장" in dong_page
    assert "접수" in dong_page
    assert "홍길동" not in dong_page
    assert "010-5555" not in dong_page
    detail = client.get(f"/visits/{visit.id}").get_data(as_text=True)
    assert "주민 31명과 통학로 안전을 이야기했습니다." in detail

    # A correction is a new message about the same subject.
    client.post(
        f"/staff/visits/{visit.id}/results", data={"r-summary": "주민 32명과 통학로 안전을 이야기했습니다."}
    )
    messages = session.scalars(
        select(OutboxMessage).where(OutboxMessage.subject_ref == f"visit:{visit.id}")
    ).all()
    assert sorted(m.dedupe_key for m in messages) == [
        f"visit_result:{visit.id}",
        f"visit_result:{visit.id}:r1",
    ]


def test_hold_before_the_day_is_refused(session):
    make_city(1)
    cycle = plan(dt.date(2027, 1, 1), dt.date(2027, 12, 31), [1])
    visit = cycle.visits[0]
    with pytest.raises(Exception, match="아직 방문일이 되지 않았습니다"):
        record_held(
            session, visit, agenda=[], residents_count=None, participant_groups=[], actor_id=None, now=NOW
        )
    assert visit.status == "planned"


def test_postpone_needs_a_reason(client, session, staff):
    make_city(1)
    visit = plan(dt.date(2027, 1, 1), dt.date(2027, 12, 31), [1]).visits[0]
    login(client, staff)
    response = client.post(
        f"/staff/visits/{visit.id}/status", data={"st-status": "postponed", "st-reason": ""}
    )
    assert response.status_code == 400
    assert "연기·취소 사유를 입력해 주세요" in response.get_data(as_text=True)
    assert (
        client.post(
            f"/staff/visits/{visit.id}/status", data={"st-status": "postponed", "st-reason": "태풍"}
        ).status_code
        == 302
    )
    db.session.expire_all()
    assert session.get(Visit, visit.id).status == "postponed"


def test_api_lists_published_visits_in_seoul_time(client, session):
    make_city(3)
    published = plan(dt.date(2027, 1, 1), dt.date(2027, 12, 31), [3], publish=True)
    session.commit()
    body = client.get("/api/v1/visits?from=2027-01-01&to=2027-12-31").get_json()
    assert body["total"] == 3
    assert set(body) == {"items", "total", "page", "per_page"}
    item = body["items"][0]
    assert set(item) >= {"start", "dong_code", "dong_name", "kind", "status", "cycle", "theme"}
    assert item["start"].endswith("+09:00")
    assert item["kind"] == "regular"
    assert item["cycle"] == published.name
    first = to_seoul(min(v.start_at for v in published.visits)).date()
    narrow = client.get(f"/api/v1/visits?from={first}&to={first}").get_json()
    assert narrow["total"] == 1
    bad = client.get("/api/v1/visits?from=2027-13-01")
    assert bad.status_code == 400
    assert "YYYY-MM-DD" in bad.get_json()["error"]["message"]
    reversed_range = client.get("/api/v1/visits?from=2027-12-01&to=2027-01-01")
    assert "to 값은 from 값과 같거나 뒤여야 합니다" in reversed_range.get_json()["error"]["message"]
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/visits" in spec["paths"]
    assert "Visit" in spec["components"]["schemas"]


def test_staff_pages_are_for_staff_only(client, session):
    citizen = make_user("citizen")
    login(client, citizen)
    assert client.get("/staff/visits").status_code == 403
    assert client.post("/staff/visits/cycles", data={}).status_code == 403


def test_unknown_dong_page_is_404(client, session):
    assert client.get("/visits/dongs/0000000000").status_code == 404


def _count_statements(client, url: str) -> int:
    count = 0

    def before(*_args, **_kw):
        nonlocal count
        count += 1

    engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return count


def _held_visits(n: int, session):
    dong = session.scalar(select(Visit.dong_id).limit(1))
    dept = make_department()
    for i, visit in enumerate(session.scalars(select(Visit).order_by(Visit.start_at)).all()[:n]):
        visit.status = HELD
        visit.dong_id = dong
        visit.departments = [dept]
        add_suggestion(
            session, visit, title=f"건의 {i}", description="", category="안전", actor_id=None, now=NOW
        )
    session.commit()


def test_public_pages_cost_a_fixed_number_of_statements(client, session, staff):
    make_city(4)
    plan(dt.date(2026, 1, 1), dt.date(2026, 12, 31), [4], publish=True)
    plan(dt.date(2027, 1, 1), dt.date(2027, 12, 31), [4], publish=True)
    _held_visits(2, session)
    code = session.scalar(select(Visit).where(Visit.status == HELD)).dong.code
    urls = ["/visits", f"/visits/dongs/{code}", "/visits/plan-vs-actual", "/", "/api/v1/visits"]
    small = {url: _count_statements(client, url) for url in urls}
    make_city(20, first=4)
    plan(dt.date(2028, 1, 1), dt.date(2028, 12, 31), [24], publish=True)
    _held_visits(6, session)
    large = {url: _count_statements(client, url) for url in urls}
    assert large == small


def test_cli_plans_a_cycle_and_refuses_bad_quotas(runner, session):
    make_dong("가동", code="4199070000", contested_area=True)
    make_dong("나동", code="4199070300")
    session.commit()
    bad = runner.invoke(
        args=["visits", "plan-cycle", "--start", "2027-01-01", "--end", "2028-12-31", "--quotas", "1,2"]
    )
    assert bad.exit_code != 0
    assert "연도별 할당의 합계(3)가 활성 동 수(2)와 같아야 합니다" in bad.output
    assert session.scalar(select(func.count(VisitCycle.id))) == 0
    ok = runner.invoke(
        args=[
            "visits",
            "plan-cycle",
            "--start",
            "2027-01-01",
            "--end",
            "2028-12-31",
            "--quotas",
            "1,1",
            "--publish",
        ]
    )
    assert ok.exit_code == 0, ok.output
    assert "쟁점민원 지역 우선" in ok.output
    assert "4199070300" in ok.output
    assert "2027년 1건, 2028년 1건" in ok.output
    db.session.expire_all()
    assert all(v.published for v in session.scalars(select(Visit)))


def test_pages_speak_english_when_chosen(client, session):
    make_city(2)
    plan(dt.date(2027, 1, 1), dt.date(2027, 12, 31), [2], publish=True)
    session.commit()
    client.set_cookie("lang", "en")
    page = client.get("/visits").get_data(as_text=True)
    assert "Upcoming visits" in page
    assert "Dong visit" in page
    assert "다가오는 방문" not in page


HOSTILE = [
    "<script>alert(1)</script>",
    "0001-01-01",
    "9999-12-31",
    "2026-02-30",
    "24:61",
    "-1",
    "2147483648",
    "가" * 5000,
    "",
    " ",
]


def test_hostile_form_input_never_breaks_the_server(client, session, staff):
    make_city(3)
    cycle = plan(dt.date(2026, 1, 1), dt.date(2026, 12, 31), [3], publish=True)
    visit = cycle.visits[0]
    visit.status = HELD
    session.commit()
    login(client, staff)
    forms = {
        "/staff/visits/cycles": ["c-start", "c-end", "c-quotas", "c-max_per_week", "c-weights", "c-name"],
        "/staff/visits/unavailable": ["u-day", "u-reason"],
        f"/staff/visits/{visit.id}/suggestions": [
            "g-title",
            "g-description",
            "g-category",
            "g-location",
            "g-department_id",
        ],
        f"/staff/visits/{visit.id}/results": ["r-summary"],
        f"/staff/visits/{cycle.visits[1].id}/move": ["m-day", "m-start_time"],
        f"/staff/visits/{cycle.visits[1].id}/status": ["st-status", "st-reason"],
        f"/staff/visits/{cycle.visits[1].id}/held": [
            "h-agenda",
            "h-residents_count",
            "h-departments",
            "h-notes",
        ],
        "/staff/visits/tours/new": [
            "t-day",
            "t-start_time",
            "t-end_time",
            "t-theme_group",
            "t-theme",
            "t-sites",
        ],
    }
    for url, fields in forms.items():
        for value in HOSTILE:
            response = client.post(url, data=dict.fromkeys(fields, value))
            assert response.status_code < 500, (url, value[:20])
            assert "<script>alert(1)</script>" not in response.get_data(as_text=True)
    # Dates out of range get a clear message instead of an overflow.
    far = client.post(
        "/staff/visits/cycles",
        data={
            "c-start": "0001-01-01",
            "c-end": "0001-12-31",
            "c-quotas": "3",
            "c-max_per_week": "3",
            "c-weights": "3,2,2",
        },
    )
    assert far.status_code == 400
    assert "날짜는 2000년부터 2100년 사이여야 합니다" in far.get_data(as_text=True)
    for query in ("from=0001-01-01", "to=9999-99-99", "page=-1", "per_page=100000", "from=<script>"):
        assert client.get(f"/api/v1/visits?{query}").status_code == 400


def test_plan_vs_actual_table_follows_the_source(client, session):
    make_city(39)
    first = plan(dt.date(2018, 7, 1), dt.date(2018, 12, 31), [39], publish=True)
    for visit in first.visits[:30]:
        visit.status = HELD
    plan(dt.date(2019, 1, 1), dt.date(2020, 12, 31), [19, 20], publish=True)
    plan(dt.date(2021, 1, 1), dt.date(2022, 6, 30), [19, 20])  # a draft: not public yet
    session.commit()
    page = client.get("/visits/plan-vs-actual").get_data(as_text=True)
    rows = re.findall(r'<th scope="row">(\d{4})</th>((?:<td class="num">\d+</td>)+)', page)
    table = {int(year): [int(n) for n in re.findall(r"\d+", cells)] for year, cells in rows}
    assert table == {2018: [39, 39, 30, 0, 0], 2019: [19, 19, 0, 0, 0], 2020: [20, 20, 0, 0, 0]}


def test_swap_and_lock_from_the_staff_pages(client, session, staff):
    make_city(3)
    cycle = plan(dt.date(2027, 1, 1), dt.date(2027, 12, 31), [3])
    a, b = sorted(cycle.visits, key=lambda v: v.start_at)[:2]
    a_start, b_start = a.start_at, b.start_at
    session.commit()
    login(client, staff)
    assert client.post(f"/staff/visits/{a.id}/swap", data={"s-other": str(b.id)}).status_code == 302
    assert client.post(f"/staff/visits/{a.id}/lock", data={"locked": "1"}).status_code == 302
    db.session.expire_all()
    a, b = session.get(Visit, a.id), session.get(Visit, b.id)
    assert (a.start_at, b.start_at) == (b_start, a_start)
    assert a.locked
    assert a.moved_manually
    assert b.moved_manually
    assert client.post(f"/staff/visits/cycles/{cycle.id}/replan").status_code == 302
    db.session.expire_all()
    assert session.get(Visit, a.id).start_at == b_start


def test_tour_suggestion_goes_to_the_site_dong_card(session):
    dong = make_dong("강변동", code="4199061000")
    tour = create_tour(
        session,
        day=dt.date(2026, 8, 4),
        start_time=dt.time(14),
        end_time=dt.time(16),
        theme_group="season",
        theme="폭염 대비 무더위쉼터 점검",
        sites_text="4199061000 강변 무더위쉼터",
        actor_id=None,
        now=NOW,
    )
    record_held(
        session, tour, agenda=["field"], residents_count=12, participant_groups=[], actor_id=None, now=NOW
    )
    item = add_suggestion(
        session, tour, title="그늘막 추가 설치", description="", category="안전", actor_id=None, now=NOW
    )
    assert (item.dong_id, item.source_kind, item.source_ref) == (dong.id, "visit", tour.id)
    publish_results(session, tour, summary="쉼터 3곳을 점검했습니다.", actor_id=None, now=NOW)
    message = session.scalar(select(OutboxMessage).where(OutboxMessage.subject_ref == f"visit:{tour.id}"))
    assert message.payload["title"] == "[민생현장 탐방 결과] 폭염 대비 무더위쉼터 점검"


def test_staff_cycle_page_costs_a_fixed_number_of_statements(client, session, staff):
    make_city(4)
    small = plan(dt.date(2026, 1, 1), dt.date(2026, 12, 31), [4])
    make_city(20, first=4)
    large = plan(dt.date(2027, 1, 1), dt.date(2027, 12, 31), [24])
    session.commit()
    login(client, staff)
    for view in ("", "?view=calendar"):
        counts = [_count_statements(client, f"/staff/visits/cycles/{c.id}{view}") for c in (small, large)]
        assert counts[0] == counts[1]
    visit_pages = [_count_statements(client, f"/staff/visits/{c.visits[0].id}") for c in (small, large)]
    assert visit_pages[0] == visit_pages[1]


def test_cli_refuses_a_window_with_too_few_working_days(runner, session):
    make_city(10)
    session.commit()
    result = runner.invoke(
        args=["visits", "plan-cycle", "--start", "2027-02-05", "--end", "2027-02-12", "--quotas", "10"]
    )
    assert result.exit_code != 0
    assert "2027년 기간에 방문할 수 있는 근무일이 부족합니다" in result.output
    assert session.scalar(select(func.count(Visit.id))) == 0


def test_every_staff_change_is_in_the_audit_log_with_its_target(client, session, staff):
    from civic_app.audit.models import AuditLog
    from civic_app.visits.models import MayorUnavailable

    make_city(2)
    session.commit()
    login(client, staff)
    form = {"c-start": "2027-01-01", "c-end": "2027-12-31", "c-quotas": "2", "c-max_per_week": "3"}
    created = client.post("/staff/visits/cycles", data={**form, "c-weights": "3,2,2"})
    assert created.status_code == 302
    cycle = session.scalar(select(VisitCycle))
    visit = cycle.visits[0]
    client.post(f"/staff/visits/cycles/{cycle.id}/publish")
    client.post(f"/staff/visits/{visit.id}/lock", data={"locked": "1"})
    client.post(f"/staff/visits/{visit.id}/status", data={"st-status": "confirmed"})
    client.post("/staff/visits/unavailable", data={"u-day": "2027-11-30", "u-reason": "해외 출장"})
    day_off = session.scalar(select(MayorUnavailable))
    client.post(f"/staff/visits/unavailable/{day_off.id}/delete")
    refused = client.post(f"/staff/visits/{visit.id}/move", data={"m-day": "2027-02-08"})  # 설날
    assert refused.status_code == 400
    rows = session.execute(
        select(AuditLog.action, AuditLog.target_type, AuditLog.target_id, AuditLog.actor_id).order_by(
            AuditLog.id
        )
    ).all()
    assert [tuple(r) for r in rows] == [
        ("visit_cycle.create", "visit_cycle", str(cycle.id), staff.id),
        ("visit_cycle.publish", "visit_cycle", str(cycle.id), staff.id),
        ("visit.lock", "visit", str(visit.id), staff.id),
        ("visit.status", "visit", str(visit.id), staff.id),
        ("visit.mayor_unavailable.create", "mayor_unavailable", "2027-11-30", staff.id),
        ("visit.mayor_unavailable.delete", "mayor_unavailable", str(day_off.id), staff.id),
    ]  # the refused move left no entry


def test_a_page_past_the_end_of_the_public_list_shows_the_last_page(client, session):
    make_city(24)
    plan(dt.date(2027, 1, 1), dt.date(2027, 12, 31), [24], publish=True)
    session.commit()
    page = client.get("/visits?page=999").get_data(as_text=True)
    assert "모두 24건" in page
    assert "2 / 2쪽" in page
    assert page.count('class="visit-item"') == 4  # 20 a page
