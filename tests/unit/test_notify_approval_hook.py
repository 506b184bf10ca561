"""The outbox learns whether a Telegram kind needs staff approval through a registry hook that
the Telegram feature fills in at start-up (no import of the feature from the outbox)."""

from __future__ import annotations

from civic_app.notify.models import STATUS_PENDING_APPROVAL, STATUS_QUEUED
from civic_app.notify.services import enqueue_telegram
from civic_app.registry import get_registry
from civic_app.telegram import policy
from tests.factories import NOW

PAYLOAD = {"title": "제목", "summary": "요약", "url": "/visits/1"}


def test_enqueue_telegram_asks_the_registered_approval_policy(app, session):
    registry = get_registry(app)
    original = registry.telegram_approval_policy
    asked: list[str] = []

    def only_results(session_, kind: str) -> bool:
        assert session_ is session  # asked in the caller's transaction
        asked.append(kind)
        return kind == "visit_result"

    registry.set_telegram_approval_policy(only_results)
    try:
        held = enqueue_telegram(session, kind="visit_result", payload=PAYLOAD, dedupe_key="a", now=NOW)
        free = enqueue_telegram(session, kind="card_done", payload=PAYLOAD, dedupe_key="b", now=NOW)
    finally:
        registry.telegram_approval_policy = original
    assert asked == ["visit_result", "card_done"]
    assert held.status == STATUS_PENDING_APPROVAL
    assert free.status == STATUS_QUEUED


def test_without_a_policy_every_kind_is_published_automatically(app, session):
    registry = get_registry(app)
    original = registry.telegram_approval_policy
    registry.telegram_approval_policy = None
    try:
        row = enqueue_telegram(session, kind="visit_result", payload=PAYLOAD, dedupe_key="c", now=NOW)
    finally:
        registry.telegram_approval_policy = original
    assert row.status == STATUS_QUEUED


def test_the_telegram_feature_registers_its_kind_settings_as_the_policy(app):
    assert get_registry(app).telegram_approval_policy is policy.needs_approval
