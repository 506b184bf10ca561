"""만족도 조사: the survey link works once, for 30 days, only as it was signed; the processes
invite the citizen concerned exactly once; published comments are masked."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from civic_app.cards import notices as card_notices
from civic_app.cards import transitions as card_transitions
from civic_app.errors import NotAllowed
from civic_app.meetings import outcomes as meeting_outcomes
from civic_app.meetings import review as meeting_review
from civic_app.notify.models import OutboxMessage
from civic_app.satisfaction import services
from civic_app.satisfaction.models import SurveyInvitation, SurveyResponse
from tests.factories import NOW, make_department, make_dong, make_user
from tests.factories_cards import Cast, reflected_item
from tests.factories_meetings import make_request, make_sessions, make_staff


def _survey_mails(session) -> list[OutboxMessage]:
    return list(
        session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == services.EMAIL_KIND).order_by(OutboxMessage.id)
        )
    )


def _offer(session, *, email="citizen@example.com", subject_ref="meeting:1", now=NOW):
    dept = make_department()
    return services.offer_survey(
        session,
        process="tongtong",
        subject_ref=subject_ref,
        department_id=dept.id,
        email=email,
        now=now,
        about="통학로 보도 설치",
    )


def test_a_survey_token_can_be_answered_once(session):
    invitation = _offer(session)
    token = services.make_token(invitation)
    answer = services.submit_answer(
        session, token, satisfaction=4, reason_clear=5, comment="친절했습니다", now=NOW + dt.timedelta(days=2)
    )
    assert (answer.satisfaction, answer.reason_clear, answer.comment) == (4, 5, "친절했습니다")
    with pytest.raises(services.SurveyClosed) as second:
        services.submit_answer(
            session, token, satisfaction=1, reason_clear=1, comment=None, now=NOW + dt.timedelta(days=3)
        )
    assert second.value.reason == services.CLOSED_ANSWERED
    assert session.scalars(select(SurveyResponse)).all() == [answer]


def test_a_survey_token_expires_after_30_days(session):
    invitation = _offer(session)
    token = services.make_token(invitation)
    last_moment = NOW + dt.timedelta(days=30) - dt.timedelta(seconds=1)
    assert services.open_invitation(session, token, now=last_moment) is invitation
    with pytest.raises(services.SurveyClosed) as expired:
        services.submit_answer(
            session, token, satisfaction=5, reason_clear=5, comment=None, now=NOW + dt.timedelta(days=30)
        )
    assert expired.value.reason == services.CLOSED_EXPIRED
    assert invitation.answered_at is None


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # the signature changed
        lambda t: "x" + t,  # the payload changed
        lambda t: t.split(".")[0],  # the signature cut off
        lambda _t: "not-a-token",
    ],
)
def test_a_tampered_token_is_refused(session, tamper):
    invitation = _offer(session)
    with pytest.raises(services.SurveyClosed) as refused:
        services.submit_answer(
            session,
            tamper(services.make_token(invitation)),
            satisfaction=5,
            reason_clear=5,
            comment=None,
            now=NOW,
        )
    assert refused.value.reason == services.CLOSED_INVALID
    assert session.scalars(select(SurveyResponse)).all() == []


def test_a_token_signed_for_another_invitation_number_is_refused(session, app):
    """The signature covers the id and the nonce: a well-signed token naming another
    invitation's id with the wrong nonce is refused."""
    first = _offer(session, subject_ref="meeting:1")
    second = _offer(session, subject_ref="meeting:2")
    forged = services._serializer().dumps([second.id, first.nonce])
    with pytest.raises(services.SurveyClosed) as refused:
        services.open_invitation(session, forged, now=NOW)
    assert refused.value.reason == services.CLOSED_INVALID


def test_one_invitation_and_one_email_per_subject_and_person(session):
    first = _offer(session, email="Citizen@Example.com")
    again = services.offer_survey(
        session,
        process="tongtong",
        subject_ref="meeting:1",
        department_id=None,
        email="citizen@example.com ",
        now=NOW + dt.timedelta(hours=1),
    )
    assert again is first
    mails = _survey_mails(session)
    assert len(mails) == 1
    assert mails[0].recipient == "Citizen@Example.com"
    assert services.survey_url(first) in mails[0].payload["body"]
    assert "30" not in mails[0].payload["subject"]  # the subject names the process, not dates
    assert "통통데이" in mails[0].payload["subject"]
    # nobody to ask: no invitation
    assert (
        services.offer_survey(
            session, process="card", subject_ref="card:9", department_id=None, email=None, now=NOW
        )
        is None
    )


def _held_meeting(session, *, attended: bool = True):
    make_sessions()
    staff = make_staff()
    citizen = make_user("citizen", name="홍길동", email="hong@example.com")
    req = make_request(citizen, dong_id=make_dong("중앙동").id)
    booking = meeting_review.decide_mayor(session, req, actor=staff, now=NOW)
    after = booking.end_at + dt.timedelta(hours=1)
    meeting_outcomes.record_outcome(
        session,
        req,
        attended=attended,
        outcome="보도 설치에 합의",
        public_summary="",
        actor=staff,
        now=after,
    )
    return req, staff, after


def test_a_held_meeting_sends_one_survey_invitation(session):
    req, _staff, after = _held_meeting(session)
    invitations = session.scalars(select(SurveyInvitation)).all()
    assert len(invitations) == 1
    invitation = invitations[0]
    assert (invitation.process, invitation.subject_ref) == ("tongtong", f"meeting:{req.id}")
    assert invitation.user_id == req.requester_id
    assert invitation.expires_at == after + dt.timedelta(days=30)
    mails = _survey_mails(session)
    assert [m.recipient for m in mails] == ["hong@example.com"]
    assert "/survey/" in mails[0].payload["body"]


def test_no_survey_when_the_citizen_did_not_come(session):
    _held_meeting(session, attended=False)
    assert session.scalars(select(SurveyInvitation)).all() == []
    assert _survey_mails(session) == []


def test_a_written_answer_invites_the_citizen_with_the_department(session):
    staff = make_staff()
    dept = make_department("환경정책과")
    citizen = make_user("citizen", email="kim@example.com")
    req = make_request(citizen)
    meeting_review.decide_written(
        session,
        req,
        route="written",
        department=dept,
        reason_code="department_matter",
        note="부서가 답변합니다.",
        actor=staff,
        now=NOW,
    )
    assert session.scalars(select(SurveyInvitation)).all() == []  # not before the answer
    meeting_outcomes.record_answer(session, req, text="12월에 준설합니다.", actor=staff, now=NOW)
    (invitation,) = session.scalars(select(SurveyInvitation)).all()
    assert (invitation.process, invitation.department_id) == ("tongtong", dept.id)
    assert [m.recipient for m in _survey_mails(session)] == ["kim@example.com"]


def test_a_completed_card_item_invites_each_author(session):
    cast = Cast()
    item = reflected_item(cast)
    card_notices.add_contact(session, item, email="a@example.com", consent=True, now=NOW)
    card_notices.add_contact(session, item, email="b@example.com", consent=True, now=NOW)
    card_transitions.move(session, item, "in_progress", actor=cast.dept_user, now=NOW)
    assert _survey_mails(session) == []
    card_transitions.move(session, item, "done", actor=cast.dept_user, now=NOW, reason="공사 완료")
    invitations = session.scalars(select(SurveyInvitation).order_by(SurveyInvitation.id)).all()
    assert [(i.process, i.subject_ref, i.department_id) for i in invitations] == [
        ("card", f"card:{item.id}", cast.dept.id)
    ] * 2
    assert sorted(m.recipient for m in _survey_mails(session)) == ["a@example.com", "b@example.com"]


def test_published_comments_are_masked_and_staff_only(session):
    make_user("citizen", name="김민지")  # a citizen's name is personal data wherever it appears
    invitation = _offer(session)
    answer = services.submit_answer(
        session,
        services.make_token(invitation),
        satisfaction=2,
        reason_clear=3,
        comment="김민지가 신청했습니다. 010-2345-6789 또는 citizen@example.com 으로 답 주세요",
        now=NOW,
    )
    with pytest.raises(NotAllowed):
        services.set_published(session, answer, published=True, actor=make_user("citizen"), now=NOW)
    staff = make_staff()
    services.set_published(session, answer, published=True, actor=staff, now=NOW)
    assert answer.published
    for secret in ("김민지", "010-2345-6789", "citizen@example.com"):
        assert secret not in answer.public_comment
    assert "답 주세요" in answer.public_comment
    services.set_published(session, answer, published=False, actor=staff, now=NOW)
    assert (answer.published, answer.public_comment) == (False, None)


def test_purge_keeps_the_scores_and_drops_the_address(session):
    invitation = _offer(session)
    services.submit_answer(
        session, services.make_token(invitation), satisfaction=5, reason_clear=4, comment=None, now=NOW
    )
    later = NOW + dt.timedelta(days=400)
    assert services.purge_invitations(session, later, later, dry_run=False) == 1
    session.refresh(invitation)
    assert (invitation.email, invitation.about) == (None, None)
    assert invitation.response.satisfaction == 5


@pytest.mark.postgres
def test_two_simultaneous_answers_store_one(app, session):
    """Two submissions of the same link at the same moment (a double tap): one answer is
    stored, the other is told the survey was answered."""
    from tests.unit.test_integrity_concurrency import race

    invitation = _offer(session)
    token = services.make_token(invitation)
    session.commit()

    def submit(score: int):
        def job(own, wait):
            services.open_invitation(own, token, now=NOW)
            wait()
            return services.submit_answer(
                own, token, satisfaction=score, reason_clear=score, comment=None, now=NOW
            ).id

        return job

    results = race(app, [submit(5), submit(1)])
    refused = [r for r in results if isinstance(r, services.SurveyClosed)]
    assert len(refused) == 1
    assert refused[0].reason == services.CLOSED_ANSWERED
    session.expire_all()
    assert len(session.scalars(select(SurveyResponse)).all()) == 1
