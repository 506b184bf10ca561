"""Issue 12, "Done means": the whole 홍길동 trail, then every public surface searched.

A citizen with his name, phone and e-mail in every free-text field of a 통통데이 request goes
through request → fallback with a reason → outcome and summary (staff first type his name and
are refused) → publication → Telegram through the local fake Bot API. Then every public page
reachable from the home page, every feed (public and the personal ones of staff, mayor and
deputy), every API list and CSV, and every Telegram message is searched: 0 hits.

It lives with the bot tests because it needs their fake Bot API and real bot process.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections import deque
from urllib.parse import urljoin, urlsplit

from sqlalchemy import select

from civic_app.meetings.models import MeetingRequest
from civic_app.telegram import services as telegram_services
from civic_app.visits.models import Visit
from tests.bots.conftest import CHANNEL
from tests.factories import NOW, login, make_department, make_dong, make_host, make_user
from tests.factories_meetings import make_host_slot, make_sessions
from tests.privacy_search import hits

NAME, PHONE, EMAIL = "홍길동", "010-1234-5678", "hong.gildong@example.com"
REFUSED = "공개 글에 개인정보(이름: 홍길동)가 있습니다. 지우고 다시 저장하세요."
HREF_RE = re.compile(r'(?:href|src|hx-get)="([^"]+)"')
SKIP = ("/static/", "/logout", "webcal:", "mailto:", "tel:", "javascript:")
MAX_PAGES = 1500


def clock(monkeypatch, module: str, at: dt.datetime) -> None:
    """The views read the clock once per request: pin it for the trail's steps (``module``:
    the views module that imports ``utcnow``)."""
    monkeypatch.setattr(f"civic_app.{module}.utcnow", lambda: at)


# The sign-up form shows "예: 010-1234-5678" as the format of a phone number: the issue's
# citizen happens to have that very number. The hint is not his data; nothing else is exempt.
FORMAT_HINTS = ("예: 010-1234-5678", "e.g. 010-1234-5678")


def search(text: str) -> list[str]:
    for hint in FORMAT_HINTS:
        text = text.replace(hint, "")
    return hits(text, name=NAME, phone=PHONE, email=EMAIL)


def crawl(client) -> dict[str, str]:
    """Every URL reachable from the home page by following links, as an anonymous visitor."""
    seen: dict[str, str] = {}
    queue = deque(["/"])
    queued = {"/"}
    while queue and len(seen) < MAX_PAGES:
        url = queue.popleft()
        response = client.get(url)
        assert response.status_code < 500, url
        if response.status_code in (301, 302, 303, 307, 308):
            target = urlsplit(urljoin("http://civic.test" + url, response.headers["Location"]))
            nxt = target.path + (f"?{target.query}" if target.query else "")
            if target.netloc in ("", "civic.test", "localhost") and nxt not in queued:
                queued.add(nxt)
                queue.append(nxt)
            continue
        body = response.get_data(as_text=True)
        seen[url] = body
        if not response.mimetype.startswith("text/html"):
            continue
        for raw in HREF_RE.findall(body):
            link = raw.replace("&amp;", "&")
            if link.startswith(SKIP) or link.startswith("#"):
                continue
            parts = urlsplit(urljoin("http://civic.test" + url, link))
            if parts.netloc not in ("civic.test", "localhost") or parts.scheme not in ("http", "https"):
                continue
            nxt = parts.path + (f"?{parts.query}" if parts.query else "")
            if nxt not in queued:
                queued.add(nxt)
                queue.append(nxt)
    return seen


def api_lists(client) -> dict[str, str]:
    """Every GET list and CSV of the open-data API (from its own OpenAPI document)."""
    spec = client.get("/api/v1/openapi.json").get_json()
    bodies = {}
    for path, item in spec["paths"].items():
        if "get" not in item or "{" in path:
            continue
        url = "/api/v1" + path if not path.startswith("/api/") else path
        for query in ("", "?from=2026-01-01&to=2027-12-31"):
            response = client.get(url + query)
            assert response.status_code < 500, url
            if response.status_code == 200:
                bodies[url + query] = response.get_data(as_text=True)
    return bodies


def feed_path(client) -> str:
    client.post("/account/calendar/renew")
    match = re.search(r"(/calendar/personal/[A-Za-z0-9_-]+\.ics)", client.get("/account/calendar").text)
    assert match
    return match.group(1)


def test_the_hong_gildong_trail_leaves_no_personal_data_on_any_public_surface(
    app, session, client, runner, fake_api, run_bot, monkeypatch
):
    # --- the cast -----------------------------------------------------------------------------
    make_sessions()
    dong = make_dong("중앙동")
    dept = make_department("도로과")
    citizen = make_user("citizen", name=NAME, phone=PHONE, email=EMAIL)
    staff = make_user("civic_staff", name="소통주무관", phone="031-729-2000", email="staff@city.example")
    mayor_user = make_user("host", name="김시장", phone=None, email="mayor@city.example")
    deputy_user = make_user("host", name="이부시장", phone=None, email="deputy@city.example")
    make_host("시장", rank=1, user_id=mayor_user.id, person_name="김시장")
    deputy = make_host("부시장", rank=2, user_id=deputy_user.id, person_name="이부시장")
    slot = make_host_slot(deputy, NOW + dt.timedelta(days=2))
    visit = Visit(
        kind="regular",
        dong_id=dong.id,
        start_at=NOW - dt.timedelta(days=1),
        end_at=NOW - dt.timedelta(days=1, hours=-2),
        status="held",
        published=True,
        sequence=0,
        created_at=NOW,
        updated_at=NOW,
    )
    session.add(visit)
    session.commit()

    # --- the citizen asks, with personal data in every free-text field --------------------------
    clock(monkeypatch, "meetings.views.common", NOW)
    login(client, citizen)
    response = client.post(
        "/tongtong/requests/new",
        data={
            "topic": f"{NAME} 집 앞 통학로 ({PHONE})",
            "category": "도로·교통",
            "desired_outcome": f"홍 길동입니다. +82 10 1234 5678 또는 hong.gildong＠example.com 으로 연락 주세요. {NAME}",
            "dong_id": str(dong.id),
            "party_size": "1",
            "accessibility": f"{NAME} 휠체어, (010)1234-5678, hong.gildong [at] example.com",
            "consent": "y",
            "publish_consent": "y",
            "attachment": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), f"{NAME}_{PHONE}.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.text
    req = session.scalar(select(MeetingRequest).where(MeetingRequest.requester_id == citizen.id))
    code = telegram_services.create_link_code(session, citizen, now=dt.datetime.now(dt.UTC))
    session.commit()
    client.post("/logout")

    # --- staff: not the mayor, the deputy, with a reason ------------------------------------------
    login(client, staff)
    response = client.post(
        f"/staff/tongtong/requests/{req.id}/decide/fallback",
        data={
            "f-reason_code": "mayor_full",
            "f-note": "시장 면담 일정이 가득 차 부시장이 만납니다.",
            "f-slot_id": slot.id,
        },
    )
    assert response.status_code == 302, response.text
    session.expire_all()
    assert req.status == "booked"

    # --- after the meeting: outcome and summary; the name is refused, clean text published -------
    clock(monkeypatch, "meetings.views.common", slot.end_at + dt.timedelta(hours=1))
    outcome = {"attended": "y", "outcome": f"{NAME} 님과 보도 설치를 논의했습니다."}
    for leaky in (
        f"{NAME} 님과 면담했습니다. 보도를 설치하기로 했습니다.",
        "홍 길동 씨와 보도 설치를 약속했습니다.",
    ):
        response = client.post(
            f"/staff/tongtong/requests/{req.id}/outcome", data={**outcome, "public_summary": leaky}
        )
        assert response.status_code == 400
        assert "공개 글에 개인정보(이름: " in response.text
    assert (
        REFUSED
        in client.post(
            f"/staff/tongtong/requests/{req.id}/outcome",
            data={**outcome, "public_summary": f"{NAME} 님과 면담했습니다."},
        ).text
    )
    clean = "보도 설치를 내년 예산에 반영하기로 했습니다."
    response = client.post(
        f"/staff/tongtong/requests/{req.id}/outcome", data={**outcome, "public_summary": clean}
    )
    assert response.status_code == 302, response.text
    followup = {"due_date": "2027-03-31", "department_id": str(dept.id), "local_budget": "y"}
    response = client.post(
        f"/staff/tongtong/requests/{req.id}/followups",
        data={**followup, "title": f"{NAME} 님 댁 앞 보도 설치"},
    )
    assert response.status_code == 400
    assert REFUSED in response.text
    response = client.post(
        f"/staff/tongtong/requests/{req.id}/followups",
        data={**followup, "title": "통학로 보도 설치 예산 검토"},
    )
    assert response.status_code == 302, response.text

    # a dong visit's public result: the same guard
    clock(monkeypatch, "visits.views", NOW)
    response = client.post(
        f"/staff/visits/{visit.id}/results", data={"r-summary": f"{NAME} 씨가 보도를 건의했습니다."}
    )
    assert response.status_code == 400
    assert "공개 글에 개인정보(이름: 홍길동)" in response.text
    response = client.post(
        f"/staff/visits/{visit.id}/results", data={"r-summary": "주민들이 보도 설치를 건의했습니다."}
    )
    assert response.status_code == 302, response.text
    personal_feeds = {"staff": feed_path(client)}
    client.post("/logout")
    for label, user in (("mayor", mayor_user), ("deputy", deputy_user)):
        login(client, user)
        personal_feeds[label] = feed_path(client)
        client.post("/logout")
    session.expire_all()
    assert req.status == "held"
    assert req.public_summary == clean

    # --- Telegram: the channel post and the citizen's own /status, through the fake Bot API ------
    fake_api.add_private_message(9100, f"/link {code}")
    fake_api.add_private_message(9100, "/status")
    result = run_bot()
    assert result.returncode == 0, result.stderr
    assert runner.invoke(args=["telegram", "digest"]).exit_code == 0  # the weekly digest too
    result = run_bot()
    assert result.returncode == 0, result.stderr
    posts = fake_api.channel_posts(CHANNEL)
    assert any(clean in p.text for p in posts)  # published, not withheld
    status = fake_api.texts_to("9100")[-1]
    assert req.code in status
    telegram = {f"post {p.message_id}": "\n".join([p.text, *p.edits]) for p in posts}
    telegram |= {
        f"sent {i}": r.params.get("text", "") for i, r in enumerate(fake_api.requests) if "text" in r.params
    }

    # --- search every public surface -------------------------------------------------------------
    monkeypatch.undo()
    pages = crawl(client)
    client.set_cookie("lang", "en")
    english = crawl(client)
    client.set_cookie("lang", "ko")
    feeds = {
        path: client.get(path).get_data(as_text=True)
        for path in ("/calendar/tongtong.ics", "/calendar/visits.ics", "/calendar/committee.ics")
    }
    for label, path in personal_feeds.items():
        response = client.get(path)
        assert response.status_code == 200
        body = response.get_data(as_text=True)
        assert req.code in body or label == "mayor"  # the deputy met him; staff see every meeting
        feeds[f"personal {label}"] = re.sub(r"\r\n[ \t]", "", body)  # unfold long lines
    apis = api_lists(client)

    surfaces = {**pages, **{f"en {url}": body for url, body in english.items()}, **feeds, **apis, **telegram}
    leaks = {where: found for where, text in surfaces.items() if (found := search(text))}
    assert leaks == {}

    # the crawl really went through the site
    assert len(pages) >= 40, "\n".join(sorted(pages))
    for expected in (
        "/tongtong",
        f"/tongtong/summaries/{req.id}",
        f"/visits/{visit.id}",
        f"/visits/dongs/{dong.code}",
        f"/cards/{dong.code}",
        "/committee/",
        "/dashboard",
        "/calendar/tongtong.ics",
        "/api/v1/tongtong-days.csv",
    ):
        assert expected in pages, expected
    # the follow-up went to the dong's public card, with the request's (masked) topic
    assert any(url.startswith(f"/cards/{dong.code}/items/") for url in pages)
    assert clean in pages[f"/tongtong/summaries/{req.id}"]
    assert any(url.endswith(".csv") or ".csv?" in url for url in apis)
    assert len(apis) >= 10, sorted(apis)
    assert len(telegram) >= 4
    assert any("Meeting outcomes" in body for body in english.values())  # the English pages
    # and the searcher does find what it looks for
    for planted in (f"연락 {PHONE}", "홍 길동 님", "hong.gildong＠example.com", "+82 10 1234 5678"):
        assert search(planted), planted
