# ruff: noqa: N806 - model classes looked up at run time keep their class names
"""The citizens' side of the Seoul-scale data set: online suggestions (with their photos and the
department's answer duty), follows by e-mail (confirmed and pending) and satisfaction survey
invitations (answered and open). A few rows per hundred citizens; the demo citizen always has a
suggestion with a photo, assigned to the road department (the demo department account)."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import TYPE_CHECKING

import sqlalchemy as sa

from civic_app.accounts.models import User
from civic_app.cards import models as card_models
from civic_app.dongs.models import Department
from civic_app.follow import models as follow_models
from civic_app.satisfaction import models as satisfaction_models
from civic_app.scale.seed import CARD_TITLES, _only

if TYPE_CHECKING:
    from civic_app.scale.seed_more import MoreSeeder


class CitizenSeeder:
    def __init__(self, more: MoreSeeder) -> None:
        self.b = more.b
        self.s, self.f, self.rng, self.now = more.s, more.f, more.rng, more.now
        self.citizens = list(self.b.citizen_ids)
        demo = self.s.scalar(sa.select(User.id).where(User.email == "citizen@demo.civic.kr"))
        if demo is not None:
            self.citizens = [demo, *(c for c in self.citizens if c != demo)]
        self.road = self.s.scalar(sa.select(Department.id).where(Department.code == "ROAD"))
        # About one citizen in fifty acts online (at least a handful in a small city).
        self.active = self.citizens[: max(5, len(self.citizens) // 50)]

    def run(self) -> None:
        if not self.citizens or not self.b.dong_ids:
            return
        self.suggestions()
        self.follows()
        self.surveys()

    # --- online suggestions ---------------------------------------------------------------------
    def suggestions(self) -> None:
        Item, Suggestion = card_models.CardItem, card_models.CardSuggestion
        Photo, Duty = card_models.CardPhoto, card_models.CardAnswerDuty
        if Suggestion is None:
            return
        rng, now, authors = self.rng, self.now, self.active
        depts = self.b.dept_ids or [None]
        created = [now - dt.timedelta(days=rng.randrange(1, 60)) for _ in authors]

        def item(i: int, _id: int) -> dict:
            return _only(
                Item,
                {
                    "dong_id": self.b.dong_ids[i % len(self.b.dong_ids)],
                    "title": rng.choice(CARD_TITLES),
                    "description": "주민이 온라인으로 제안한 내용입니다.",
                    "category": rng.choice(card_models.DEFAULT_CATEGORIES),
                    "location": None,
                    "source_kind": "citizen",
                    "source_ref": None,
                    "department_id": self.road if i == 0 and self.road else rng.choice(depts),
                    "status": card_models.RECEIVED,
                    "created_by_id": authors[i],
                    "created_at": created[i],
                    "updated_at": created[i],
                    "version": 1,
                },
            )

        item_ids = self.f.insert(Item, len(authors), item)
        self.f.insert(
            Suggestion,
            len(item_ids),
            lambda i, _id: {
                "item_id": item_ids[i],
                "author_id": authors[i],
                "consent_at": created[i],
                "consent_version": "suggest-2026-12",
                "created_at": created[i],
            },
        )
        if Photo is not None:
            self.f.insert(
                Photo,
                len(item_ids),
                lambda i, ident: {
                    "item_id": item_ids[i],
                    "milestone_id": None,
                    "stored_name": f"scale-suggestion-{ident}.jpg",
                    "content_type": "image/jpeg",
                    "caption": "현장 사진",
                    "uploaded_by_id": authors[i],
                    "created_at": created[i],
                },
            )
        if Duty is not None:  # enough support: the department owes an answer
            self.f.insert(
                Duty,
                len(item_ids),
                lambda i, _id: {
                    "item_id": item_ids[i],
                    "triggered_at": created[i] + dt.timedelta(days=1),
                    "supports_at_trigger": 50,
                    "first_due_on": (created[i] + dt.timedelta(days=31)).date(),
                    "due_on": (created[i] + dt.timedelta(days=31)).date(),
                    "answered_at": None,
                },
            )

    # --- follows ----------------------------------------------------------------------------------
    def follows(self) -> None:
        Follow = follow_models.Follow
        if Follow is None:
            return
        rng, now, dongs = self.rng, self.now, self.b.dong_ids
        people = self.active

        def follow(i: int, _id: int) -> dict:
            pending = i % 4 == 0
            return {
                "target_kind": follow_models.DONG,
                "target_id": dongs[i % len(dongs)],
                "channel": follow_models.EMAIL,
                "address": f"follower{people[i]}@scale.example.kr",
                "user_id": people[i],
                "frequency": rng.choice(follow_models.FREQUENCIES),
                "status": follow_models.PENDING if pending else follow_models.ACTIVE,
                "locale": "ko",
                "created_at": now - dt.timedelta(days=1),
                "updated_at": now - dt.timedelta(days=1),
                "confirmed_at": None if pending else now - dt.timedelta(days=1),
                "confirm_sent_at": now - dt.timedelta(days=1),
            }

        self.f.insert(Follow, len(people), follow)

    # --- satisfaction surveys -------------------------------------------------------------------
    def surveys(self) -> None:
        Invitation = satisfaction_models.SurveyInvitation
        Response = satisfaction_models.SurveyResponse
        if Invitation is None:
            return
        rng, now, people = self.rng, self.now, self.active
        processes = satisfaction_models.PROCESSES
        sent = [now - dt.timedelta(days=rng.randrange(1, 20)) for _ in people]
        answered = [i % 2 == 1 for i in range(len(people))]  # the first stays open

        def invitation(i: int, ident: int) -> dict:
            return {
                "process": processes[i % len(processes)],
                "subject_ref": f"scale:{ident}",
                "department_id": rng.choice(self.b.dept_ids) if self.b.dept_ids else None,
                "user_id": people[i],
                "recipient_key": f"user:{people[i]}",
                "email": None,
                "about": None,
                "nonce": hashlib.sha256(f"scale-survey-{ident}".encode()).hexdigest()[:32],
                "created_at": sent[i],
                "expires_at": sent[i] + dt.timedelta(days=satisfaction_models.SURVEY_DAYS),
                "answered_at": sent[i] + dt.timedelta(days=1) if answered[i] else None,
            }

        ids = self.f.insert(Invitation, len(people), invitation)
        done = [(ident, sent[i]) for i, ident in enumerate(ids) if answered[i]]
        if Response is not None:
            self.f.insert(
                Response,
                len(done),
                lambda i, _id: {
                    "invitation_id": done[i][0],
                    "satisfaction": rng.randint(1, 5),
                    "reason_clear": rng.randint(1, 5),
                    "comment": None,
                    "published": False,
                    "answered_at": done[i][1] + dt.timedelta(days=1),
                    "updated_at": done[i][1] + dt.timedelta(days=1),
                },
            )
