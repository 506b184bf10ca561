"""Survey rules: offer a survey (invitation + e-mail), read a link's token, take one answer,
publish a comment. Services flush, never commit; the caller's clock is ``now``.

The token in a survey link is the invitation's id and random nonce, signed with the app's
secret key (itsdangerous). It carries no date: the invitation's ``expires_at`` decides, against
the ``now`` the caller passes, so expiry is tested without waiting and cannot be stretched by
re-signing. An answered invitation refuses a second answer (and the database refuses a second
answer row for it, should two arrive at once).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from civic_app.errors import DomainError, NotAllowed, ValidationFailed
from civic_app.integrity.conflicts import is_unique_violation, savepoint
from civic_app.notify.services import enqueue_email
from civic_app.satisfaction.models import (
    MAX_COMMENT,
    PROCESSES,
    SCORES,
    SURVEY_DAYS,
    SurveyInvitation,
    SurveyResponse,
)
from civic_app.web.policy import ADMIN, CIVIC_STAFF

TOKEN_SALT = "satisfaction-survey"  # noqa: S105 - a salt that separates token kinds, not a secret
EMAIL_KIND = "satisfaction_survey"
PUBLISH_ROLES = frozenset({CIVIC_STAFF, ADMIN})

# Why a survey link cannot be answered (the page shown says which).
CLOSED_INVALID = "invalid"
CLOSED_EXPIRED = "expired"
CLOSED_ANSWERED = "answered"


class SurveyClosed(DomainError):
    """The link is not (or no longer) good for an answer; ``reason`` says why."""

    def __init__(self, reason: str, invitation: SurveyInvitation | None = None) -> None:
        messages = {
            CLOSED_INVALID: _("설문 링크가 올바르지 않습니다."),
            CLOSED_EXPIRED: _("설문 기간이 지났습니다."),
            CLOSED_ANSWERED: _("이미 응답한 설문입니다."),
        }
        super().__init__(messages[reason])
        self.reason = reason
        self.invitation = invitation
        self.status_code = {CLOSED_INVALID: 404, CLOSED_EXPIRED: 410, CLOSED_ANSWERED: 409}[reason]


# --- tokens -------------------------------------------------------------------------------------


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=TOKEN_SALT)


def make_token(invitation: SurveyInvitation) -> str:
    return _serializer().dumps([invitation.id, invitation.nonce])


def survey_path(invitation: SurveyInvitation) -> str:
    return f"/survey/{make_token(invitation)}"


def survey_url(invitation: SurveyInvitation) -> str:
    """The absolute link an e-mail carries (e-mails are read outside the site)."""
    return (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/") + survey_path(invitation)


def read_token(session: Session, token: str) -> SurveyInvitation:
    """The invitation a token was made for; ``SurveyClosed(invalid)`` for anything else."""
    try:
        data = _serializer().loads(token)
    except BadSignature as exc:
        raise SurveyClosed(CLOSED_INVALID) from exc
    if (
        not isinstance(data, list)
        or len(data) != 2
        or not isinstance(data[0], int)
        or isinstance(data[0], bool)
        or not 0 < data[0] < 2**31
        or not isinstance(data[1], str)
    ):
        raise SurveyClosed(CLOSED_INVALID)
    invitation = session.get(SurveyInvitation, data[0])
    if invitation is None or not secrets.compare_digest(invitation.nonce, data[1]):
        raise SurveyClosed(CLOSED_INVALID)
    return invitation


def open_invitation(session: Session, token: str, *, now: dt.datetime) -> SurveyInvitation:
    """The invitation of ``token`` if it can still be answered, else ``SurveyClosed``."""
    invitation = read_token(session, token)
    if invitation.answered_at is not None:
        raise SurveyClosed(CLOSED_ANSWERED, invitation)
    if now >= invitation.expires_at:
        raise SurveyClosed(CLOSED_EXPIRED, invitation)
    return invitation


# --- offering a survey -----------------------------------------------------------------------------


def recipient_key(email: str) -> str:
    """The person an invitation went to, without keeping their address in the key."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def _address(session: Session, user_id: int | None, email: str | None) -> str | None:
    address = (email or "").strip()
    if not address and user_id is not None:
        from civic_app.accounts.models import User

        user = session.get(User, user_id)
        if user is not None and user.active and user.anonymized_at is None:
            address = user.email.strip()
    if not address or "@" not in address or len(address) > 254 or address.endswith("@invalid.invalid"):
        return None
    return address


def offer_survey(
    session: Session,
    *,
    process: str,
    subject_ref: str,
    department_id: int | None,
    user_id: int | None = None,
    email: str | None = None,
    now: dt.datetime,
    about: str | None = None,
) -> SurveyInvitation | None:
    """Invite the citizen concerned to rate how ``subject_ref`` was handled, once.

    Creates the invitation and queues its e-mail in the caller's transaction. The same subject
    and person get one invitation however often this is called (a second call returns the
    first invitation); a citizen without an e-mail address gets none (returns None).
    ``about`` (the subject's title, the citizen's own words) is shown on the survey page.
    """
    if process not in PROCESSES:
        raise ValueError(f"unknown process: {process}")
    address = _address(session, user_id, email)
    if address is None:
        return None
    key = recipient_key(address)
    where = (SurveyInvitation.subject_ref == subject_ref, SurveyInvitation.recipient_key == key)
    existing = session.scalar(select(SurveyInvitation).where(*where))
    if existing is not None:
        return existing
    invitation = SurveyInvitation(
        process=process,
        subject_ref=subject_ref,
        department_id=department_id,
        user_id=user_id,
        recipient_key=key,
        email=address,
        about=(about or "").strip()[:200] or None,
        nonce=secrets.token_hex(16),
        created_at=now,
        expires_at=now + dt.timedelta(days=SURVEY_DAYS),
    )
    try:
        with savepoint(session):
            session.add(invitation)
            session.flush()
    except IntegrityError as error:
        if not is_unique_violation(error, "satisfaction_invitations", "subject_ref", "recipient_key"):
            raise
        # The same trigger ran twice at once (a double click): the first one's invitation stands.
        winner = session.scalar(select(SurveyInvitation).where(*where))
        if winner is None:
            raise
        return winner
    subject, body = invitation_email(invitation)
    enqueue_email(
        session,
        to=address,
        subject=subject,
        body=body,
        kind=EMAIL_KIND,
        dedupe_key=f"satisfaction:{invitation.id}",
        now=now,
        subject_ref=subject_ref,
    )
    return invitation


def invitation_email(invitation: SurveyInvitation) -> tuple[str, str]:
    """Subject and body of the invitation e-mail: Korean by rule, with a short English part
    (stored text is data: the e-mail does not depend on whoever triggered it)."""
    from civic_app.web.filters import format_datetime, mask_text

    label = {"tongtong": "통통데이", "card": "동 관리카드", "suggestion": "온라인 제안"}[invitation.process]
    english = {"tongtong": "Tongtong Day", "card": "dong card", "suggestion": "online suggestion"}[
        invitation.process
    ]
    link = survey_url(invitation)
    until_ko = format_datetime(invitation.expires_at, english=False)
    until_en = format_datetime(invitation.expires_at, english=True)
    lines = [f"{label} 처리 결과에 대한 의견을 여쭙니다."]
    if invitation.about:
        lines.append(f"대상: {mask_text(invitation.about)}")
    lines += [
        "",
        "두 가지만 답해 주시면 됩니다. 처리 결과에 얼마나 만족하셨는지, 그렇게 결정된 이유가 분명했는지입니다.",
        "로그인하지 않아도 되고, 한 번만 응답할 수 있습니다.",
        "",
        f"설문 참여: {link}",
        f"이 링크는 {until_ko}까지 쓸 수 있습니다.",
        "",
        "응답은 만족도 통계에만 쓰입니다. 남기신 의견은 담당자가 고른 경우에만 개인정보를 가린 채 공개됩니다.",
        "",
        (
            f"English: how satisfied are you with the handling of your {english} matter? "
            f"Two questions, no sign-in needed, one answer only, until {until_en}: {link}"
        ),
        "",
        "이 메일은 발신 전용입니다.",
    ]
    subject = f"[시민소통실] {label} 처리에 만족하셨나요? (1분 설문)"
    return subject, "\n".join(lines)


# --- answering ----------------------------------------------------------------------------------------


def _score(value: object, field: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value not in SCORES:
        msg = _("1에서 5 사이에서 골라 주세요.")
        raise ValidationFailed(msg, [(field, msg)])
    return value


def submit_answer(
    session: Session,
    token: str,
    *,
    satisfaction: int,
    reason_clear: int,
    comment: str | None,
    now: dt.datetime,
) -> SurveyResponse:
    """Store the one answer of the invitation ``token`` names (no sign-in: the token is the key)."""
    invitation = open_invitation(session, token, now=now)
    errors = []
    for field, value in (("satisfaction", satisfaction), ("reason_clear", reason_clear)):
        try:
            _score(value, field)
        except ValidationFailed as error:
            errors += error.errors
    text = (comment or "").strip()
    if len(text) > MAX_COMMENT:
        errors.append(("comment", _("의견은 %(n)d자 이내로 적어 주세요.", n=MAX_COMMENT)))
    if errors:
        raise ValidationFailed(errors[0][1], errors)
    response = SurveyResponse(
        invitation_id=invitation.id,
        satisfaction=satisfaction,
        reason_clear=reason_clear,
        comment=text or None,
        published=False,
        answered_at=now,
        updated_at=now,
    )
    try:
        with savepoint(session):
            session.add(response)
            session.flush()
    except IntegrityError as error:
        if not is_unique_violation(error, "satisfaction_responses", "invitation_id"):
            raise
        raise SurveyClosed(CLOSED_ANSWERED, invitation) from error
    invitation.answered_at = now
    session.flush()
    return response


# --- publishing comments ---------------------------------------------------------------------------


def masked_comment(session: Session, response: SurveyResponse) -> str:
    """The comment as the public would read it: every citizen's and requester's name, and any
    phone number or e-mail address (the respondent's own in any spelling), masked."""
    from civic_app.accounts.models import User
    from civic_app.privacy import guard

    invitation = response.invitation
    names = set(guard.known_names(session))
    phones: list[str | None] = []
    emails: list[str | None] = [invitation.email]
    user = session.get(User, invitation.user_id) if invitation.user_id else None
    if user is not None:
        names.add(user.name)
        phones.append(user.phone)
        emails.append(user.email)
    return guard.mask(response.comment, names, phones=phones, emails=emails)


def set_published(
    session: Session, response: SurveyResponse, *, published: bool, actor, now: dt.datetime
) -> SurveyResponse:
    """Staff choose whether a comment appears on the dashboard; what appears is masked."""
    if not (PUBLISH_ROLES & (getattr(actor, "role_set", None) or frozenset())):
        raise NotAllowed(_("의견 공개는 소통민원팀만 정할 수 있습니다."))
    if published and not response.comment:
        raise ValidationFailed(_("공개할 의견이 없습니다."))
    response.published = published
    response.public_comment = masked_comment(session, response) if published else None
    response.published_at = now if published else None
    response.published_by_id = actor.id if published else None
    response.updated_at = now
    session.flush()
    return response


# --- personal data -----------------------------------------------------------------------------------


def purge_invitations(session: Session, cutoff: dt.datetime, now: dt.datetime, dry_run: bool) -> int:
    """Invitations sent before the cutoff lose the address and the subject's title; the answers
    (scores, comment) stay: they are the index."""
    from sqlalchemy import func, or_

    where = (
        SurveyInvitation.created_at < cutoff,
        or_(SurveyInvitation.email.is_not(None), SurveyInvitation.about.is_not(None)),
    )
    count = session.scalar(select(func.count(SurveyInvitation.id)).where(*where)) or 0
    if count and not dry_run:
        session.execute(
            update(SurveyInvitation)
            .where(*where)
            .values(email=None, about=None)
            .execution_options(synchronize_session=False)
        )
    return count


def _invitations_of(session: Session, user) -> list[SurveyInvitation]:
    """Invitations sent to the account or to its address (a card's author gave only an address)."""
    from sqlalchemy import or_

    mine = or_(
        SurveyInvitation.user_id == user.id, SurveyInvitation.recipient_key == recipient_key(user.email)
    )
    return list(session.scalars(select(SurveyInvitation).where(mine).order_by(SurveyInvitation.id)))


def export_for_user(session: Session, user) -> list[dict]:
    """The citizen's own surveys and answers (개인정보 열람)."""
    from civic_app.timeutil import iso_seoul

    out = []
    for inv in _invitations_of(session, user):
        answer = inv.response
        out.append(
            {
                "process": inv.process,
                "subject_ref": inv.subject_ref,
                "email": inv.email,
                "about": inv.about,
                "sent_at": iso_seoul(inv.created_at),
                "answered_at": iso_seoul(inv.answered_at) if inv.answered_at else None,
                "satisfaction": answer.satisfaction if answer else None,
                "reason_clear": answer.reason_clear if answer else None,
                "comment": answer.comment if answer else None,
            }
        )
    return out


def erase_for_user(session: Session, user, *, now: dt.datetime, **_context) -> None:
    """회원 탈퇴: the citizen's invitations lose address and title, open links stop working, a
    published comment is withdrawn; the scores stay in the index, unlinked from the person."""
    for inv in _invitations_of(session, user):
        inv.email = None
        inv.about = None
        inv.user_id = None
        inv.nonce = secrets.token_hex(16)  # every link sent before stops working
        if inv.answered_at is None:
            inv.expires_at = min(inv.expires_at, now)
        answer = inv.response
        if answer is not None:
            answer.comment = None
            answer.published = False
            answer.public_comment = None
            answer.updated_at = now
    session.flush()
