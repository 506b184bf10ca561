"""The menus and the breadcrumb trail every page draws: who sees which menu, which link is the
current page, and which menu section a deeper page sits in."""

from __future__ import annotations

import re

from tests.factories import login, make_user

MENU = re.compile(r'<nav aria-label="[^"]*"[^>]*>\s*(?:<p[^>]*>[^<]*</p>\s*)?<ul[^>]*>(.*?)</ul>', re.S)
LINK = re.compile(r'<li><a href="([^"]*)"( aria-current="page")?>([^<]*)</a></li>')


def _menu_links(html: str) -> list[tuple[str, str, bool]]:
    """(href, label, current) for every link in the page's menus (desktop row and phone panel)."""
    return [
        (href, label, bool(cur)) for menu in MENU.findall(html) for href, cur, label in LINK.findall(menu)
    ]


def _trail(html: str) -> list[tuple[str, str]]:
    crumb = re.search(r'<nav class="krds-breadcrumb-wrap"[^>]*>(.*?)</nav>', html, re.S)
    assert crumb, "no breadcrumb trail on the page"
    return re.findall(r'<a href="([^"]*)" class="txt"[^>]*>([^<]*)</a>', crumb.group(1))


def test_the_current_menu_link_is_marked_in_both_menus(client):
    links = _menu_links(client.get("/cards/").get_data(as_text=True))
    assert ("/dashboard", "소통 현황", False) in links
    # Drawn twice (desktop row, phone panel), marked twice, and nothing else is marked.
    assert [(href, label) for href, label, cur in links if cur] == [("/cards/", "동 관리카드")] * 2
    assert not any(href.startswith(("/staff/", "/admin/")) for href, _l, _c in links), "no work menu"


def test_a_deeper_page_names_its_menu_section_in_the_trail(client):
    # 시민 제안 (/cards/suggestions/) sits below 동 관리카드 (/cards/); the page is the last crumb.
    assert _trail(client.get("/cards/suggestions/").get_data(as_text=True)) == [
        ("/", "홈"),
        ("/cards/", "동 관리카드"),
        ("/cards/suggestions/", "시민 제안"),
    ]
    # A page below a menu link names the longest one that holds it: 동 관리카드 for a dong's card.
    trail = _trail(client.get("/cards/nope-dong").get_data(as_text=True))
    assert trail[:2] == [("/", "홈"), ("/cards/", "동 관리카드")]
    assert trail[-1][0] == "/cards/nope-dong"


def test_staff_see_their_work_menu_and_it_follows_the_language(client, session):
    staff = make_user("civic_staff", email="menu-staff@example.com")
    citizen = make_user("citizen", email="menu-citizen@example.com")
    session.commit()

    login(client, citizen)
    citizen_links = {href for href, _l, _c in _menu_links(client.get("/").get_data(as_text=True))}
    assert {"/account/telegram", "/tongtong/requests", "/account/follows"} <= citizen_links
    assert not any(href.startswith(("/staff/", "/admin/")) for href in citizen_links)
    client.post("/logout")

    login(client, staff)
    links = _menu_links(client.get("/staff/visits").get_data(as_text=True))
    hrefs = {href for href, _l, _c in links}
    assert {"/staff/visits", "/staff/tongtong/requests", "/staff/cards/", "/admin/workdays"} <= hrefs
    assert "/admin/users" not in hrefs, "the user admin page is for administrators only"
    assert [href for href, _l, cur in links if cur] == ["/staff/visits"] * 2
    assert ("/staff/cards/", "관리카드 검토", False) in links

    client.post("/lang", data={"lang": "en", "next": "/staff/visits"})
    english = _menu_links(client.get("/staff/visits").get_data(as_text=True))
    assert [href for href, _l, _c in english] == [href for href, _l, _c in links]
    assert ("/staff/cards/", "Card review", False) in english
