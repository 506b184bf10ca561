"""The one privacy guard (issue 12, findings 2 and 3): phone numbers, e-mail addresses and the
names of the people involved in the shapes people really type, found and masked."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from civic_app.errors import ValidationFailed
from civic_app.privacy import guard
from civic_app.telegram import privacy as telegram_privacy
from civic_app.web.filters import mask_text

NAME, PHONE, EMAIL = "홍길동", "010-1234-5678", "hong.gildong@example.com"


@pytest.mark.parametrize(
    "phone",
    [
        "010-1234-5678",
        "01012345678",
        "010 1234 5678",
        "010.1234.5678",
        "+82-10-1234-5678",
        "+82 10 1234 5678",
        "+82 (0)10-1234-5678",
        "+821012345678",
        "82-10-1234-5678",
        "(010)1234-5678",
        "(010) 1234 5678",
        "010 - 1234 - 5678",
        "010–1234–5678",  # en dash
        "010—1234—5678",  # em dash
        "010_1234_5678",
        "010/1234/5678",
        "010·1234·5678",
        "０１０-１２３４-５６７８",  # full-width digits
        "０１０－１２３４－５６７８",  # full-width digits and hyphen
        "02-123-4567",
        "031.123.4567",
        "070-1234-5678",
    ],
)
def test_masker_and_guard_catch_every_phone_shape(phone):
    text = f"연락처는 {phone} 입니다"
    findings = guard.scan(text)
    assert [f.kind for f in findings] == ["phone"]
    assert findings[0].text == phone
    masked = mask_text(text)
    assert re.search(r"\d{2,3}-\*{4}-\d{4}", masked)
    digits = re.sub(r"\D", "", guard.fold(masked))
    assert "1234" not in digits.replace("01012345678", "")
    assert guard.scan(masked) == []
    assert telegram_privacy.scan(text, set())[0].kind == "phone"  # Telegram uses the same guard


@pytest.mark.parametrize(
    "email",
    [
        "hong.gildong@example.com",
        "hong.gildong＠example.com",  # full-width at
        "hong.gildong [at] example.com",
        "hong.gildong[at]example.com",
        "hong.gildong (at) example.com",
        "hong.gildong(at)example.com",
        "hong.gildong [at] example [dot] com",
        "HONG.GILDONG@EXAMPLE.CO.KR",
    ],
)
def test_masker_and_guard_catch_every_email_shape(email):
    text = f"메일 {email} 로 보내 주세요"
    findings = guard.scan(text)
    assert [f.kind for f in findings] == ["email"]
    masked = mask_text(text)
    assert "gildong" not in masked.lower()
    assert "***@" in masked


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("홍길동 님이 말씀하셨습니다", "홍*동 님이"),
        ("홍길동님의 제안", "홍*동님의"),
        ("홍길동씨가 참석", "홍*동씨가"),
        ("홍 길동 씨", "홍*동 씨"),
        ("홍 길 동", "홍*동"),
        ("홍.길.동", "홍*동"),
        ("길동 씨가 요청", "길* 씨가"),
        ("신청인: 홍길동", "신청인: 홍*동"),
    ],
)
def test_masker_and_guard_catch_the_citizens_name_in_any_spacing(text, shown):
    findings = guard.scan(text, [NAME])
    assert [f.kind for f in findings] == ["name"]
    masked = guard.mask(text, [NAME])
    assert shown in masked
    assert "길동" not in masked.replace(" ", "")


def test_known_phone_and_email_are_found_in_any_spacing():
    text = "전화 0 1 0 . 1 2 3 4 . 5 6 7 8, 아이디 hong.gildong 으로 찾아 주세요"
    assert guard.scan(text) == []  # no ordinary shape
    kinds = [f.kind for f in guard.scan(text, [NAME], phones=[PHONE], emails=[EMAIL])]
    assert kinds == ["phone", "email"]
    masked = guard.mask(text, [NAME], phones=[PHONE], emails=[EMAIL])
    assert "gildong" not in masked
    assert "1 2 3 4" not in masked


@pytest.mark.parametrize(
    "text",
    [
        "2026년 11월 20일 14:00, 예산 120,000,000원, 접수번호 TT-2026-0042",
        "2026-11-20 회의, 행정동코드 4113510100",
        "주민이동 편의를 위한 이동식 쉼터",
        "길동 사거리 보도 정비",  # 길동 is also a place: only "길동 씨/님" names him
        "시장님과 부시장님이 참석",
    ],
)
def test_ordinary_public_text_passes(text):
    assert guard.scan(text, [NAME, "이동"]) == []


def test_guard_error_names_what_to_remove(app):
    with pytest.raises(ValidationFailed) as caught:
        guard.require_public({"public_summary": "홍길동 님과 면담했습니다"}, [NAME])
    assert caught.value.errors == [
        ("public_summary", "공개 글에 개인정보(이름: 홍길동)가 있습니다. 지우고 다시 저장하세요.")
    ]
    with pytest.raises(ValidationFailed) as caught:
        guard.require_public({"summary": "문의 010 - 1234 - 5678"}, [])
    assert "전화번호: 010 - 1234 - 5678" in caught.value.message
    guard.require_public({"summary": "보도 정비를 약속했습니다"}, [NAME])  # clean text passes


# --- property-based: generated shapes -------------------------------------------------------

DIGITS = "0123456789"
FULLWIDTH = str.maketrans(DIGITS + "-", "０１２３４５６７８９－")
SEPARATORS = ["-", " ", ".", "", "–", "—", "_", "/", " - ", " – ", "·"]
FILLER_BEFORE = ["연락처", "문의:", "전화", "휴대폰 번호는", "메모"]
FILLER_AFTER = ["입니다.", "로 연락 주세요", "(낮에만)", "", "번으로"]


@st.composite
def phones(draw) -> tuple[str, str]:
    """(the number as typed, its middle and last digits)."""
    area = draw(st.sampled_from(["10", "11", "16", "17", "19", "2", "31", "51", "64", "70"]))
    middle = draw(st.text("123456789", min_size=1, max_size=1)) + draw(
        st.text(DIGITS, min_size=2, max_size=3)
    )
    last = draw(st.text(DIGITS, min_size=4, max_size=4))
    sep1, sep2 = draw(st.sampled_from(SEPARATORS)), draw(st.sampled_from(SEPARATORS))
    shape = draw(st.sampled_from(["domestic", "paren", "plus82", "plus82space", "82"]))
    head = {
        "domestic": f"0{area}{sep1}",
        "paren": f"(0{area}){draw(st.sampled_from(['', ' ']))}",
        "plus82": f"+82-{area}{sep1}",
        "plus82space": f"+82 {area}{sep1}",
        "82": f"82-{area}{sep1}",
    }[shape]
    number = f"{head}{middle}{sep2}{last}"
    if draw(st.booleans()):
        number = number.translate(FULLWIDTH)
    return number, middle + last


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(phones(), st.sampled_from(FILLER_BEFORE), st.sampled_from(FILLER_AFTER))
def test_generated_phone_numbers_are_found_and_masked(phone, before, after):
    number, subscriber = phone
    text = f"{before} {number} {after}"
    assert any(f.kind == "phone" for f in guard.scan(text)), text
    masked = mask_text(text)
    assert guard.scan(masked) == []
    assert f"-****-{subscriber[-4:]}" in masked
    assert subscriber not in re.sub(r"\D", "", guard.fold(masked)), masked


LOCAL = st.from_regex(r"[a-z][a-z0-9]{1,6}([._][a-z0-9]{2,6})?", fullmatch=True)
LABEL = st.from_regex(r"[a-z][a-z0-9]{1,8}", fullmatch=True)
AT_FORMS = ["@", "＠", " [at] ", "[at]", "(at)", " (at) ", " [AT] "]
DOT_FORMS = [".", ".", " [dot] ", "(dot)"]


@settings(max_examples=200, deadline=None)
@given(LOCAL, LABEL, st.sampled_from(["com", "net", "kr", "co.kr", "go.kr"]), st.sampled_from(AT_FORMS))
def test_generated_emails_are_found_and_masked(local, domain, tld, at):
    dot = DOT_FORMS[len(local) % len(DOT_FORMS)]
    email = f"{local}{at}{domain}{dot}{tld}"
    assume(local not in f"{domain}.{tld}")
    text = f"메일은 {email} 입니다"
    assert [f.kind for f in guard.scan(text)] == ["email"], text
    masked = mask_text(text)
    assert local not in masked, masked
    assert guard.scan(masked) == []


SURNAMES = [
    "김",
    "이",
    "박",
    "최",
    "정",
    "강",
    "조",
    "윤",
    "장",
    "임",
    "한",
    "오",
    "서",
    "신",
    "홍",
    "남궁",
    "황보",
]
SYLLABLE = st.integers(0xAC00, 0xD7A3).map(chr)
TAILS = ["", "님", "씨", " 님", " 씨", "님이", "씨가", "의", "에게", "님께서", "은", "는"]
JOINS = ["", " ", " ", ".", "·"]


@st.composite
def korean_names(draw) -> tuple[str, str]:
    """(the stored name, how staff typed it)."""
    surname = draw(st.sampled_from(SURNAMES))
    given_name = "".join(draw(st.lists(SYLLABLE, min_size=1, max_size=2)))
    name = surname + given_name
    chars = list(name)
    typed = chars[0]
    for char in chars[1:]:
        typed += draw(st.sampled_from(JOINS)) + char
    return name, typed + draw(st.sampled_from(TAILS))


@settings(max_examples=200, deadline=None)
@given(
    korean_names(),
    st.sampled_from(["오늘 ", "면담: ", "(", "— ", ""]),
    st.sampled_from([" 요청", ", 감사", ")", ""]),
)
def test_generated_korean_names_are_found_and_masked(name_typed, before, after):
    name, typed = name_typed
    text = f"{before}{typed}{after}"
    assume(name not in before.replace(" ", "") + after.replace(" ", ""))
    findings = guard.scan(text, [name])
    assert [f.kind for f in findings] == ["name"], (text, findings)
    masked = guard.mask(text, [name])
    assert name not in re.sub(r"[\s·.]", "", masked), masked
    assert guard.scan(masked, [name]) == []


def test_a_name_index_finds_the_same_as_a_list_of_names():
    names = ["홍길동", "이동", "Lee Min", "남궁민수", "김", None, ""]
    index = guard.NameIndex(names)
    assert "홍길동" in index
    assert "김" not in index  # one character: never matched
    assert len(index) == 4
    text = "홍 길동 님, 길동 씨, 이동 님이, lee min, 남궁 민수 씨, 이동식 쉼터"
    assert guard.scan(text, index) == guard.scan(text, names)
    assert [f.text for f in guard.scan(text, index)] == ["홍 길동", "길동", "이동", "lee min", "남궁 민수"]
