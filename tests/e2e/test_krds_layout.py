"""The KRDS layout in Chromium at 320, 390 and 1280 px: every public page, every citizen page and a
sample of staff pages on the demo data. On each: HTTP 200, no sideways scrolling of the page, axe
finds no serious or critical violation, Korean body text and the H1 compute
`word-break: keep-all`, no CSP violation. The KRDS stylesheet and the Pretendard GOV web font are
served from static/ and used."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from civic_app.accounts.models import User
from civic_app.cards.models import CardItem
from civic_app.committee.models import CommitteeMeeting, CommitteeTask, ReportingQuarter
from civic_app.demo.core import DEMO_PASSWORD
from civic_app.dongs.models import Dong
from civic_app.extensions import db
from civic_app.follow import services as follow
from civic_app.follow.models import Follow
from civic_app.meetings.models import MeetingRequest
from civic_app.satisfaction import services as satisfaction
from civic_app.timeutil import utcnow
from civic_app.visits.models import Visit
from tests.e2e.conftest import assert_accessible

pytestmark = pytest.mark.e2e
WIDTHS = (320, 390, 1280)
# axe at every width: a phone at 320, a common phone at 390 and a desktop at 1280 px.
AXE_WIDTHS = WIDTHS
# Public GET routes that are not pages (feeds, API, tokens sent by mail, health check).
NOT_PAGES = (
    "static",
    "public.healthz",
    "calendar.feed",
    "calendar.event_ics",
    "calendar.personal_feed",
    "cards.photo",
)
TOKEN_PAGES = ("accounts.verify", "accounts.reset_password")

PAGE_CHECKS = """() => {
  const style = (el) => el ? getComputedStyle(el) : null;
  const h1 = document.querySelector('main h1');
  const para = document.querySelector('main p') || document.body;
  return {
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    bodyWordBreak: style(document.body).wordBreak,
    paraWordBreak: style(para).wordBreak,
    h1WordBreak: h1 ? style(h1).wordBreak : 'keep-all',
    fontFamily: style(document.body).fontFamily,
  };
}"""

ASSETS_CHECK = """async () => {
  await document.fonts.ready;
  const sheets = [...document.styleSheets].map((s) => {
    let rules = 0;
    try { rules = s.cssRules.length; } catch (e) { rules = -1; }
    return {href: s.href || '', rules};
  });
  const faces = [...document.fonts].filter((f) => f.family.replace(/["']/g, '') === 'Pretendard GOV')
    .map((f) => ({weight: f.weight, status: f.status}));
  return {sheets, faces, usable: document.fonts.check('16px "Pretendard GOV"', '시민소통실')};
}"""


def _public_paths(app) -> list[str]:
    """Every public page of the app, parameters filled from the demo data. A new public route
    with parameters fails here until it is added below, so no page escapes the check."""
    item = db.session.scalar(select(CardItem).order_by(CardItem.id))
    quarter = db.session.scalar(
        select(ReportingQuarter)
        .where(ReportingQuarter.published_at.is_not(None))
        .order_by(ReportingQuarter.id)
    )
    summary = db.session.scalar(
        select(MeetingRequest)
        .where(MeetingRequest.publish_consent.is_(True), MeetingRequest.public_summary.is_not(None))
        .order_by(MeetingRequest.id)
    )
    visit = db.session.scalar(select(Visit).where(Visit.published.is_(True)).order_by(Visit.id))
    dong = db.session.scalar(select(Dong).where(Dong.active.is_(True)).order_by(Dong.id))
    pending = db.session.scalar(select(Follow).where(Follow.status == "pending").order_by(Follow.id))
    active = db.session.scalar(select(Follow).where(Follow.status == "active").order_by(Follow.id))
    values = {
        "cards.dong_card": {"dong_code": item.dong.code},
        "cards.public_item": {"dong_code": item.dong.code, "item_id": item.id},
        "cards.item_link": {"item_id": item.id},
        "committee.meeting_detail": {"meeting_id": db.session.scalar(select(CommitteeMeeting.id))},
        "committee.report": {"quarter_id": quarter.id},
        "committee.report_version": {"quarter_id": quarter.id, "number": 1},
        "committee.task": {"code": db.session.scalar(select(CommitteeTask.code).order_by(CommitteeTask.id))},
        "meetings.summary": {"request_id": summary.id},
        "visits.detail": {"visit_id": visit.id},
        "visits.dong_page": {"code": dong.code},
        "satisfaction.survey": {"token": satisfaction.make_token(_open_survey())},
        "follow.confirm": {"token": follow.confirm_token(pending)},
        "follow.unsubscribe": {"token": follow.unsubscribe_token([active])},
        "follow.one_click": {"token": follow.unsubscribe_token([active])},  # a GET shows the page
    }
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in NOT_PAGES or rule.endpoint in TOKEN_PAGES:
            continue
        if rule.rule.startswith("/api/") or rule.rule.endswith((".ics", ".csv", ".json")):
            continue
        policy = getattr(app.view_functions[rule.endpoint], "_route_policy", None)
        if policy is None or policy.kind != "public":
            continue
        if rule.arguments:
            assert rule.endpoint in values, f"public page {rule.rule} ({rule.endpoint}): add it to this test"
            paths.append(_build(app, rule.endpoint, values[rule.endpoint]))
        else:
            paths.append(_build(app, rule.endpoint, {}))
    return sorted(set(paths))


def _open_survey():
    """A survey link as the e-mail carries it, still open (the demo's own links are older)."""
    return satisfaction.offer_survey(
        db.session,
        process="tongtong",
        subject_ref="krds-walk:1",
        department_id=None,
        email="walk@example.com",
        now=utcnow(),
        about="통학로 보도 설치",
    )


def _build(app, endpoint: str, values: dict) -> str:
    from flask import url_for

    with app.test_request_context():
        return url_for(endpoint, **values)


def _login(page, live_server, email: str) -> None:
    page.goto(f"{live_server}/login")
    page.get_by_label("이메일").fill(email)
    page.get_by_label("비밀번호").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="로그인").click()
    page.get_by_text("로그인했습니다").wait_for()


def _logout(page) -> None:
    page.get_by_role("button", name="로그아웃").click()
    page.get_by_text("로그아웃했습니다").wait_for()


def _check_pages(page, live_server, paths: list[str], problems: list[str]) -> None:
    """Each page loaded once, then laid out and checked at every width in turn (the viewport
    change re-applies the media queries as a phone of that width would see them). A path that
    redirects to a page already checked (a short link, a one-click GET) is not checked twice."""
    checked: set[str] = set()
    for path in paths:
        page.set_viewport_size({"width": WIDTHS[0], "height": 800})
        response = page.goto(live_server + path)
        if response is None or response.status != 200:
            problems.append(f"{path}: HTTP {response.status if response else '?'}")
            continue
        if page.url in checked:
            continue
        checked.add(page.url)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 800})
            where = f"{path} @{width}px"
            facts = page.evaluate(PAGE_CHECKS)
            if facts["scrollWidth"] > facts["innerWidth"]:
                problems.append(f"{where}: scrolls sideways ({facts['scrollWidth']} > {facts['innerWidth']})")
            for key in ("bodyWordBreak", "paraWordBreak", "h1WordBreak"):
                if facts[key] != "keep-all":
                    problems.append(f"{where}: {key} is {facts[key]}")
            if "Pretendard GOV" not in facts["fontFamily"]:
                problems.append(f"{where}: body font is {facts['fontFamily']}")
            if width not in AXE_WIDTHS:
                continue
            try:
                assert_accessible(page)
            except AssertionError as exc:
                problems.append(f"{where}: {exc}")


def _walk(page, live_server, paths: list[str]) -> None:
    """Check ``paths`` in the signed-in state the page is in; no CSP violation on the way."""
    problems: list[str] = []
    console: list[str] = []
    page.on("console", lambda msg: console.append(msg.text) if msg.type == "error" else None)
    _check_pages(page, live_server, paths, problems)
    page.wait_for_load_state("networkidle")  # no request in flight when the tables are cleaned
    csp = [c for c in console if "Content Security Policy" in c]
    assert not csp, csp
    assert not problems, "\n".join(problems)


def test_every_public_page_fits_a_phone_and_passes_axe(demo_city, session, live_server, page):
    public_paths = _public_paths(demo_city)
    db.session.commit()
    vendor_responses: dict[str, int] = {}
    page.on(
        "response",
        lambda r: (
            vendor_responses.setdefault(r.url.split("/static/", 1)[1].split("?", 1)[0], r.status)
            if "/static/vendor/" in r.url
            else None
        ),
    )

    # The KRDS stylesheet and the web font come from static/ and are in use.
    page.goto(f"{live_server}/")
    assets = page.evaluate(ASSETS_CHECK)
    krds = [
        s for s in assets["sheets"] if s["href"].startswith(f"{live_server}/static/vendor/krds/css/krds.css")
    ]
    assert krds, assets["sheets"]
    assert krds[0]["rules"] > 100, assets["sheets"]
    assert all(s["href"].startswith(live_server) for s in assets["sheets"] if s["href"]), assets["sheets"]
    assert {"weight": "400", "status": "loaded"} in assets["faces"], assets["faces"]
    assert assets["usable"]
    assert vendor_responses.get("vendor/krds/css/krds.css") == 200, vendor_responses
    assert vendor_responses.get("vendor/pretendard-gov/woff2/PretendardGOV-Regular.subset.woff2") == 200, (
        vendor_responses
    )

    # Anonymous: every public page.
    assert len(public_paths) >= 20, public_paths
    _walk(page, live_server, public_paths)


def test_every_citizen_page_fits_a_phone_and_passes_axe(demo_city, session, live_server, page):
    citizen = db.session.scalar(select(User).where(User.email == "citizen@demo.civic.kr"))
    own = db.session.scalar(
        select(MeetingRequest).where(MeetingRequest.requester_id == citizen.id).order_by(MeetingRequest.id)
    )
    db.session.commit()
    _login(page, live_server, "citizen@demo.civic.kr")
    citizen_paths = [
        "/account",
        "/account/telegram",
        "/account/follows",
        "/tongtong/requests",
        "/tongtong/requests/new",
        f"/tongtong/requests/{own.code}",
        "/cards/suggestions/new",
        "/cards/suggestions/mine",
    ]
    _walk(page, live_server, citizen_paths)
    _logout(page)


def test_staff_work_pages_fit_a_phone_and_pass_axe(demo_city, session, live_server, page):
    staff_request = db.session.scalar(select(MeetingRequest.id).order_by(MeetingRequest.id.desc()))
    item_id = db.session.scalar(select(CardItem.id).order_by(CardItem.id))
    suggestion_id = db.session.scalar(
        select(CardItem.id).where(CardItem.source_kind == "citizen").order_by(CardItem.id)
    )
    db.session.commit()
    # A sample of work pages (lists, details, forms).
    _login(page, live_server, "admin@demo.civic.kr")
    staff_paths = [
        "/staff/tongtong/requests",
        f"/staff/tongtong/requests/{staff_request}",
        "/staff/tongtong/sessions",
        "/staff/cards/",
        f"/staff/cards/items/{item_id}",
        "/staff/cards/budget",
        "/staff/satisfaction/",
        "/staff/cards/suggestions/",
        f"/staff/cards/suggestions/{suggestion_id}/answer",
        "/staff/visits",
        "/committee/admin",
        "/staff/telegram",
        "/admin/users",
        "/admin/workdays",
    ]
    _walk(page, live_server, staff_paths)
