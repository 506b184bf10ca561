"""Hostile input on every API parameter, URL argument and form field: never a 500.

The endpoints are not listed by hand: the test walks ``app.url_map`` and the OpenAPI document,
fills URL arguments from the converters (real ids and hostile ones), and finds each form by
rendering the pages (as a staff user holding every role) and reading their ``<form>`` fields.
A planted ``<script>`` payload stored in every free-text column must come back escaped on
every HTML page.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import quote, urlsplit

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import AnyConverter, IntegerConverter
from werkzeug.utils import cached_property

from civic_app.accounts.models import User
from civic_app.extensions import db
from civic_app.web.policy import ROLES, policy_for_endpoint
from tests.conftest import clean_database, restore_snapshot, take_snapshot
from tests.factories import make_department, make_user

pytestmark = pytest.mark.slow

SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
PAYLOADS = [
    SCRIPT,
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    "{{7*7}}{% raw %}",
    "'; DROP TABLE users; --",
    "1 OR 1=1",
    "' OR ''='",
    "%_\\",
    "\x00",
    "a\x00b",
    "\r\n\t\x0b\x0c\x1b[31m",
    "\u202e\u200b\ufeff",
    "가나다라 마바사 😀🇰🇷👩‍👩‍👧",
    "😀" * 300,
    "가" * 5000,
    "x" * 20000,
    "-1",
    "0",
    "-0",
    "2147483648",
    "-9223372036854775809",
    "99999999999999999999999999",
    "1e309",
    "NaN",
    "0001-01-01",
    "1900-01-01",
    "9999-12-31",
    "10000-01-01",
    "-0001-01-01",
    "2026-02-30",
    "2026-13-01",
    "24:61",
    "",
    " ",
]
hostile = st.one_of(
    st.sampled_from(PAYLOADS),
    st.text(max_size=200),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=60),
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
    st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)).map(dt.date.isoformat),
    st.builds(lambda a, b: a + b, st.sampled_from(PAYLOADS), st.text(max_size=20)),
)
QUERY_NAMES = (
    "page",
    "per_page",
    "q",
    "from",
    "to",
    "year",
    "month",
    "status",
    "dong",
    "kind",
    "sort",
    "next",
)
# Free-text columns that pages show; planting a script there must not make it run.
TEXT_COLUMNS = {
    "name",
    "title",
    "person_name",
    "description",
    "summary",
    "result_summary",
    "public_summary",
    "topic",
    "desired_outcome",
    "location",
    "theme",
    "notes",
    "note",
    "outcome",
    "answer_text",
    "interim_answer",
    "decision_note",
    "progress_text",
    "issues",
    "next_steps",
    "comment",
    "minutes",
    "status_reason",
    "plan_reason",
    "other_participants",
    "cancel_reason",
    "reason",
    "field",
}
# Posting these would end the fuzzing user's session; they are covered by their own tests.
SKIP_POST = {"accounts.logout"}
# Deterministic (derandomize): the same examples on every run, so CI does not flicker; explicit
# examples add the plain cases (real URL, empty form, staff user) to every endpoint.
FUZZ = settings(
    max_examples=8,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@dataclass
class Form:
    action: str
    fields: dict[str, list[str]] = field(default_factory=dict)  # name -> choices ([] = free input)
    checkboxes: set[str] = field(default_factory=set)
    files: set[str] = field(default_factory=set)


class FormParser(HTMLParser):
    def __init__(self, page_url: str) -> None:
        super().__init__()
        self.page_url = page_url
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "get").lower() == "post":
            self._form = Form(action=urlsplit(a.get("action") or self.page_url).path)
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag in ("input", "textarea") and a.get("name") and a.get("name") != "csrf_token":
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "image", "reset"):
                return
            if kind == "file":
                self._form.files.add(a["name"])
            if kind in ("checkbox", "radio"):
                self._form.fields.setdefault(a["name"], []).append(a.get("value") or "y")
                if kind == "checkbox":
                    self._form.checkboxes.add(a["name"])
            else:
                self._form.fields.setdefault(a["name"], [])
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
            self._form.fields.setdefault(a["name"], [])
        elif tag == "option" and self._select:
            self._form.fields[self._select].append(a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def _plant_payload() -> int:
    """Prefix every free-text value of every table with the script payload."""
    planted = 0
    for table in db.metadata.sorted_tables:
        for col in table.columns:
            if col.name not in TEXT_COLUMNS or not isinstance(col.type, sa.String) or col.foreign_keys:
                continue
            if col.unique or any(
                isinstance(c, sa.UniqueConstraint) and col.name in c.columns for c in table.constraints
            ):
                continue  # a key looked up by value (the committee's name), not free text
            length = col.type.length or 10_000
            if length < len(SCRIPT) + 2:
                continue
            value = sa.func.substr(sa.literal(SCRIPT + " ") + sa.func.coalesce(col, ""), 1, length)
            result = db.session.execute(table.update().where(col.is_not(None)).values({col.name: value}))
            planted += result.rowcount or 0
    return planted


@pytest.fixture(scope="session")
def _world_snapshot(app) -> tuple[dict, dict]:
    """The fuzzing city, built once per test process and restored for each test (seeding it costs
    seconds, restoring it a fraction): seed-scale's small city, the planted payload in every
    free-text column, a staff user holding every role and a citizen."""
    with app.app_context():
        clean_database(app)
        result = app.test_cli_runner().invoke(
            args=[
                "seed-scale",
                "--dongs",
                "4",
                "--requests",
                "40",
                "--card-items",
                "40",
                "--committee-tasks",
                "6",
                "--outbox",
                "20",
                "--citizens",
                "5",
                "--years",
                "2",
            ]
        )
        assert result.exit_code == 0, result.output
        planted = _plant_payload()
        dept = make_department("퍼징과", field="도로·교통")
        staff = make_user(
            *[r for r in ROLES if r != "citizen"], email="fuzz-staff@example.com", department=dept
        )
        citizen = make_user("citizen", email="fuzz-citizen@example.com")
        db.session.commit()
        ids = {"staff": (staff.id, staff.email), "citizen": (citizen.id, citizen.email), "planted": planted}
        snapshot = take_snapshot()
        clean_database(app)
    return snapshot, ids


@pytest.fixture
def world(app, session, _world_snapshot):
    """A small city seeded by seed-scale, a planted payload, and a user holding every role."""
    snapshot, ids = _world_snapshot
    restore_snapshot(snapshot)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a crash becomes the 500 page we assert on
    yield ids
    app.config["PROPAGATE_EXCEPTIONS"] = None


def _client(app, user=None):
    # In production every request has its own app context and session; here the test's app
    # context is shared, so end the previous request's session as teardown would.
    db.session.remove()
    client = app.test_client()
    if user is not None:
        user_id = user[0]
        token = db.session.scalar(sa.select(User.session_token).where(User.id == user_id))
        db.session.remove()
        with client.session_transaction() as sess:
            sess["_user_id"] = f"{user_id}:{token}"
            sess["_fresh"] = True
    return client


def _rules(app, method: str):
    for rule in app.url_map.iter_rules():
        if method in (rule.methods or ()) and rule.endpoint != "static":
            yield rule


def _real_values(rule) -> dict[str, list[str]]:
    """Values for each URL argument that point at existing rows (ids 1-2, real codes)."""
    out: dict[str, list[str]] = {}
    for name, conv in rule._converters.items():
        if isinstance(conv, AnyConverter):
            out[name] = sorted(conv.items)
        elif isinstance(conv, IntegerConverter):
            out[name] = ["1", "2"]
        elif name == "code":
            codes = []
            for table in ("dongs", "committee_tasks", "meeting_requests"):
                t = db.metadata.tables.get(table)
                if t is not None and "code" in t.c:
                    codes += list(db.session.scalars(sa.select(t.c.code).limit(1)))
            out[name] = codes or ["x"]
        else:
            out[name] = ["x"]
    return out


def _build(rule, values: dict[str, str]) -> str:
    def sub(match: re.Match) -> str:
        name = match.group(1).rsplit(":", 1)[-1]
        return quote(values[name], safe="")

    return re.sub(r"<([^>]+)>", sub, rule.rule)


def _endpoint_for(app, path: str) -> str | None:
    try:
        return app.url_map.bind("localhost").match(path, "POST")[0]
    except Exception:  # noqa: BLE001 - NotFound, MethodNotAllowed, RequestRedirect
        return None


def _url_strategy(rule):
    real = _real_values(rule)
    parts = {}
    for name, conv in rule._converters.items():
        if isinstance(conv, IntegerConverter):
            parts[name] = st.one_of(
                st.sampled_from(real[name]),
                st.sampled_from(["0", "2147483648", "9223372036854775808", "99999999999999999999999"]),
            )
        elif isinstance(conv, AnyConverter):
            parts[name] = st.sampled_from(real[name])
        else:
            parts[name] = st.one_of(
                st.sampled_from(real[name]), hostile.filter(lambda s: s.strip("./") != "")
            )
    return st.fixed_dictionaries(parts).map(lambda values: _build(rule, values))


def _check(response, what: str) -> None:
    db.session.remove()
    assert response.status_code < 500, f"{what} → {response.status_code}"


def _collect_forms(app, users) -> dict[str, Form]:
    forms: dict[str, Form] = {}
    for user in users:
        client = _client(app, user)
        for rule in _rules(app, "GET"):
            for combo in _combos(rule):
                response = client.get(combo)
                if response.status_code != 200 or response.mimetype != "text/html":
                    continue
                parser = FormParser(combo)
                parser.feed(response.get_data(as_text=True))
                for form in parser.forms:
                    if form.fields and form.action not in forms:
                        forms[form.action] = form
    return forms


def _combos(rule) -> list[str]:
    real = _real_values(rule)
    urls = [{}]
    for name, values in real.items():
        urls = [{**u, name: v} for u in urls for v in values]
    return [_build(rule, u) for u in urls]


def _run(fuzz, failures: list[str]) -> None:
    """Fuzz one endpoint; collect its (shrunk) failure so every endpoint is tried and reported."""
    try:
        fuzz()
    except Exception as error:  # noqa: BLE001 - reported all together at the end of the test
        failures.append(str(error).splitlines()[0][:500])


def test_api_parameters_never_500(app, world):
    failures: list[str] = []
    doc = app.test_client().get("/api/v1/openapi.json").get_json()
    assert doc["paths"], "the OpenAPI document lists no paths"
    for path, ops in doc["paths"].items():
        op = ops.get("get")
        if op is None:
            continue
        params = {p["name"]: p for p in op.get("parameters", [])}
        query = st.fixed_dictionaries({}, optional=dict.fromkeys(params, hostile))

        @FUZZ
        @given(query=query, path=st.just(path))
        def fuzz(query, path):
            response = _client(app).get(path, query_string=query)
            _check(response, f"GET {path} {query!r}")
            if response.status_code >= 400:
                assert response.is_json, f"{path}: API errors are JSON"
                assert response.get_json()["error"]["message"]

        _run(fuzz, failures)
    assert not failures, "\n".join(failures)


def test_get_pages_with_hostile_arguments_never_500(app, world):
    users = (None, world["citizen"], world["staff"])
    rules = sorted(_rules(app, "GET"), key=lambda r: r.rule)
    assert len(rules) > 10
    failures: list[str] = []
    for rule in rules:
        queries = st.fixed_dictionaries({}, optional=dict.fromkeys(QUERY_NAMES, hostile))

        @FUZZ
        @given(url=_url_strategy(rule), query=queries, who=st.sampled_from(users), hx=st.booleans())
        @example(url=_combos(rule)[0], query={}, who=world["staff"], hx=False)
        @example(url=_combos(rule)[0], query={}, who=world["staff"], hx=True)
        def fuzz(url, query, who, hx):
            client = _client(app, who)
            headers = {"HX-Request": "true"} if hx else {}
            response = client.get(url, query_string=query, headers=headers)
            _check(response, f"GET {url} {query!r} as {who and who[1]}")

        _run(fuzz, failures)
    assert not failures, "\n".join(failures)


def test_form_posts_never_500(app, world):
    users = (None, world["citizen"], world["staff"])
    forms = _collect_forms(app, [world["staff"]])
    assert len(forms) >= 5, f"only found forms for {sorted(forms)}"
    form_by_endpoint: dict[str, Form] = {}
    for action, form in forms.items():
        endpoint = _endpoint_for(app, action)
        if endpoint and endpoint not in form_by_endpoint:
            form_by_endpoint[endpoint] = form
    by_endpoint = {
        r.endpoint: (r, form_by_endpoint.get(r.endpoint))
        for r in _rules(app, "POST")
        if r.endpoint not in SKIP_POST
    }
    covered = [e for e, (_r, f) in by_endpoint.items() if f is not None]
    assert len(covered) >= 5, f"forms found only for {covered}"
    failures: list[str] = []
    for endpoint, (rule, form) in sorted(by_endpoint.items()):
        names = dict(form.fields) if form else {n: [] for n in ("name", "title", "body", "date", "amount")}

        def value(choices: list[str]):
            if choices:
                return st.one_of(st.sampled_from(choices), hostile)
            return hostile

        data = st.fixed_dictionaries({}, optional={n: value(c) for n, c in names.items()})

        real_url = _combos(rule)[0]
        filled = {n: (c[0] if c else SCRIPT) for n, c in names.items()}

        @FUZZ
        @given(url=_url_strategy(rule), data=data, who=st.sampled_from(users), endpoint=st.just(endpoint))
        @example(url=real_url, data={}, who=world["staff"], endpoint=endpoint)
        @example(url=real_url, data=filled, who=world["staff"], endpoint=endpoint)
        def fuzz(url, data, who, endpoint):
            response = _client(app, who).post(url, data=data)
            _check(response, f"POST {url} ({endpoint}) {data!r} as {who and who[1]}")

        _run(fuzz, failures)
        db.session.rollback()
    assert not failures, "\n".join(failures)


def test_planted_script_comes_back_escaped(app, world):
    assert world["planted"] > 0
    pages_with_payload = []
    for who in (None, world["staff"]):
        client = _client(app, who)
        for rule in _rules(app, "GET"):
            for url in _combos(rule):
                for headers in ({}, {"HX-Request": "true"}):
                    response = client.get(url, headers=headers)
                    _check(response, f"GET {url}")
                    if response.mimetype != "text/html":
                        continue
                    body = response.get_data(as_text=True)
                    assert SCRIPT not in body, f"unescaped payload on {url} ({headers})"
                    assert "<img src=x onerror" not in body, url
                    if ESCAPED in body:
                        pages_with_payload.append(url)
    # The check above means something only if the payload is shown somewhere.
    assert len(set(pages_with_payload)) >= 3, pages_with_payload


def test_id_beyond_sql_integer_is_404_not_500(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        for rule in _rules(app, "GET"):
            ints = [n for n, c in rule._converters.items() if isinstance(c, IntegerConverter)]
            if not ints:
                continue
            values = {
                name: (sorted(c.items)[0] if hasattr(c, "items") else "1")
                for name, c in rule._converters.items()
            }
            values[ints[0]] = "99999999999999999999"
            assert client.get(_build(rule, values)).status_code in (302, 401, 403, 404), rule.rule
    finally:
        app.config["PROPAGATE_EXCEPTIONS"] = None


def test_nul_character_is_refused_with_400(client):
    assert client.get("/api/v1/dongs", query_string={"page": "1\x00"}).status_code == 400
    assert client.post("/login", data={"email": "a\x00@example.com", "password": "x"}).status_code == 400
    assert client.get("/api/v1/dongs", query_string={"page": "1"}).status_code == 200
    assert client.get("/visits/dongs/%00").status_code == 404


def test_telegram_messages_escape_hostile_payloads(app):
    from civic_app.telegram.render import KINDS, MAX_LENGTH, render_message
    from tests.bots.telegram_html import validate

    extra_keys = (
        "dong_name",
        "date",
        "start",
        "status",
        "host",
        "year",
        "quarter",
        "amount",
        "count",
        "theme",
    )
    payloads = st.fixed_dictionaries(
        {"title": hostile, "summary": hostile, "url": hostile},
        optional={"lines": st.lists(hostile, max_size=5), **dict.fromkeys(extra_keys, hostile)},
    )

    @FUZZ
    @given(
        kind=st.sampled_from([*KINDS, "unknown_kind"]), payload=payloads, locale=st.sampled_from(["ko", "en"])
    )
    def fuzz(kind, payload, locale):
        with app.test_request_context():
            rendered = render_message(kind, payload, locale=locale)
        assert SCRIPT not in rendered.text
        assert "<img" not in rendered.text
        assert len(rendered.text) <= MAX_LENGTH
        validate(rendered.text)  # Telegram would accept it (only its tags, all closed)

    fuzz()


HUGE = "99999999999999999999"
# Integer query arguments the pages read, besides those found in their links and GET forms.
INT_QUERY_NAMES = ("page", "per_page", "dong", "year", "field", "department", "month", "id")


class LinkParser(HTMLParser):
    """Query argument names of same-site links and GET forms, by target path."""

    def __init__(self) -> None:
        super().__init__()
        self.names: dict[str, set[str]] = {}
        self._get_form: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href", "").startswith("/") and "?" in a["href"]:
            parts = urlsplit(a["href"])
            keys = {kv.split("=", 1)[0] for kv in parts.query.split("&") if kv}
            self.names.setdefault(parts.path, set()).update(keys)
        elif tag == "form" and a.get("method", "get").lower() == "get":
            self._get_form = urlsplit(a.get("action") or "").path
        elif tag in ("input", "select") and self._get_form is not None and a.get("name"):
            self.names.setdefault(self._get_form, set()).add(a["name"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._get_form = None


class _ReadArgs(ImmutableMultiDict):
    """Query arguments that note which names the app reads while ``_ReadArgs.reads`` is a set:
    a name asked for by key (``get``, ``[]``, ``in``, ``getlist``) is added; reading them all
    (iteration, ``items``, ``to_dict``, ``len`` …) adds ``ALL``."""

    ALL = "\x00all"
    reads: set[str] | None = None

    def _note(self, key) -> None:
        if _ReadArgs.reads is not None:
            _ReadArgs.reads.add(key)

    def __getitem__(self, key):
        self._note(key)
        return super().__getitem__(key)

    def __contains__(self, key) -> bool:
        self._note(key)
        return super().__contains__(key)

    def get(self, key, default=None, type=None):
        self._note(key)
        return super().get(key, default, type)

    def getlist(self, key, type=None):
        self._note(key)
        return super().getlist(key, type)


def _reads_all(name: str):
    def whole(self, *args, **kwargs):
        self._note(_ReadArgs.ALL)
        return getattr(ImmutableMultiDict, name)(self, *args, **kwargs)

    return whole


for _name in (
    "__iter__",
    "__len__",
    "__eq__",
    "keys",
    "values",
    "items",
    "lists",
    "listvalues",
    "to_dict",
    "copy",
):
    setattr(_ReadArgs, _name, _reads_all(_name))


def _names_read(app, client, url: str) -> set[str]:
    """The query argument names the app reads (after the shared input guards, which only look for
    NUL) when ``url`` is requested without any: the route, its view, its template and what runs
    after. A request that adds one argument the app never read without it runs the same code."""

    def start_noting() -> None:
        _ReadArgs.reads = set()

    base = app.request_class

    class NotingRequest(base):
        @cached_property
        def args(self) -> _ReadArgs:
            return _ReadArgs(base.args.fget(self))

    app.before_request_funcs.setdefault(None, []).append(start_noting)
    app.request_class = NotingRequest
    try:
        response = client.get(url)
        read = _ReadArgs.reads or set()
    finally:
        app.request_class = base
        app.before_request_funcs[None].remove(start_noting)
        _ReadArgs.reads = None
        db.session.remove()
    assert response.status_code < 500, f"GET {url} → {response.status_code}"
    return read


def test_huge_integers_in_every_query_arg_never_500(app, world):
    """Every GET route × role, one query argument at a time set beyond any SQL integer.

    Each argument the route reads is tried: a request adding an argument the route does not
    read (asked without it, the route never looked at that name) runs the very code of the
    request without it, so only the names it reads are sent one by one."""
    users = (None, world["citizen"], world["staff"])
    seen: dict[str, set[str]] = {}
    for who in (None, world["staff"]):
        client = _client(app, who)
        for rule in _rules(app, "GET"):
            url = _combos(rule)[0]
            response = client.get(url)
            if response.mimetype == "text/html":
                parser = LinkParser()
                parser.feed(response.get_data(as_text=True))
                for path, names in parser.names.items():
                    seen.setdefault(path, set()).update(names)
    roles = {who: _roles_of(who) for who in users}
    failures = []
    tried = 0
    for rule in sorted(_rules(app, "GET"), key=lambda r: r.rule):
        url = _combos(rule)[0]
        names = set(INT_QUERY_NAMES) | seen.get(urlsplit(url).path, set()) | seen.get("", set())
        policy = policy_for_endpoint(app, rule.endpoint)
        for who in users:
            client = _client(app, who)
            if policy is not None and not policy.allows(roles[who]):
                # The route policy refuses this role before the view reads anything: one request
                # with every argument huge at once shows the refusal holds whatever they are.
                response = client.get(url, query_string=dict.fromkeys(sorted(names), HUGE))
                db.session.remove()
                if response.status_code >= 500 or response.status_code not in (302, 401, 403):
                    failures.append(
                        f"GET {url} (every argument {HUGE}) as {who and who[1]}: {response.status}"
                    )
                continue
            read = _names_read(app, client, url)
            for name in sorted(names if _ReadArgs.ALL in read else names & read):
                tried += 1
                response = client.get(url, query_string={name: HUGE})
                db.session.remove()
                if response.status_code >= 500:
                    failures.append(f"GET {url}?{name}={HUGE} as {who and who[1]}")
    assert not failures, "\n".join(failures)
    # The pages' own filters and pagination are among the names tried.
    assert tried >= 50, tried


def test_reading_query_arguments_is_noted():
    """The note-taking the test above relies on: a name asked for is noted; reading all is noted."""
    args = _ReadArgs([("page", "2"), ("q", "x")])
    _ReadArgs.reads = set()
    try:
        assert args.get("page") == "2"
        assert "dong" not in args
        assert args.getlist("q") == ["x"]
        assert args["q"] == "x"
        assert _ReadArgs.reads == {"page", "dong", "q"}
        for read_all in (
            lambda: dict(args.items()),
            lambda: list(args),
            args.to_dict,
            lambda: bool(args),
            lambda: list(args.keys()),
        ):
            _ReadArgs.reads = set()
            read_all()
            assert _ReadArgs.ALL in _ReadArgs.reads
    finally:
        _ReadArgs.reads = None
    assert args.get("page") == "2"  # not noting: no set to add to


def _roles_of(who) -> frozenset[str] | None:
    if who is None:
        return None
    roles = db.session.get(User, who[0]).role_set
    db.session.remove()
    return frozenset(roles)


def test_huge_integers_in_every_form_field_never_500(app, world):
    """Every POST form × role: each field in turn beyond any SQL integer, the others real."""
    users = (None, world["citizen"], world["staff"])
    forms = _collect_forms(app, [world["staff"], world["citizen"]])
    assert len(forms) >= 5
    failures = []
    for action, form in sorted(forms.items()):
        endpoint = _endpoint_for(app, action)
        if endpoint is None or endpoint in SKIP_POST:
            continue
        filled = {n: (c[0] if c else "1") for n, c in form.fields.items()}
        for who in users:
            client = _client(app, who)
            for name in sorted(form.fields) if who == world["staff"] else ["*"]:
                data = dict.fromkeys(filled, HUGE) if name == "*" else {**filled, name: HUGE}
                response = client.post(action, data=data)
                db.session.remove()
                if response.status_code >= 500:
                    failures.append(f"POST {action} {name}={HUGE} as {who and who[1]}")
    assert not failures, "\n".join(failures)


def test_nul_byte_in_every_upload_never_500(app, world):
    """Every form with a file field, as every role: a CSV (or any file) holding a NUL byte."""
    import io

    users = (None, world["citizen"], world["staff"])
    forms = _collect_forms(app, [world["staff"]])
    uploads = [(a, f) for a, f in forms.items() if f.files]
    assert uploads, "no upload form found"
    failures = []
    for action, form in uploads:
        filled = {n: (c[0] if c else "1") for n, c in form.fields.items() if n not in form.files}
        for who in users:
            for content in (
                b"code,name\n4199051000,\x00\xec\xa4\x91\xec\x95\x99\xeb\x8f\x99\n",
                b"\x00" * 64,
                "행정동코드,동이름\n1,a\x00b\n".encode(),
            ):
                data = {**filled, **{n: (io.BytesIO(content), "x.csv") for n in form.files}}
                response = _client(app, who).post(action, data=data, content_type="multipart/form-data")
                db.session.remove()
                if response.status_code >= 500:
                    failures.append(f"POST {action} NUL upload as {who and who[1]}")
    assert not failures, "\n".join(failures)
