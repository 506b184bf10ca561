"""Static files: a phone loads the stylesheet, fonts and scripts once, not on every page.

Pages link each static file with its content version (``?v=``); that URL is kept for a year
(immutable). Without the current version (a font linked from inside a stylesheet, an old page) a
file is revalidated (``no-cache``), so nobody keeps a stale copy after a deploy.
"""

from __future__ import annotations

import os
import re

from civic_app.web.assets import YEAR, StaticVersions


def test_pages_link_static_files_with_their_version_and_those_urls_are_kept_a_year(client, session):
    html = client.get("/login").get_data(as_text=True)
    links = re.findall(r'(?:href|src)="(/static/[^"]+)"', html)
    assert any("krds.css" in link for link in links), links
    for link in links:
        assert re.search(r"\?v=[0-9a-f]{12}$", link), link
        response = client.get(link)
        assert response.status_code == 200, link
        cache = response.cache_control
        assert cache.max_age == YEAR, (link, response.headers)
        assert cache.public, link
        assert cache.immutable, link


def test_without_the_current_version_a_static_file_is_revalidated(client):
    for url in ("/static/css/app.css", "/static/css/app.css?v=000000000000"):
        response = client.get(url)
        assert response.status_code == 200
        assert response.cache_control.no_cache, url
        assert not response.cache_control.max_age
        assert response.headers.get("ETag")  # a revalidation costs a 304, not the file


def test_a_changed_file_gets_a_new_version(tmp_path):
    asset = tmp_path / "site.css"
    asset.write_text("body { color: black; }")
    versions = StaticVersions(str(tmp_path))
    first = versions("site.css")
    assert re.fullmatch(r"[0-9a-f]{12}", first)
    assert versions("site.css") == first  # the same file, the same URL
    asset.write_text("body { color: navy;  }")  # same size, new content
    stat = asset.stat()
    os.utime(asset, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert versions("site.css") != first
    assert versions("missing.css") is None
    assert versions("../outside.css") is None  # never a file outside the static folder
