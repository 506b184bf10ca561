"""Online suggestions with 공감 (issue 17): the rules, without HTTP.

A citizen's suggestion enters the card as 접수 from source ``citizen``; 공감 are one per account
and withdrawable; 30 of them within 30 days give the department 30 days to answer (29 do not,
and an old 공감 outside the window does not count); 100 put the item on the next 통통데이's
agenda; a merge carries the 공감 without counting a citizen twice; interim and final answers.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from civic_app.cards import items as card_items
from civic_app.cards import notices as card_notices
from civic_app.cards import suggestions
from civic_app.cards import transitions as card_transitions
from civic_app.cards.models import (
    CardAgendaEntry,
    CardAnswerDuty,
    CardContact,
    CardEvent,
    CardItem,
    CardPhoto,
    CardSuggestion,
    CardSupport,
)
from civic_app.cards.suggest_queries import overdue, panel
from civic_app.cards.suggestions import SupportRules
from civic_app.errors import InvalidTransition, NotAllowed, ValidationFailed
from civic_app.extensions import db
from civic_app.notify.models import OutboxMessage
from civic_app.satisfaction.models import SurveyInvitation
from civic_app.timeutil import today_seoul
from tests.factories import NOW, make_user
from tests.factories_cards import Cast, make_item
from tests.factories_meetings import make_sessions, next_session

RULES = SupportRules()  # the defaults: 30 in 30 days → answer in 30 days; 100 → agenda
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def cast(app, session):
    return Cast()


def suggest(cast, *, author=None, now=NOW, **kw):
    return suggestions.submit_suggestion(
        db.session,
        actor=author or cast.citizen,
        now=now,
        dong_id=kw.pop("dong_id", cast.dong.id),
        title=kw.pop("title", "학교 앞 횡단보도 신호등 설치"),
        description=kw.pop("description", "아이들이 건너기 위험합니다."),
        category=kw.pop("category", "도로·교통"),
        location=kw.pop("location", "중앙초등학교 정문"),
        consent=kw.pop("consent", True),
        **kw,
    )


def citizens(n: int, start: int = 0) -> list:
    return [
        make_user("citizen", name=f"공감{start + k:03d}", email=f"s{start + k}@example.com") for k in range(n)
    ]


def give(item, people, *, at, rules=RULES):
    results = [suggestions.support(db.session, item, actor=p, now=at, rules=rules) for p in people]
    return results[-1] if results else None


def duty(item) -> CardAnswerDuty | None:
    return db.session.scalar(select(CardAnswerDuty).where(CardAnswerDuty.item_id == item.id))


def supports_of(item) -> int:
    return db.session.scalar(select(func.count(CardSupport.id)).where(CardSupport.item_id == item.id))


# --- submitting ----------------------------------------------------------------------------------


def test_a_citizen_suggestion_enters_the_card_as_received_from_source_citizen(cast, tmp_path):
    item = suggest(cast, photos=[("site.png", PNG)], upload_dir=str(tmp_path))
    assert (item.status, item.source_kind, item.dong_id) == ("received", "citizen", cast.dong.id)
    assert item.department_id == cast.dept.id  # the one department whose field is the category
    row = db.session.scalar(select(CardSuggestion).where(CardSuggestion.item_id == item.id))
    assert row.author_id == cast.citizen.id
    assert row.consent_at == NOW
    # the author hears of status changes like any resident who left an address
    assert card_notices.author_emails(db.session, item) == [cast.citizen.email]
    (photo,) = db.session.scalars(select(CardPhoto).where(CardPhoto.item_id == item.id))
    assert not photo.public
    assert (tmp_path / photo.stored_name).read_bytes() == PNG


def test_a_suggestion_needs_consent_and_refuses_personal_data_in_public_text(cast):
    with pytest.raises(ValidationFailed) as refused:
        suggest(cast, consent=False)
    assert [f for f, _m in refused.value.errors] == ["consent"]
    with pytest.raises(ValidationFailed) as refused:
        suggest(cast, description="연락 주세요 010-9876-5432")
    assert refused.value.errors[0][0] == "description"
    assert "010-9876-5432" in refused.value.errors[0][1]
    with pytest.raises(ValidationFailed) as refused:
        suggest(cast, title="홍길동의 제안")  # the author's own name on a public title
    assert refused.value.errors[0][0] == "title"
    with pytest.raises(ValidationFailed) as refused:
        suggest(cast, photos=[("x.gif", b"GIF89a")], upload_dir="/nonexistent")
    assert refused.value.errors[0][0] == "photos"
    with pytest.raises(NotAllowed):
        suggest(cast, author=cast.staff)
    assert db.session.scalar(select(func.count(CardItem.id))) == 0
    assert db.session.scalar(select(func.count(CardContact.id))) == 0


# --- 공감: one per account, withdrawable ----------------------------------------------------------


def test_one_support_per_account_and_it_can_be_withdrawn(cast):
    item = suggest(cast)
    (neighbour,) = citizens(1)
    first = suggestions.support(db.session, item, actor=neighbour, now=NOW, rules=RULES)
    again = suggestions.support(db.session, item, actor=neighbour, now=NOW, rules=RULES)
    assert (first.created, first.supports) == (True, 1)
    assert (again.created, again.supports) == (False, 1)
    assert supports_of(item) == 1
    assert suggestions.withdraw_support(db.session, item, actor=neighbour, now=NOW) is True
    assert supports_of(item) == 0
    assert suggestions.withdraw_support(db.session, item, actor=neighbour, now=NOW) is False
    assert suggestions.support(db.session, item, actor=neighbour, now=NOW, rules=RULES).created


def test_the_author_and_staff_accounts_cannot_support(cast):
    item = suggest(cast)
    with pytest.raises(NotAllowed):
        suggestions.support(db.session, item, actor=cast.citizen, now=NOW, rules=RULES)
    with pytest.raises(NotAllowed):
        suggestions.support(db.session, item, actor=cast.budget, now=NOW, rules=RULES)
    card_transitions.move(
        db.session, item, "not_feasible", actor=cast.budget, now=NOW, reason="사유지입니다."
    )
    with pytest.raises(InvalidTransition):
        suggestions.support(db.session, item, actor=citizens(1)[0], now=NOW, rules=RULES)


# --- thresholds ----------------------------------------------------------------------------------


def test_the_thirtieth_support_within_30_days_creates_the_departments_answer_deadline(cast):
    item = suggest(cast, now=NOW - dt.timedelta(days=20))
    crowd = citizens(30)
    for k, person in enumerate(crowd[:29]):
        suggestions.support(
            db.session, item, actor=person, now=NOW - dt.timedelta(days=19 - k // 2), rules=RULES
        )
    assert duty(item) is None  # 29 are not enough
    result = suggestions.support(db.session, item, actor=crowd[29], now=NOW, rules=RULES)
    assert result.duty is not None
    owed = duty(item)
    assert owed.due_on == today_seoul(NOW) + dt.timedelta(days=30) == owed.first_due_on
    assert owed.supports_at_trigger == 30
    assert owed.answered_at is None
    line = db.session.scalar(
        select(CardEvent).where(CardEvent.item_id == item.id, CardEvent.kind == "answer_due")
    )
    assert line.public
    assert "공감 30건" in line.reason
    assert "2026년 12월 20일" in line.reason
    (notice,) = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "card_answer_due"))
    assert notice.recipient == cast.dept_user.email  # the responsible department is told
    assert "2026년 12월 20일" in notice.payload["body"]
    # the 31st neither moves the deadline nor makes a second one
    suggestions.support(db.session, item, actor=citizens(1, start=99)[0], now=NOW, rules=RULES)
    assert db.session.scalar(select(func.count(CardAnswerDuty.id))) == 1
    assert duty(item).due_on == owed.first_due_on


def test_an_old_support_outside_the_window_does_not_count(cast):
    item = suggest(cast, now=NOW - dt.timedelta(days=40))
    crowd = citizens(31)
    give(item, crowd[:1], at=NOW - dt.timedelta(days=35))  # 34 days before the others
    give(item, crowd[1:30], at=NOW - dt.timedelta(days=1))
    assert supports_of(item) == 30
    assert duty(item) is None
    give(item, crowd[30:], at=NOW)  # the 30th within the window
    assert duty(item) is not None


def test_the_thresholds_are_settings(cast, app):
    rules = SupportRules.from_config({**app.config, "SUGGEST_ANSWER_THRESHOLD": 3, "SUGGEST_ANSWER_DAYS": 10})
    assert (rules.answer_threshold, rules.answer_days, rules.agenda_threshold) == (3, 10, 100)
    assert SupportRules.from_config(app.config) == RULES  # the defaults of the issue
    item = suggest(cast)
    give(item, citizens(3), at=NOW, rules=rules)
    assert duty(item).due_on == today_seoul(NOW) + dt.timedelta(days=10)


def test_a_hundred_supports_put_the_item_on_the_next_tongtong_day(cast):
    make_sessions()
    upcoming = next_session(NOW)
    item = suggest(cast)
    rules = SupportRules(answer_threshold=2, agenda_threshold=4)  # small numbers, same rule
    give(item, citizens(3), at=NOW, rules=rules)
    assert db.session.scalar(select(CardAgendaEntry).where(CardAgendaEntry.item_id == item.id)) is None
    result = give(item, citizens(1, start=50), at=NOW, rules=rules)
    assert result.agenda is not None
    assert result.agenda.session_id == upcoming.id
    shown = panel(db.session, item, user=cast.staff, now=NOW, rules=rules)
    assert shown.agenda_session.id == upcoming.id


# --- merge ---------------------------------------------------------------------------------------


def test_a_merge_carries_the_supports_and_counts_each_citizen_once(cast, app, monkeypatch):
    target = make_item(cast, title="중앙초 앞 신호등")
    duplicate = suggest(cast)
    u1, u2, u3, u4 = citizens(4)
    give(duplicate, [u1, u2, u3], at=NOW - dt.timedelta(days=2))
    give(target, [u3, u4], at=NOW - dt.timedelta(days=1))
    give(target, [cast.citizen], at=NOW)  # the duplicate's author supported the other item
    monkeypatch.setitem(app.config, "SUGGEST_ANSWER_THRESHOLD", 5)
    assert duty(target) is None
    assert duty(duplicate) is None
    card_items.merge(db.session, duplicate, target, actor=cast.staff, now=NOW, reason="같은 장소")
    assert supports_of(duplicate) == 0
    assert supports_of(target) == 5  # u1, u2, u3 (once), u4 and the author
    assert sorted(
        db.session.scalars(select(CardSupport.user_id).where(CardSupport.item_id == target.id))
    ) == sorted([u1.id, u2.id, u3.id, u4.id, cast.citizen.id])
    moved = db.session.scalar(
        select(CardSupport).where(CardSupport.item_id == target.id, CardSupport.user_id == u1.id)
    )
    assert moved.created_at == NOW - dt.timedelta(days=2)  # dates kept: the window still applies
    # the combined 공감 crossed the threshold (5): the merge created the deadline
    assert duty(target) is not None
    assert duty(target).supports_at_trigger == 5
    with pytest.raises(InvalidTransition):
        suggestions.support(db.session, duplicate, actor=citizens(1, start=77)[0], now=NOW, rules=RULES)


def test_a_merged_duplicate_hands_its_answer_deadline_to_the_surviving_item(cast, app):
    target = make_item(cast, title="중앙초 앞 신호등")
    duplicate = suggest(cast)
    give(duplicate, citizens(30), at=NOW)
    owed = duty(duplicate)
    card_items.merge(db.session, duplicate, target, actor=cast.staff, now=NOW + dt.timedelta(days=1))
    assert duty(target) is owed
    assert duty(duplicate) is None
    assert supports_of(target) == 30


# --- answers -------------------------------------------------------------------------------------


def test_at_the_deadline_an_interim_answer_is_due_and_the_final_answer_closes_the_duty(cast):
    item = suggest(cast, now=NOW - dt.timedelta(days=40))
    give(item, citizens(30), at=NOW - dt.timedelta(days=35))
    owed = duty(item)
    assert owed.due_on == today_seoul(NOW) - dt.timedelta(days=5)
    rows, total = overdue(db.session, NOW)
    assert total == 1
    assert rows[0].item_id == item.id
    assert panel(db.session, item, user=None, now=NOW, rules=RULES).overdue_days == 5
    with pytest.raises(NotAllowed):  # another department's account
        suggestions.answer(
            db.session,
            item,
            actor=cast.other_dept_user,
            now=NOW,
            kind="final",
            body="답",
            next_due_on=None,
            rules=RULES,
        )
    with pytest.raises(ValidationFailed) as refused:  # an interim answer names the next date
        suggestions.answer(
            db.session,
            item,
            actor=cast.dept_user,
            now=NOW,
            kind="interim",
            body="검토 중",
            next_due_on=None,
            rules=RULES,
        )
    assert refused.value.errors[0][0] == "next_due_on"
    with pytest.raises(ValidationFailed) as refused:  # public text: no citizen's name
        suggestions.answer(
            db.session,
            item,
            actor=cast.dept_user,
            now=NOW,
            kind="final",
            body="홍길동 님께 연락",
            next_due_on=None,
            rules=RULES,
        )
    assert refused.value.errors[0][0] == "body"
    next_date = today_seoul(NOW) + dt.timedelta(days=14)
    suggestions.answer(
        db.session,
        item,
        actor=cast.dept_user,
        now=NOW,
        kind="interim",
        body="현장 조사를 마쳤고 예산을 검토하고 있습니다.",
        next_due_on=next_date,
        rules=RULES,
    )
    assert duty(item).due_on == next_date
    assert overdue(db.session, NOW)[1] == 0
    later = NOW + dt.timedelta(days=15)
    assert overdue(db.session, later)[1] == 1  # the promised date passed as well
    suggestions.answer(
        db.session,
        item,
        actor=cast.dept_user,
        now=later,
        kind="final",
        body="내년 본예산에 반영해 설치합니다.",
        next_due_on=None,
        rules=RULES,
    )
    assert duty(item).answered_at == later
    assert overdue(db.session, later)[1] == 0
    mails = list(
        db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "card_suggestion_answer"))
    )
    assert [m.recipient for m in mails] == [cast.citizen.email, cast.citizen.email]
    assert "내년 본예산에 반영해 설치합니다." in mails[-1].payload["body"]
    # The final answer (not the interim one) offers the suggester the satisfaction survey.
    [invitation] = db.session.scalars(select(SurveyInvitation)).all()
    assert (invitation.process, invitation.subject_ref) == ("suggestion", f"suggestion:{item.id}")
    assert invitation.user_id == cast.citizen.id
    assert invitation.department_id == item.department_id
    with pytest.raises(ValidationFailed):  # no interim answer after the final one
        suggestions.answer(
            db.session,
            item,
            actor=cast.dept_user,
            now=later,
            kind="interim",
            body="다시 검토",
            next_due_on=today_seoul(later) + dt.timedelta(days=3),
            rules=RULES,
        )


# --- the author's rights ---------------------------------------------------------------------------


def test_the_author_receives_their_suggestions_and_deletion_removes_address_and_photos(cast, tmp_path):
    item = suggest(cast, photos=[("site.png", PNG)], upload_dir=str(tmp_path))
    other = suggest(cast, author=citizens(1)[0], title="공원 벤치 교체")
    suggestions.support(db.session, other, actor=cast.citizen, now=NOW, rules=RULES)
    data = suggestions.export_personal(db.session, cast.citizen)
    assert [s["item_id"] for s in data["suggestions"]] == [item.id]
    assert data["suggestions"][0]["consent_version"] == suggestions.CONSENT_VERSION
    assert [s["item_id"] for s in data["supports"]] == [other.id]
    files = suggestions.erase_personal(db.session, cast.citizen, now=NOW)
    assert len(files) == 1
    assert db.session.scalar(select(func.count(CardPhoto.id)).where(CardPhoto.item_id == item.id)) == 0
    assert card_notices.author_emails(db.session, item) == []
    assert db.session.get(CardItem, item.id).title == "학교 앞 횡단보도 신호등 설치"  # the card keeps it
