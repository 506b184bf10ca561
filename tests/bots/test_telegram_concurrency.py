"""Several bot processes share one outbox on PostgreSQL (FOR UPDATE SKIP LOCKED)."""

from __future__ import annotations

import collections
import re
import subprocess

import pytest
from sqlalchemy import select

from civic_app.extensions import db
from civic_app.notify.models import OutboxMessage
from civic_app.notify.services import enqueue_telegram
from tests.bots.conftest import CHANNEL, ROOT, bot_command, bot_env
from tests.factories import NOW

N_MESSAGES = 400


@pytest.mark.postgres
@pytest.mark.slow
def test_two_bot_processes_deliver_a_large_outbox_without_duplicates(app, session, database_url, fake_api):
    for i in range(N_MESSAGES):
        enqueue_telegram(
            db.session,
            kind="card_done",
            payload={"title": f"동시 발송 {i:04d}", "summary": "", "url": f"/cards/{i}"},
            dedupe_key=f"concurrency-{i}",
            now=NOW,
        )
    session.commit()
    fake_api.delay_all = 0.003  # both processes are busy at the same time
    procs = [
        subprocess.Popen(
            bot_command("--once", "--deliver-only"),
            cwd=ROOT,
            env=bot_env(database_url, fake_api),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _i in range(2)
    ]
    results = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err[-2000:] for _out, err in results]
    sent_by = [int(re.search(r"sent=(\d+)", out).group(1)) for out, _err in results]
    assert sum(sent_by) == N_MESSAGES
    assert min(sent_by) > 0  # both processes really took part
    titles = collections.Counter(
        re.search(r"동시 발송 \d{4}", p.text).group() for p in fake_api.channel_posts(CHANNEL)
    )
    assert len(titles) == N_MESSAGES
    assert max(titles.values()) == 1
    session.expire_all()
    assert set(session.scalars(select(OutboxMessage.status))) == {"sent"}
    assert not any("UNKNOWN_OUTCOME" in err for _out, err in results)
