"""Task CSV import: the summary reads back the counts the CSV implies; bad files import nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from civic_app.committee import queries
from civic_app.committee.committees import get_committee
from civic_app.committee.models import CommitteeTask, TaskLineage
from civic_app.committee.tasks import import_tasks
from civic_app.errors import ValidationFailed
from tests.factories import NOW, make_department
from tests.factories_committee import make_task

HEADER = "code,title,field,origin,status,replaced_by,department\n"
GOOD = HEADER + (
    # 행정/재정: a replaced task whose successor is defined later in the file
    "A-1,정보공개 확대,행정/재정,baseline,active,,ROAD\n"
    "A-2,주민참여예산,행정/재정,baseline,active,,도로과\n"
    "A-3,민원 처리 기한 단축,행정/재정,baseline,concluded,,\n"
    "A-4,옛 재정공시,행정/재정,baseline,replaced,A-9,\n"
    "E-1,골목상권 살리기,지역경제/일자리,baseline,active,,\n"
    "E-2,청년 창업 공간,지역경제/일자리,new,active,,\n"
    "E-3,지역화폐,지역경제/일자리,new,proposed,,\n"
    # 복지: two tasks merged into one new task
    "W-1,노인 돌봄 A,복지/여성/보건의료,baseline,replaced,W-9,\n"
    "W-2,노인 돌봄 B,복지/여성/보건의료,baseline,replaced,W-9,\n"
    "W-9,통합 돌봄,복지/여성/보건의료,new,active,,\n"
    "W-8,정신건강,복지/여성/보건의료,new,active,,\n"
    "C-1,생활문화센터,문화/교육,baseline,dropped,,\n"
    "A-9,재정공시 개편,행정/재정,new,active,,\n"
)


def row(field, baseline=0, maintained=0, concluded=0, replaced=0, new=0):
    return {
        "field": field,
        "baseline": baseline,
        "maintained": maintained,
        "concluded": concluded,
        "replaced": replaced,
        "new": new,
    }


def write(tmp_path, text, name="tasks.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_import_then_summary_gives_the_counts_of_the_csv(session, tmp_path):
    make_department("도로과", code="ROAD")
    result = import_tasks(session, write(tmp_path, GOOD), now=NOW)
    assert result == {"created": 13, "updated": 0}
    summary = queries.summary(session, get_committee(session))
    assert summary["rows"] == [
        row("행정/재정", baseline=4, maintained=2, concluded=1, replaced=1, new=1),
        row("지역경제/일자리", baseline=1, maintained=1, new=2),
        row("복지/여성/보건의료", baseline=2, replaced=2, new=2),
        row("도시계획/환경"),
        row("문화/교육", baseline=1),
    ]
    assert summary["total"] == {"baseline": 8, "maintained": 3, "concluded": 1, "replaced": 3, "new": 5}


def test_import_links_replaced_and_merged_tasks_and_matches_departments(session, tmp_path):
    road = make_department("도로과", code="ROAD")
    import_tasks(session, write(tmp_path, GOOD), now=NOW)
    tasks = {t.code: t for t in session.scalars(select(CommitteeTask))}
    assert tasks["A-1"].department_id == road.id  # by code
    assert tasks["A-2"].department_id == road.id  # by name
    assert tasks["A-3"].department_id is None
    links = {
        (link.predecessor_id, link.successor_id): link.kind for link in session.scalars(select(TaskLineage))
    }
    assert links == {
        (tasks["A-4"].id, tasks["A-9"].id): "replaced",
        (tasks["W-1"].id, tasks["W-9"].id): "merged",
        (tasks["W-2"].id, tasks["W-9"].id): "merged",
    }


def test_replaced_by_may_name_a_task_already_in_the_database(session, tmp_path):
    make_task("OLD-NEW", origin="new")
    import_tasks(
        session, write(tmp_path, HEADER + "X-1,옛 과제,행정/재정,baseline,replaced,OLD-NEW,\n"), now=NOW
    )
    link = session.scalar(select(TaskLineage))
    assert link.successor.code == "OLD-NEW"
    assert link.predecessor.code == "X-1"


def test_a_bad_line_imports_nothing_and_errors_name_their_lines(session, tmp_path):
    bad = GOOD + (
        "B-1,알 수 없는 분야,교통,baseline,active,,\n"  # line 15
        "B-2,없는 부서,행정/재정,new,active,,없는과\n"  # line 16
        "B-3,대체처 없음,행정/재정,baseline,replaced,,\n"  # line 17
        "B-4,없는 후속,행정/재정,baseline,replaced,Z-404,\n"  # line 18
        "A-1,중복 코드,행정/재정,sideline,finished,,\n"  # line 19
    )
    make_department("도로과", code="ROAD")
    with pytest.raises(ValidationFailed) as info:
        import_tasks(session, write(tmp_path, bad), now=NOW)
    lines = {line for line, _message in info.value.errors}
    assert lines == {"15", "16", "17", "18", "19"}
    messages = " ".join(m for _l, m in info.value.errors)
    assert "교통" in messages
    assert "없는과" in messages
    assert "Z-404" in messages
    assert "2행" in messages  # the duplicate code points at its first line
    assert session.scalar(select(func.count(CommitteeTask.id))) == 0


def test_reimport_updates_by_code(session, tmp_path):
    import_tasks(session, write(tmp_path, HEADER + "A-1,첫 이름,행정/재정,baseline,active,,\n"), now=NOW)
    result = import_tasks(
        session, write(tmp_path, HEADER + "A-1,새 이름,행정/재정,baseline,concluded,,\n"), now=NOW
    )
    assert result == {"created": 0, "updated": 1}
    task = session.scalar(select(CommitteeTask))
    assert (task.title, task.status) == ("새 이름", "concluded")


def test_cli_import_reports_by_line_and_imports_nothing(runner, session, tmp_path):
    path = write(tmp_path, HEADER + "A-1,좋은 줄,행정/재정,baseline,active,,\nA-2,,행정/재정,new,active,,\n")
    result = runner.invoke(args=["committee", "import", str(path)])
    assert result.exit_code == 1
    assert "3행" in result.output
    assert session.scalar(select(func.count(CommitteeTask.id))) == 0


def test_cli_import_then_api_summary(runner, client, session, tmp_path):
    path = write(
        tmp_path, HEADER + "A-1,과제,행정/재정,baseline,active,,\nN-1,새 과제,문화/교육,new,proposed,,\n"
    )
    result = runner.invoke(args=["committee", "import", str(path)])
    assert result.exit_code == 0, result.output
    body = client.get("/api/v1/committee/summary").get_json()
    assert body["rows"][0] == row("행정/재정", baseline=1, maintained=1)
    assert body["rows"][4] == row("문화/교육", new=1)
    assert body["total"] == {"baseline": 1, "maintained": 1, "concluded": 0, "replaced": 0, "new": 1}


def test_cli_import_into_another_committee(runner, session, tmp_path):
    from civic_app.committee.models import Committee, SubCommittee

    other = Committee(name="청년정책위원회")
    session.add(other)
    session.flush()
    session.add(SubCommittee(committee_id=other.id, name="청년", position=1))
    session.commit()
    path = write(tmp_path, HEADER + "Y-1,청년 주거,청년,new,active,,\n")
    assert (
        runner.invoke(args=["committee", "import", str(path)]).exit_code == 1
    )  # 청년 is not a default field
    result = runner.invoke(args=["committee", "import", str(path), "--committee", "청년정책위원회"])
    assert result.exit_code == 0, result.output
    summary = queries.summary(session, other)
    assert summary["rows"] == [row("청년", new=1)]
    unknown = runner.invoke(args=["committee", "import", str(path), "--committee", "없는위원회"])
    assert unknown.exit_code == 1
    assert "없는위원회" in unknown.output
