"""The public dashboard: how the citizen communication office is doing, in charts, tables and
words. The numbers come from ``stats``, the same functions the API and the CSV files use."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from civic_app.dashboard import stats
from civic_app.dashboard.charts import Series, bar_chart, column_chart
from civic_app.extensions import db
from civic_app.registry import get_registry
from civic_app.timeutil import today_seoul, utcnow
from civic_app.web.policy import public

bp = Blueprint("dashboard", __name__)

ROUTE_LABELS = {
    "mayor": _l("시장 면담"),
    "deputy": _l("부시장 면담"),
    "director": _l("실·국·소장 면담"),
    "written": _l("서면 답변"),
    "referral": _l("부서 이송"),
    "declined": _l("불수용"),
    "undecided": _l("검토 중"),
}
OUTCOME_LABELS = {
    "received": _l("접수"),
    "under_review": _l("검토중"),
    "selected": _l("선정"),
    "budget_reflected": _l("예산반영"),
    "in_progress": _l("집행중"),
    "done": _l("완료"),
    "long_term": _l("장기검토"),
    "not_feasible": _l("불가"),
    "referred": _l("이송"),
}
# Chart buckets of the card outcomes (the table keeps every status).
OUTCOME_GROUPS = (
    (_l("검토 중"), ("received", "under_review", "long_term"), "s5"),
    (_l("선정·예산반영·집행"), ("selected", "budget_reflected", "in_progress"), "s1"),
    (_l("완료"), ("done",), "s2"),
    (_l("불가·이송"), ("not_feasible", "referred"), "s3"),
)
TASK_LABELS = {
    "proposed": _l("제안"),
    "active": _l("추진 중"),
    "concluded": _l("종결"),
    "replaced": _l("대체·통합"),
    "dropped": _l("중단"),
}


def _filters(today):
    years = stats.available_years(db.session, today)
    try:
        year = int(request.args.get("year", ""))
    except ValueError:
        year = today.year
    if year not in years:
        year = today.year
    dongs = stats.dong_choices(db.session)
    code = request.args.get("dong") or None
    dong = next((d for d in dongs if d.code == code), None)
    return years, year, dongs, dong


def _plan_chart(pva: dict, dong) -> tuple:
    rows = pva["rows"]
    years = [str(r["year"]) for r in rows]
    series = [
        Series(_("동 방문 계획"), [r["visits_plan"] for r in rows], "s0"),
        Series(_("동 방문 실적"), [r["visits_held"] for r in rows], "s1"),
    ]
    if dong is None:
        series = [
            Series(_("통통데이 계획"), [r["tongtong_plan"] for r in rows], "s4"),
            Series(_("통통데이 실적"), [r["tongtong_held"] for r in rows], "s2"),
            *series,
        ]
    total = pva["total"]
    if dong is None:
        text = _(
            "전체 기간 통통데이는 계획 %(tp)d회 중 %(th)d회 열렸고, 동 방문은 계획 %(vp)d회 중 %(vh)d회 이루어졌습니다.",
            tp=total["tongtong_plan"],
            th=total["tongtong_held"],
            vp=total["visits_plan"],
            vh=total["visits_held"],
        )
    else:
        text = _(
            "%(dong)s 방문은 계획 %(vp)d회 중 %(vh)d회 이루어졌습니다.",
            dong=dong.name,
            vp=total["visits_plan"],
            vh=total["visits_held"],
        )
    chart = column_chart(
        "chart-plan", title=_("연도별 계획 대비 실적"), desc=text, categories=years, series=series
    )
    return chart, series, text


def _requests_chart(req: dict, year: int) -> tuple:
    months = req["months"]
    keys = ("mayor", "deputy", "director", "written", "referral", "declined", "undecided")
    series = [Series(str(ROUTE_LABELS[k]), [m[k] for m in months], f"s{i}") for i, k in enumerate(keys)]
    total = req["total"]
    if req["median_wait_days"] is None:
        wait = _("면담까지 걸린 기간은 아직 집계할 자료가 없습니다.")
    else:
        wait = _("신청에서 면담까지 걸린 기간의 중앙값은 %(d)s일입니다.", d=req["median_wait_days"])
    text = _(
        "%(y)d년 면담 신청은 %(n)d건이며, 그중 %(met)d건은 시장·부시장·실·국·소장이 직접 만났습니다.",
        y=year,
        n=total["requests"],
        met=req["met_in_person"],
    )
    chart = column_chart(
        "chart-requests",
        title=_("월별 면담 신청과 처리 방식"),
        desc=f"{text} {wait}",
        categories=[_("%(m)d월", m=m["month"]) for m in months],
        series=series,
        stacked=True,
    )
    return chart, series, text, wait, keys


def _bars_by_row(chart_id: str, title: str, rows: list[dict], name: str, series: list[Series], **options):
    """Horizontal bars, one a row of ``rows`` named by the row's ``name`` field (``options``: the
    rest of :func:`bar_chart`'s arguments, ``desc`` first)."""
    return bar_chart(chart_id, title=title, categories=[r[name] for r in rows], series=series, **options)


def _suggestions_chart(sug: dict, year: int) -> tuple:
    rows = [r for r in sug["rows"] if r["total"] > 0]
    series = [
        Series(str(label), [sum(r[k] for k in group) for r in rows], css)
        for label, group, css in OUTCOME_GROUPS
    ]
    total = sug["total"]
    text = _(
        "%(y)d년 동 관리카드 건의는 %(n)d건이며 완료 %(done)d건, 선정·예산반영·집행 중 %(sel)d건, 불가·이송 %(no)d건입니다.",
        y=year,
        n=total["total"],
        done=total["done"],
        sel=total["selected"] + total["budget_reflected"] + total["in_progress"],
        no=total["not_feasible"] + total["referred"],
    )
    chart = _bars_by_row(
        "chart-suggestions", _("동별 건의사항과 처리 결과"), rows, "dong_name", series, desc=text
    )
    return chart, series, text, rows


def _committee_chart(com: dict) -> tuple:
    rows = com["rows"]
    series = [Series(_("평균 진행률 (퍼센트)"), [r["average_progress"] for r in rows], "s1")]
    total = com["total"]
    text = _(
        "위원회 과제 %(n)d건 중 %(a)d건이 추진 중이고 %(c)d건이 종결되었습니다.",
        n=total["total"],
        a=total["active"],
        c=total["concluded"],
    )
    if total["average_progress"] is not None:
        text += " " + _("추진 중인 과제의 평균 진행률은 %(p)s%%입니다.", p=total["average_progress"])
    chart = _bars_by_row(
        "chart-committee", _("분야별 위원회 과제 진행률"), rows, "field", series, desc=text, maximum=100
    )
    return chart, series, text


@bp.route("/dashboard")
@public
def index():
    now = utcnow()
    today = today_seoul(now)
    years, year, dongs, dong = _filters(today)
    pva = stats.plan_vs_actual(db.session, now=now, dong=dong)
    req = stats.meeting_requests(db.session, year=year, dong=dong)
    sug = stats.suggestions(db.session, year=year, dong=dong)
    com = stats.committee_progress(db.session)
    plan_chart, plan_series, plan_text = _plan_chart(pva, dong)
    req_chart, req_series, req_text, wait_text, route_keys = _requests_chart(req, year)
    sug_chart, sug_series, sug_text, sug_rows = _suggestions_chart(sug, year)
    com_chart, com_series, com_text = _committee_chart(com)
    query = {"year": year, **({"dong": dong.code} if dong else {})}
    return render_template(
        "dashboard/index.html",
        years=years,
        year=year,
        dongs=dongs,
        dong=dong,
        query=query,
        pva=pva,
        req=req,
        sug=sug,
        sug_rows=sug_rows,
        com=com,
        charts={"plan": plan_chart, "requests": req_chart, "suggestions": sug_chart, "committee": com_chart},
        legends={
            "plan": plan_series,
            "requests": req_series,
            "suggestions": sug_series,
            "committee": com_series,
        },
        texts={
            "plan": plan_text,
            "requests": req_text,
            "wait": wait_text,
            "suggestions": sug_text,
            "committee": com_text,
        },
        route_keys=route_keys,
        route_labels=ROUTE_LABELS,
        outcome_labels=OUTCOME_LABELS,
        task_labels=TASK_LABELS,
        has_cards_csv="cards_api.items_csv" in current_app.view_functions,
        # Blocks other features add (registry.add_dashboard_section), e.g. the satisfaction index.
        sections=[
            fn() for _o, fn in sorted(get_registry(current_app).dashboard_sections, key=lambda t: t[0])
        ],
    )


def home_section() -> dict:
    """The dashboard block of the public home page: links only, so the home page stays cheap
    (the figures are one click away on /dashboard)."""
    return {"template": "dashboard/_home.html"}
