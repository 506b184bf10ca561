"""The OpenAPI 3 document is valid and complete: every /api/v1 route is described."""

from __future__ import annotations

import re

from openapi_spec_validator import validate

from civic_app.web.policy import policy_for_endpoint


def test_openapi_document_is_valid(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    validate(doc)  # raises on any violation of the OpenAPI 3.0 schema
    assert doc["openapi"].startswith("3.")
    assert all(op.get("operationId") for item in doc["paths"].values() for op in item.values())


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def test_every_api_route_is_documented_and_public(app, client):
    documented = set(client.get("/api/v1/openapi.json").get_json()["paths"])
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule == "/api/v1/openapi.json":
            continue
        assert policy_for_endpoint(app, rule.endpoint).kind == "public", rule.rule
        if rule.arguments and "any(" in rule.rule:
            # /api/v1/stats/<any(a, b):section>: each alternative is its own documented path.
            choices = re.search(r"any\(([^)]*)\)", rule.rule).group(1)
            for choice in (c.strip().strip("'\"") for c in choices.split(",")):
                path = re.sub(r"<any\([^)]*\):[^>]+>", choice, rule.rule)
                if path not in documented:
                    missing.append(path)
        elif _openapi_path(rule.rule) not in documented:
            missing.append(rule.rule)
    assert not missing, f"undocumented API routes: {missing}"


def test_stats_and_csv_paths_are_in_the_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for section in ("plan-vs-actual", "meeting-requests", "suggestions", "committee-progress"):
        assert f"/api/v1/stats/{section}" in paths
        assert "text/csv" in paths[f"/api/v1/stats/{section}.csv"]["get"]["responses"]["200"]["content"]
    for path in ("dongs", "visits", "tongtong-days", "committee/tasks", "committee/summary"):
        assert f"/api/v1/{path}.csv" in paths
