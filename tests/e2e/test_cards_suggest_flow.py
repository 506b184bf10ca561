"""Browser, on a 390 px phone (issue 17): a citizen suggests something to their dong's card with
a photo, a second citizen gives it 공감, the responsible department answers on the public page.

(At merge the lead appends the last step: the first citizen rates the answer.)"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from civic_app.cards.models import CardItem, CardPhoto, CardSupport
from civic_app.extensions import db
from civic_app.notify.models import OutboxMessage
from civic_app.satisfaction.models import SurveyInvitation, SurveyResponse
from tests.e2e.conftest import assert_accessible
from tests.e2e.test_cards_flow import sign_in, sign_out
from tests.factories import make_user
from tests.factories_cards import Cast

pytestmark = pytest.mark.e2e
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def fits_the_phone(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_suggest_with_a_photo_support_and_the_departments_answer(page, live_server, session, tmp_path):
    cast = Cast()  # 중앙동, 도로과 (field 도로·교통) with road@example.com, citizen 홍길동
    cast.citizen.email = "first@example.com"
    make_user("citizen", name="김이웃", email="second@example.com")
    code = cast.dong.code
    db.session.commit()
    photo = tmp_path / "crossing.png"
    photo.write_bytes(PNG)
    base = live_server

    # 1. The first citizen suggests from the dong's card, with a photo.
    sign_in(page, base, "first@example.com")
    page.goto(f"{base}/cards/{code}")
    page.get_by_role("link", name="이 동에 제안하기").click()
    page.wait_for_load_state()
    assert page.get_by_label("동", exact=True).input_value() == str(cast.dong.id)
    page.get_by_label("제목").fill("중앙초 앞 횡단보도 신호등 설치")
    page.get_by_label("분류").select_option("도로·교통")
    page.get_by_label("제안 내용").fill("등굣길 아이들이 신호 없이 건넙니다. 신호등이 필요합니다.")
    page.get_by_label("장소 (선택)").fill("중앙초등학교 정문 앞")
    page.get_by_label("사진 (선택)").set_input_files(str(photo))
    fits_the_phone(page)
    assert_accessible(page)
    page.get_by_label("위 개인정보 수집·이용에 동의합니다 (필수)").check()
    page.get_by_role("button", name="제안하기").click()
    page.wait_for_load_state()
    page.get_by_text("제안을 접수했습니다.").wait_for()
    assert page.locator("h1").inner_text().startswith("중앙초 앞 횡단보도 신호등 설치")
    assert "내가 올린 제안입니다" in page.locator("#support").inner_text()
    fits_the_phone(page)
    db.session.rollback()
    item = db.session.scalar(select(CardItem).where(CardItem.source_kind == "citizen"))
    assert item is not None
    item_id = item.id
    assert item.status == "received"
    assert db.session.scalar(select(CardPhoto.id).where(CardPhoto.item_id == item_id)) is not None
    sign_out(page)

    # 2. A second citizen gives it 공감 (the panel is swapped in place).
    sign_in(page, base, "second@example.com")
    page.goto(f"{base}/cards/items/{item_id}")
    panel = page.locator("#support")
    assert "공감 0건" in panel.inner_text()
    panel.get_by_role("button", name="공감하기").click()
    page.locator("#support").get_by_role("button", name="공감 취소").wait_for()
    assert "공감 1건" in page.locator("#support").inner_text()
    assert "공감했습니다." in page.locator("#support").inner_text()
    fits_the_phone(page)
    assert_accessible(page)
    page.wait_for_load_state("networkidle")
    db.session.rollback()
    assert db.session.scalar(select(CardSupport.user_id).where(CardSupport.item_id == item_id)) is not None
    sign_out(page)

    # 3. The responsible department answers; the public page shows the answer.
    sign_in(page, base, "road@example.com")
    page.goto(f"{base}/cards/items/{item_id}")
    page.locator("#support").get_by_role("link", name="답변 올리기").click()
    page.wait_for_load_state()
    page.get_by_label("최종 답변").check()
    page.get_by_label("답변 내용 (공개)").fill("현장을 확인했습니다. 내년 상반기에 신호등을 설치합니다.")
    fits_the_phone(page)
    assert_accessible(page)
    page.get_by_role("button", name="답변 공개").click()
    page.wait_for_load_state()
    page.get_by_text("답변을 공개했습니다.").wait_for()
    sign_out(page)
    page.goto(f"{base}/cards/items/{item_id}")
    answers = page.locator("#support").inner_text()
    assert "최종 답변" in answers
    assert "내년 상반기에 신호등을 설치합니다." in answers
    assert "도로과" in answers
    fits_the_phone(page)

    # 4. The first citizen rates the answer through the link in the survey e-mail (no login).
    db.session.rollback()
    [invitation] = db.session.scalars(
        select(SurveyInvitation).where(SurveyInvitation.subject_ref == f"suggestion:{item_id}")
    ).all()
    mail = db.session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.recipient == invitation.email, OutboxMessage.kind.like("%survey%")
        )
    )
    link = re.findall(r"https?://\S+/survey/\S+", mail.payload["body"])[0]  # Korean and English parts
    page.goto(base + "/survey/" + link.split("/survey/", 1)[1])
    assert "중앙초 앞 횡단보도 신호등 설치" in page.locator("main").inner_text()
    fits_the_phone(page)
    assert_accessible(page)
    page.get_by_label("4 · 만족", exact=True).check()
    page.get_by_label("5 · 매우 분명했다", exact=True).check()
    page.get_by_label("하고 싶은 말 (선택)").fill("빠르게 답해 주셔서 고맙습니다.")
    page.get_by_role("button", name="응답 보내기").click()
    page.wait_for_load_state()
    page.get_by_text("응답해 주셔서 고맙습니다.").wait_for()
    db.session.rollback()
    [response] = db.session.scalars(select(SurveyResponse)).all()
    assert (response.satisfaction, response.reason_clear) == (4, 5)
    page.goto(base + "/survey/" + link.split("/survey/", 1)[1])  # answerable once
    assert "응답 보내기" not in page.locator("main").inner_text()
    page.wait_for_load_state("networkidle")  # no request in flight when the tables are cleaned
