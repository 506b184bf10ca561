"""Card rules without HTTP: the state machine, the three-party gate, merge/split, carry-over,
the envelope fit, priority and optimistic locking."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from civic_app.cards import budget, items, priority, queries, reviews, settings, transitions
from civic_app.cards.models import (
    CRITERIA,
    STATUSES,
    TRANSITIONS,
    CardEvent,
    CardItem,
)
from civic_app.errors import Conflict, InvalidTransition, NotAllowed, ValidationFailed
from civic_app.extensions import db
from civic_app.notify.models import OutboxMessage
from tests.factories import make_dong
from tests.factories_cards import (
    NOW,
    Cast,
    make_item,
    move_to,
    reflected_item,
    review,
    review_all,
    selected_item,
)

LATER = NOW + dt.timedelta(days=1)


@pytest.fixture
def cast(session):
    return Cast()


def item_in(cast: Cast, status: str) -> CardItem:
    """An item brought to ``status`` through the real services."""
    s = db.session
    if status == "received":
        return make_item(cast)
    if status == "under_review":
        item = make_item(cast)
        review_all(cast, item)
        return item
    if status == "selected":
        return selected_item(cast)
    if status == "long_term":
        item = item_in(cast, "under_review")
        transitions.move(s, item, "long_term", actor=cast.policy, now=NOW, reason="재원 마련 후 재검토")
        return item
    if status == "not_feasible":
        item = make_item(cast)
        transitions.move(s, item, "not_feasible", actor=cast.budget, now=NOW, reason="사유지라 불가")
        return item
    if status == "referred":
        item = make_item(cast)
        transitions.refer(s, item, actor=cast.staff, now=NOW, reason="도 사업", referred_to="경기도")
        return item
    item = reflected_item(cast)
    if status == "budget_reflected":
        return item
    transitions.move(s, item, "in_progress", actor=cast.dept_user, now=NOW)
    if status == "in_progress":
        return item
    transitions.move(s, item, "done", actor=cast.dept_user, now=NOW, reason="설치 완료")
    if status == "done":
        return item
    assert status == "merged"
    other = make_item(cast, title="같은 제안")
    source = make_item(cast, title="중복 제안")
    items.merge(s, source, other, actor=cast.staff, now=NOW)
    return source


def attempt(cast: Cast, item: CardItem, target: str) -> CardItem:
    """Try ``target`` with an actor allowed to take that step and every field it needs."""
    actors = {
        "under_review": cast.staff,
        "selected": cast.policy,
        "long_term": cast.policy,
        "not_feasible": cast.budget,
        "referred": cast.staff,
        "budget_reflected": cast.budget,
        "in_progress": cast.dept_user,
        "done": cast.dept_user,
    }
    actor = actors.get(target, cast.admin)
    if item.status in ("selected", "long_term") and target == "under_review":
        actor = cast.policy  # reversing a decision belongs to the deciding offices
    return move_to(
        item,
        target,
        actor=actor,
        now=LATER,
        reason="결정 사유",
        referred_to="경기도",
        fiscal_year=2027,
        budget_kind="supplementary",
        amount=25_000_000,
        budget_line="도로관리 > 보안등",
    )


TARGETS = [s for s in STATUSES if s != "merged"]
PAIRS = [(a, b) for a in STATUSES for b in TARGETS]


@pytest.mark.parametrize(("start", "target"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_every_transition_is_allowed_or_refused_by_the_state_machine(cast, start, target):
    item = item_in(cast, start)
    assert item.status == start
    events_before = db.session.scalar(
        select(db.func.count()).select_from(CardEvent).where(CardEvent.item_id == item.id)
    )
    if target in TRANSITIONS[start]:
        attempt(cast, item, target)
        assert item.status == target
        last = db.session.scalars(
            select(CardEvent).where(CardEvent.item_id == item.id).order_by(CardEvent.id.desc())
        ).first()
        assert (last.from_status, last.to_status, last.reason) == (start, target, "결정 사유")
        assert last.actor_id is not None
        assert last.at == LATER
    else:
        with pytest.raises(InvalidTransition) as err:
            attempt(cast, item, target)
        assert "바꿀 수 없습니다" in err.value.message
        assert item.status == start
        events_after = db.session.scalar(
            select(db.func.count()).select_from(CardEvent).where(CardEvent.item_id == item.id)
        )
        assert events_after == events_before


def test_refusal_names_the_possible_next_steps(cast):
    item = make_item(cast)
    with pytest.raises(InvalidTransition) as err:
        transitions.move(db.session, item, "done", actor=cast.dept_user, now=NOW)
    assert (
        err.value.message
        == "'접수' 상태에서 '완료'(으)로 바꿀 수 없습니다. 가능한 다음 단계: 검토중, 불가, 이송"
    )


def test_selection_needs_all_three_reviews(cast):
    item = make_item(cast)
    review(cast, item, "budget")
    review(cast, item, "policy")
    with pytest.raises(InvalidTransition) as err:
        transitions.select_item(db.session, item, actor=cast.policy, now=NOW)
    assert "세 기관의 검토가 모두 끝나야" in err.value.message
    assert "담당 부서" in err.value.message
    assert item.status == "under_review"
    review(cast, item, "department")
    transitions.select_item(db.session, item, actor=cast.policy, now=NOW)
    assert item.status == "selected"
    assert item.rank == 1
    second = selected_item(cast, title="두 번째")
    assert second.rank == 2


def test_selection_needs_a_responsible_department(cast):
    item = make_item(cast, dept=False)
    review(cast, item, "budget")
    review(cast, item, "policy")
    with pytest.raises(InvalidTransition, match="담당 부서를 먼저 지정"):
        transitions.select_item(db.session, item, actor=cast.budget, now=NOW)


def test_each_party_reviews_only_for_itself(cast):
    item = make_item(cast)
    with pytest.raises(NotAllowed):
        reviews.record_review(
            db.session,
            item,
            party="budget",
            actor=cast.policy,
            now=NOW,
            scores=dict.fromkeys(CRITERIA, 3),
            recommendation="select",
        )
    with pytest.raises(NotAllowed):  # another department
        reviews.record_review(
            db.session,
            item,
            party="department",
            actor=cast.other_dept_user,
            now=NOW,
            scores=dict.fromkeys(CRITERIA, 3),
            recommendation="select",
        )
    with pytest.raises(ValidationFailed) as err:
        reviews.record_review(
            db.session,
            item,
            party="budget",
            actor=cast.budget,
            now=NOW,
            scores={**dict.fromkeys(CRITERIA, 3), "safety": 9},
            recommendation="select",
        )
    assert ("safety", "1에서 5 사이의 점수를 골라 주세요.") in err.value.errors
    assert item.status == "received"


def test_reviews_are_closed_once_selected(cast):
    item = selected_item(cast)
    with pytest.raises(InvalidTransition, match="검토할 수 없습니다"):
        review(cast, item, "budget")


def test_step_permissions(cast):
    item = selected_item(cast)
    with pytest.raises(NotAllowed):
        transitions.reflect_in_budget(
            db.session,
            item,
            actor=cast.policy,
            now=NOW,
            fiscal_year=2027,
            budget_kind="main",
            amount=1,
            budget_line="x",
        )
    reflected = reflected_item(cast, title="반영")
    with pytest.raises(NotAllowed, match="담당 부서만"):
        transitions.move(db.session, reflected, "in_progress", actor=cast.other_dept_user, now=NOW)
    with pytest.raises(NotAllowed):
        transitions.move(db.session, make_item(cast), "under_review", actor=cast.citizen, now=NOW)


def test_decisions_need_their_reasons_and_fields(cast):
    item = make_item(cast)
    with pytest.raises(ValidationFailed, match="사유가 필요합니다"):
        transitions.move(db.session, item, "not_feasible", actor=cast.budget, now=NOW, reason=" ")
    with pytest.raises(ValidationFailed, match="이송할 기관"):
        transitions.refer(db.session, item, actor=cast.staff, now=NOW, reason="도 사업", referred_to=None)
    selected = selected_item(cast, title="선정")
    with pytest.raises(ValidationFailed) as err:
        transitions.reflect_in_budget(
            db.session,
            selected,
            actor=cast.budget,
            now=NOW,
            amount=0,
            fiscal_year=None,
            budget_kind=None,
            budget_line=None,
        )
    fields = {f for f, _m in err.value.errors}
    assert fields == {"fiscal_year", "budget_kind", "amount", "budget_line"}
    assert selected.status == "selected"
    assert selected.budget_amount is None


def test_states_with_their_own_data_are_not_reached_through_move(cast):
    item = item_in(cast, "under_review")
    for target, function in (("selected", "select_item"), ("referred", "refer")):
        with pytest.raises(TypeError, match=function):
            transitions.move(db.session, item, target, actor=cast.policy, now=NOW, reason="x")
    with pytest.raises(TypeError, match="reflect_in_budget"):
        transitions.move(db.session, selected_item(cast), "budget_reflected", actor=cast.budget, now=NOW)
    assert item.status == "under_review"


def test_reflection_and_completion_write_public_outbox_messages(cast):
    item = reflected_item(cast)
    transitions.move(db.session, item, "in_progress", actor=cast.dept_user, now=NOW)
    transitions.move(db.session, item, "done", actor=cast.dept_user, now=LATER, reason="준공")
    messages = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [m.kind for m in messages] == ["card_budget_reflected", "card_done"]
    reflected = messages[0].payload
    assert reflected["url"] == f"/cards/4199051000/items/{item.id}"
    assert reflected["dong_name"] == "중앙동"
    assert reflected["fiscal_year"] == 2027
    assert reflected["amount"] == 30_000_000
    assert messages[0].subject_ref == f"card:{item.id}"
    text = repr([m.payload for m in messages])
    for private in ("내부 검토 의견", "소통주무관", "예산주무관", "도로주무관", "@example.com"):
        assert private not in text


def test_history_records_who_when_why(cast):
    item = item_in(cast, "long_term")
    events = queries.item_history(db.session, item, public_only=False)
    assert [e.kind for e in events][:3] == ["created", "status", "review"]
    assert (events[1].to_status, events[1].actor_id) == ("under_review", cast.budget.id)
    last = events[-1]
    assert (last.to_status, last.reason, last.actor_id) == (
        "long_term",
        "재원 마련 후 재검토",
        cast.policy.id,
    )
    public = queries.item_history(db.session, item, public_only=True)
    assert all(e.kind != "review" for e in public)
    assert item.decision_reason == "재원 마련 후 재검토"


def test_merge_keeps_both_histories(cast):
    target = make_item(cast, title="보안등 설치")
    source = make_item(cast, title="보안등 설치 요청 (중복)")
    review(cast, source, "budget")
    items.merge(db.session, source, target, actor=cast.staff, now=LATER, reason="같은 골목")
    assert source.status == "merged"
    assert source.merged_into_id == target.id
    history = queries.item_history(db.session, target, public_only=False)
    assert {e.item_id for e in history} == {source.id, target.id}
    assert any(e.kind == "review" and e.item_id == source.id for e in history)
    with pytest.raises(InvalidTransition):
        transitions.move(db.session, source, "under_review", actor=cast.staff, now=LATER)
    elsewhere = make_item(cast, dong_id=make_dong("신흥동").id)
    with pytest.raises(ValidationFailed, match="같은 동"):
        items.merge(db.session, elsewhere, target, actor=cast.staff, now=LATER)
    with pytest.raises(InvalidTransition):
        items.merge(db.session, item_in(cast, "done"), target, actor=cast.staff, now=LATER)


def test_split_keeps_the_history_on_every_part(cast):
    item = make_item(cast, title="보안등과 CCTV 설치")
    review(cast, item, "policy")
    parts = items.split(
        db.session,
        item,
        [
            {"title": "보안등 설치", "estimated_cost": 10_000_000},
            {"title": "CCTV 설치", "estimated_cost": 20_000_000},
            {"title": "", "estimated_cost": None},
        ],
        actor=cast.staff,
        now=LATER,
        reason="사업 부서가 다름",
    )
    assert [p.title for p in parts] == ["보안등 설치", "CCTV 설치"]
    original, child = parts
    assert original.id == item.id
    assert original.status == "under_review"
    assert child.status == "received"
    assert child.split_from_id == item.id
    child_history = queries.item_history(db.session, child, public_only=False)
    assert {e.item_id for e in child_history} == {item.id, child.id}
    assert any(e.kind == "review" for e in child_history)  # the parent's past travels along
    assert any(
        e.kind == "split" and e.item_id == item.id
        for e in queries.item_history(db.session, item, public_only=False)
    )
    with pytest.raises(ValidationFailed, match="두 개 이상"):
        items.split(db.session, child, [{"title": "하나"}], actor=cast.staff, now=LATER)


def test_carry_over_moves_open_items_to_the_next_year_with_history(cast):
    open_items = [item_in(cast, s) for s in ("received", "under_review", "selected", "long_term")]
    funded = item_in(cast, "budget_reflected")
    refused = item_in(cast, "not_feasible")
    assert all(i.target_year == 2027 for i in [*open_items, funded, refused])
    moved = budget.carry_over(db.session, from_year=2027, actor=cast.budget, now=LATER)
    assert moved == 4
    assert [i.target_year for i in open_items] == [2028] * 4
    assert funded.target_year == 2027
    assert refused.target_year == 2027
    selected = open_items[2]
    assert selected.status == "selected"
    events = queries.item_history(db.session, selected, public_only=True)
    assert events[-1].kind == "carry_over"
    assert events[-1].reason == "2027년도 예산에 반영되지 않아 2028년도로 이월했습니다."
    assert any(e.to_status == "selected" for e in events)  # the earlier history stays
    with pytest.raises(NotAllowed):
        budget.carry_over(db.session, from_year=2028, actor=cast.policy, now=LATER)


def test_envelope_fills_in_rank_order_and_finds_what_still_fits():
    fit = budget.fit_envelope(100, 0, [("a", 60), ("b", 50), ("c", 30), ("d", 20), ("e", None), ("f", 10)])
    verdicts = {r.key: r.verdict for r in fit.rows}
    assert verdicts == {
        "a": "fits",
        "b": "does_not_fit",  # bigger than the 40 left
        "c": "fits_remainder",  # fits after the bigger one did not
        "d": "does_not_fit",  # 10 left
        "e": "no_cost",
        "f": "fits_remainder",
    }
    assert fit.remaining == 0
    assert [r.key for r in fit.next_fitting] == ["c", "f"]
    committed = budget.fit_envelope(100, 90, [("a", 20), ("b", 10)])
    assert [r.verdict for r in committed.rows] == ["does_not_fit", "fits_remainder"]


def test_budget_view_uses_rank_and_budget_office_estimates(cast):
    budget.set_envelope(db.session, fiscal_year=2027, amount=100_000_000, actor=cast.budget, now=NOW)
    first = selected_item(cast, title="1순위", cost=60_000_000)
    second = selected_item(cast, title="2순위", cost=10_000_000)
    # The budget office's own estimate for the second item is higher: it no longer fits.
    transitions.move(db.session, second, "under_review", actor=cast.policy, now=NOW, reason="재검토")
    review(cast, second, "budget", cost=50_000_000)
    transitions.select_item(db.session, second, actor=cast.policy, now=NOW, rank=2)
    third = selected_item(cast, title="3순위", cost=30_000_000)
    view = queries.budget_view(db.session, 2027)
    assert [(i.id, c, f.verdict) for i, c, f in view.rows] == [
        (first.id, 60_000_000, "fits"),
        (second.id, 50_000_000, "does_not_fit"),
        (third.id, 30_000_000, "fits_remainder"),
    ]
    assert view.remaining == 10_000_000
    with pytest.raises(NotAllowed):
        budget.set_envelope(db.session, fiscal_year=2027, amount=1, actor=cast.policy, now=NOW)


def test_priority_is_transparent_and_weights_are_configurable(cast):
    item = make_item(cast)
    review(cast, item, "budget", score=5)
    review(cast, item, "policy", score=3)
    assert item.review_score == 75.0  # (100 + 50) / 2
    current = settings.get_settings(db.session)
    breakdown = priority.score_breakdown(item, queries.item_reviews(db.session, item), current)
    assert (breakdown.flag_count, breakdown.flag_bonus, breakdown.final) == (1, 5.0, 80.0)
    weights = dict.fromkeys(CRITERIA, 0.0) | {"safety": 1.0}
    settings.update_settings(
        db.session, actor=cast.budget, now=NOW, weights=weights, dong_flag_bonus=10, review_deadline_days=7
    )
    assert item.review_score == 75.0
    with pytest.raises(NotAllowed):
        settings.update_settings(
            db.session, actor=cast.policy, now=NOW, weights=weights, dong_flag_bonus=1, review_deadline_days=7
        )
    with pytest.raises(ValidationFailed, match="사유가 필요합니다"):
        priority.set_override(db.session, item, actor=cast.budget, now=NOW, score=99, reason="")
    priority.set_override(db.session, item, actor=cast.budget, now=NOW, score=99, reason="우기 전 긴급")
    page, _reviews = queries.ranked(db.session, dong=None, page=1)
    assert page.items[0] == (item, 99.0)


def test_stale_form_version_is_a_conflict(cast):
    item = make_item(cast)
    seen = item.version
    transitions.move(db.session, item, "under_review", actor=cast.staff, now=NOW, expected_version=seen)
    with pytest.raises(Conflict) as err:
        transitions.move(
            db.session, item, "not_feasible", actor=cast.budget, now=NOW, reason="x", expected_version=seen
        )
    assert err.value.message == "다른 사람이 먼저 수정했습니다. 새로 고친 뒤 다시 시도해 주세요."


def test_concurrent_update_is_a_conflict(cast):
    item = make_item(cast)
    db.session.commit()
    # Another transaction changes the row behind this session's back.
    with db.engine.begin() as conn:
        conn.execute(update(CardItem).where(CardItem.id == item.id).values(version=CardItem.version + 1))
    with pytest.raises(Conflict, match="다른 사람이 먼저 수정했습니다"):
        transitions.move(db.session, item, "under_review", actor=cast.staff, now=NOW)
    db.session.rollback()


def test_create_item_contract_from_visits(cast):
    item = items.create_item(
        db.session,
        dong_id=cast.dong.id,
        title="  마을회관 경사로  ",
        description="",
        category="복지",
        source_kind="visit",
        actor_id=None,
        now=NOW,
        source_ref=7,
    )
    assert (item.title, item.status, item.source_ref, item.version, item.target_year) == (
        "마을회관 경사로",
        "received",
        7,
        1,
        2027,
    )
    with pytest.raises(ValidationFailed):
        items.create_item(
            db.session,
            dong_id=cast.dong.id,
            title="x",
            description="",
            category="복지",
            source_kind="fax",
            actor_id=None,
            now=NOW,
        )


def test_review_deadline_counts_working_days(cast):
    from civic_app.workdays.models import ClosedDate

    # NOW is Friday 2026-11-20, 10:00 in Seoul. Two working days back is Wednesday the 18th.
    settings.update_settings(
        db.session,
        actor=cast.budget,
        now=NOW,
        weights=dict.fromkeys(CRITERIA, 1.0),
        dong_flag_bonus=5,
        review_deadline_days=2,
    )
    tuesday = make_item(cast, title="화요일 접수", now=dt.datetime(2026, 11, 17, 1, 0, tzinfo=dt.UTC))
    wednesday = make_item(cast, title="수요일 접수", now=dt.datetime(2026, 11, 18, 1, 0, tzinfo=dt.UTC))

    def flags():
        page, counts, _days = queries.party_queue(db.session, "budget", department_id=None, now=NOW, page=1)
        return {row.item.id: (row.overdue, row.due) for row in page.items}, counts

    rows, counts = flags()
    assert rows[tuesday.id] == (True, dt.date(2026, 11, 19))
    assert rows[wednesday.id] == (False, dt.date(2026, 11, 20))
    assert counts == {"waiting": 2, "overdue": 1}
    # The city closes on Thursday: Tuesday's item now has until Friday.
    db.session.add(ClosedDate(day=dt.date(2026, 11, 19), reason="시 개청 기념일"))
    db.session.flush()
    rows, counts = flags()
    assert rows[tuesday.id] == (False, dt.date(2026, 11, 20))
    assert counts == {"waiting": 2, "overdue": 0}
    assert queries.queue_counts(db.session, department_id=None, now=NOW)["budget"] == counts
