"""The dashboard, the CSV files and the JSON API show the same numbers for the demo data."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from sqlalchemy import event

from civic_app.extensions import db
from civic_app.timeutil import today_seoul, utcnow
from tests.factories_calendar import TableParser


@pytest.fixture
def demo(demo_city):
    return demo_city


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for spreadsheet programs
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def cell(value) -> str:
    return "–" if value is None else str(value)


def busiest_year(client) -> int:
    this_year = today_seoul(utcnow()).year
    counts = {
        y: client.get(f"/api/v1/stats/meeting-requests?year={y}").get_json()["total"]["requests"]
        for y in (this_year, this_year - 1)
    }
    return max(counts, key=counts.get)


def test_dashboard_csv_and_api_agree_on_the_demo_data(demo, client):
    year = busiest_year(client)
    page = client.get(f"/dashboard?year={year}")
    assert page.status_code == 200
    tables = TableParser(page.text).tables

    # Plan vs actual per year.
    pva = client.get("/api/v1/stats/plan-vs-actual").get_json()
    assert pva["total"]["visits_plan"] > 0
    assert pva["total"]["tongtong_plan"] > 0
    assert pva["total"]["tongtong_held"] > 0  # the demo term started months ago
    assert pva["total"]["visits_held"] > 0
    keys = [
        "tongtong_plan",
        "tongtong_held",
        "tongtong_cancelled",
        "visits_plan",
        "visits_held",
        "tours_held",
    ]
    expected = [[str(r["year"]), *(cell(r[k]) for k in keys)] for r in pva["rows"]]
    assert tables["table-plan"][1:] == expected
    rows = read_csv(client.get("/api/v1/stats/plan-vs-actual.csv"))
    assert rows[0][0] == "year"
    assert [[r[rows[0].index(k)] for k in ["year", *keys]] for r in rows[1:-1]] == [
        [x.replace("–", "") for x in e] for e in expected
    ]
    assert rows[-1][0] == "합계"

    # Meeting requests per month and how they were met; median wait.
    req = client.get(f"/api/v1/stats/meeting-requests?year={year}").get_json()
    assert req["total"]["requests"] > 0
    routes = ["mayor", "deputy", "director", "written", "referral", "declined", "undecided"]
    table = tables["table-requests"]
    assert [row[1:] for row in table[1:13]] == [
        [str(m["requests"]), *(str(m[k]) for k in routes)] for m in req["months"]
    ]
    assert table[13][1:] == [str(req["total"]["requests"]), *(str(req["total"][k]) for k in routes)]
    if req["median_wait_days"] is not None:
        assert f"{req['median_wait_days']}일" in page.text
    rows = read_csv(client.get(f"/api/v1/stats/meeting-requests.csv?year={year}"))
    header = rows[0]
    assert [[int(r[header.index(k)]) for k in ["month", "requests", *routes]] for r in rows[1:13]] == [
        [m["month"], m["requests"], *(m[k] for k in routes)] for m in req["months"]
    ]
    assert rows[13][header.index("requests")] == str(req["total"]["requests"])
    assert rows[13][header.index("met_in_person")] == str(req["met_in_person"])
    assert rows[13][header.index("median_wait_days")] == cell(req["median_wait_days"]).replace("–", "")

    # Suggestions per dong and outcomes.
    sug = client.get(f"/api/v1/stats/suggestions?year={year}").get_json()
    assert sug["total"]["total"] > 0
    outcomes = [
        "received",
        "under_review",
        "selected",
        "budget_reflected",
        "in_progress",
        "done",
        "long_term",
        "not_feasible",
        "referred",
    ]
    shown = [
        [r["dong_name"], str(r["total"]), *(str(r[k]) for k in outcomes)] for r in sug["rows"] if r["total"]
    ]
    assert tables["table-suggestions"][1:] == shown
    rows = read_csv(client.get(f"/api/v1/stats/suggestions.csv?year={year}"))
    header = rows[0]
    assert len(rows) - 2 == len(sug["rows"])  # every dong, then the total row
    from_csv = [
        [r[header.index("dong_name")], r[header.index("total")], *(r[header.index(k)] for k in outcomes)]
        for r in rows[1:-1]
    ]
    assert [r for r in from_csv if r[1] != "0"] == shown
    assert rows[-1][header.index("total")] == str(sug["total"]["total"])

    # Committee task progress by field.
    com = client.get("/api/v1/stats/committee-progress").get_json()
    assert com["total"]["total"] > 0
    statuses = ["proposed", "active", "concluded", "replaced", "dropped"]
    assert tables["table-committee"][1:] == [
        [r["field"], str(r["total"]), *(str(r[k]) for k in statuses), cell(r["average_progress"])]
        for r in com["rows"]
    ]
    rows = read_csv(client.get("/api/v1/stats/committee-progress.csv"))
    assert [r[0] for r in rows[1:-1]] == [r["field"] for r in com["rows"]]
    assert rows[-1][rows[0].index("total")] == str(com["total"]["total"])


CSV_SETS = [
    ("/api/v1/dongs.csv", "/api/v1/dongs?per_page=500", "items"),
    ("/api/v1/visits.csv", "/api/v1/visits?per_page=500", "items"),
    ("/api/v1/tongtong-days.csv", "/api/v1/tongtong-days", "items"),
    ("/api/v1/committee/tasks.csv?per_page=7", "/api/v1/committee/tasks?per_page=500", "items"),
    ("/api/v1/committee/summary.csv", "/api/v1/committee/summary", "rows"),
]


def test_csv_sets_hold_exactly_what_the_json_api_says(demo, client):
    for csv_path, json_path, key in CSV_SETS:
        body = client.get(json_path).get_json()
        items = body[key]
        assert items, f"the demo data fills {json_path}"
        rows = read_csv(client.get(csv_path))
        header, data = rows[0], rows[1:]
        if key == "rows":  # the summary's CSV ends with its total row
            assert data[-1][header.index("field")] == "합계"
            data = data[:-1]
        else:
            assert body["total"] == len(items)  # the JSON page held the whole set
        assert len(data) == len(items), csv_path
        for line, item in zip(data, items, strict=True):
            for column, value in item.items():
                expected = "" if value is None else str(value)
                assert line[header.index(column)] == expected, (csv_path, column, item)


def test_dashboard_filters_by_dong_and_year(demo, client):
    sug = client.get("/api/v1/stats/suggestions").get_json()
    busiest = max(sug["rows"], key=lambda r: r["total"])
    one = client.get(f"/api/v1/stats/suggestions?dong={busiest['dong_code']}").get_json()
    assert [r["dong_code"] for r in one["rows"]] == [busiest["dong_code"]]
    assert one["total"]["total"] == busiest["total"]
    page = client.get(f"/dashboard?dong={busiest['dong_code']}")
    assert page.status_code == 200
    tables = TableParser(page.text).tables
    assert [row[0] for row in tables["table-suggestions"][1:]] in ([busiest["dong_name"]], [])
    assert f'value="{busiest["dong_code"]}" selected' in page.text
    # Unknown filters fall back to the defaults on the page, and are refused by the API.
    assert client.get("/dashboard?year=abc&dong=nope").status_code == 200
    assert client.get("/api/v1/stats/suggestions?dong=0000000000").status_code == 404
    assert client.get("/api/v1/stats/suggestions?dong=abc").status_code == 404
    assert client.get("/api/v1/stats/suggestions?year=1800").status_code == 400


def test_dashboard_costs_a_fixed_number_of_sql_statements(demo, client):
    from tests.factories import make_dong
    from tests.factories_calendar import make_session, make_visit

    def count(path: str) -> int:
        statements = []

        def listener(*args):
            statements.append(args[2])

        client.get(path)  # warm caches (translations, templates)
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get(path).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    before = count("/dashboard")
    dong = make_dong("추가동")
    for i in range(10):
        make_visit(
            dong,
            utcnow().replace(microsecond=0) - dt.timedelta(days=30 + i),
            status="held",
        )
    make_session(utcnow().replace(microsecond=0, second=0, minute=0))
    db.session.commit()
    assert count("/dashboard") == before


def test_dashboard_is_public_and_in_the_main_navigation(client, session):
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert 'href="/dashboard"' in client.get("/").text
    assert 'style="' not in page.text
    assert "<script>" not in page.text
    assert 'role="img"' in page.text or "아직 자료가 없습니다" in page.text


def test_home_page_links_the_dashboard_and_calendars(demo, client):
    # The figures live on /dashboard; the home block only links there, keeping the home page
    # within its SQL budget (at most 10 statements).
    home = client.get("/").text
    assert 'href="/dashboard"' in home
    assert 'href="/calendar"' in home
