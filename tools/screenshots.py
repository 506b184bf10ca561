"""Screenshots of the main citizen pages at phone and desktop widths (`make screenshots`).

Starts the app on demo data in a temporary SQLite file, drives Debian's Chromium with Playwright
and writes PNGs to screenshots/ (not committed). For looking at the KRDS layout by eye:

    .venv/bin/python tools/screenshots.py [--out screenshots] [--widths 390,1280]
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from civic_app import create_app  # noqa: E402
from civic_app.extensions import db  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CITIZEN = ("citizen@demo.civic.kr", "civic-demo-2026")


def demo_app(path: Path):
    """An app on a fresh SQLite file holding the demo data (as `flask seed-demo` loads it)."""
    from civic_app.demo.cli import ensure_reference_data
    from civic_app.registry import get_registry
    from civic_app.timeutil import utcnow

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
            "SECRET_KEY": "screenshots-only",
            "RATELIMIT_ENABLED": False,
            "RATELIMIT_STORAGE_URI": "memory://",
            "CACHE_PAGES": False,
        }
    )
    with app.app_context():
        db.create_all()
        ensure_reference_data(db.session)
        db.session.commit()
        ctx = {"now": utcnow(), "echo": lambda *args, **kwargs: None}
        for _order, _name, fn in get_registry(app).demo_loaders:
            fn(db.session, ctx)
            db.session.commit()
    return app


def page_urls(app) -> dict[str, str]:
    """name -> path of the pages to photograph, found in the demo data."""
    from civic_app.accounts.models import User
    from civic_app.cards.models import CardItem
    from civic_app.committee.models import ReportingQuarter
    from civic_app.meetings.models import MeetingRequest

    with app.app_context():
        citizen = db.session.scalar(select(User).where(User.email == CITIZEN[0]))
        request = db.session.scalar(
            select(MeetingRequest)
            .where(MeetingRequest.requester_id == citizen.id)
            .order_by(MeetingRequest.id)
        )
        item = db.session.scalar(select(CardItem).order_by(CardItem.id))
        quarter = db.session.scalar(
            select(ReportingQuarter)
            .where(ReportingQuarter.published_at.is_not(None))
            .order_by(ReportingQuarter.id.desc())
        )
        urls = {
            "home": "/",
            "tongtong": "/tongtong",
            "request-form": "/tongtong/requests/new",
            "request-status": f"/tongtong/requests/{request.code}" if request else "/tongtong/requests",
            "card-item": f"/cards/{item.dong.code}/items/{item.id}" if item else "/cards/",
            "quarterly-report": f"/committee/reports/{quarter.id}" if quarter else "/committee/reports",
        }
    return urls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=str(ROOT / "screenshots"))
    parser.add_argument("--widths", default="390,1280")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    widths = [int(w) for w in args.widths.split(",")]

    from playwright.sync_api import sync_playwright

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="civic-shots-") as tmp:
        app = demo_app(Path(tmp) / "demo.sqlite3")
        urls = page_urls(app)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(
                    executable_path=CHROMIUM, args=["--headless=new", "--no-sandbox", "--disable-gpu"]
                )
                context = browser.new_context(locale="ko-KR")
                page = context.new_page()
                page.goto(f"{base}/login")
                page.fill("input[name=email]", CITIZEN[0])
                page.fill("input[name=password]", CITIZEN[1])
                page.locator("main button[type=submit]").click()
                page.wait_for_load_state()
                for width in widths:
                    page.set_viewport_size({"width": width, "height": 900})
                    for name, path in urls.items():
                        page.goto(base + path)
                        page.evaluate("document.fonts.ready")
                        target = out / f"{name}-{width}.png"
                        page.screenshot(path=str(target), full_page=True)
                        print(target)
                browser.close()
        finally:
            server.shutdown()


if __name__ == "__main__":
    main()
