"""A fresh install: `departments import`, then `committee import` of 100 tasks, then the API."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from civic_app.committee.models import DEFAULT_SUBCOMMITTEES
from civic_app.dongs.models import Department

DEPARTMENTS = [(f"D{n:02d}", f"부서{n:02d}과") for n in range(1, 21)]
STATUSES = ("active", "active", "concluded", "proposed", "dropped")


def _task_lines() -> list[dict[str, str]]:
    """100 tasks over the five fields: baseline and new, every status, replacements and a merge."""
    lines = []
    for n in range(1, 101):
        field = DEFAULT_SUBCOMMITTEES[n % 5]
        origin = "baseline" if n % 3 else "new"
        status = STATUSES[n % len(STATUSES)]
        code, name = DEPARTMENTS[n % len(DEPARTMENTS)]
        department = "" if n % 11 == 0 else (code if n % 2 else name)  # by code, by name, or none yet
        lines.append(
            {
                "code": f"T-{n:03d}",
                "title": f"정책과제 {n}",
                "field": field,
                "origin": origin,
                "status": status,
                "replaced_by": "",
                "department": department,
            }
        )
    # Baseline tasks replaced by new ones, one of them a merge of two tasks.
    for predecessor, successor in ((1, 99), (2, 99), (4, 96), (5, 90)):
        line = lines[predecessor - 1]
        assert line["origin"] == "baseline"
        assert lines[successor - 1]["origin"] == "new"
        line["status"], line["replaced_by"] = "replaced", f"T-{successor:03d}"
    return lines


def _expected_summary(lines: list[dict[str, str]]) -> dict:
    """The source table computed from the CSV alone."""
    rows = []
    for field in DEFAULT_SUBCOMMITTEES:
        mine = [line for line in lines if line["field"] == field]
        baseline = Counter(line["status"] for line in mine if line["origin"] == "baseline")
        rows.append(
            {
                "field": field,
                "baseline": sum(baseline.values()),
                "maintained": baseline["active"],
                "concluded": baseline["concluded"],
                "replaced": baseline["replaced"],
                "new": sum(1 for line in mine if line["origin"] == "new"),
            }
        )
    keys = ("baseline", "maintained", "concluded", "replaced", "new")
    return {"rows": rows, "total": {k: sum(r[k] for r in rows) for k in keys}}


def test_departments_then_100_tasks_then_the_summary_api_matches_the_csv(runner, client, session, tmp_path):
    assert session.scalar(select(func.count(Department.id))) == 0  # a fresh database
    departments = tmp_path / "departments.csv"
    departments.write_text("code,name\n" + "".join(f"{c},{n}\n" for c, n in DEPARTMENTS), encoding="utf-8")
    lines = _task_lines()
    tasks = tmp_path / "tasks.csv"
    header = "code,title,field,origin,status,replaced_by,department"
    tasks.write_text(
        header + "\n" + "".join(",".join(line[k] for k in header.split(",")) + "\n" for line in lines),
        encoding="utf-8",
    )

    # Without departments the import refuses the lines that name one, and imports nothing.
    refused = runner.invoke(args=["committee", "import", str(tasks)])
    assert refused.exit_code == 1
    assert "부서 'D02'을(를) 찾을 수 없습니다" in refused.output

    result = runner.invoke(args=["departments", "import", str(departments)])
    assert result.exit_code == 0, result.output
    assert "새로 20개" in result.output
    result = runner.invoke(args=["committee", "import", str(tasks)])
    assert result.exit_code == 0, result.output
    assert "새로 100개, 갱신 0개" in result.output

    summary = client.get("/api/v1/committee/summary").get_json()
    expected = _expected_summary(lines)
    assert summary == expected
    assert sum(expected["total"][k] for k in ("baseline", "new")) == 100
    # Counts by field and status through the task list API equal the CSV's too.
    by_field_status = Counter((line["field"], line["status"]) for line in lines)
    for (field, status), count in by_field_status.items():
        page = client.get(
            "/api/v1/committee/tasks", query_string={"field": field, "status": status}
        ).get_json()
        assert page["total"] == count, (field, status)
    assert sum(by_field_status.values()) == 100
