"""Masking filters used on every public surface, and Korean dates."""

from __future__ import annotations

import datetime as dt

import pytest

from civic_app.web.filters import (
    format_date,
    format_datetime,
    format_won,
    mask_email,
    mask_name,
    mask_phone,
    mask_text,
)


@pytest.mark.parametrize(
    ("name", "masked"),
    [("홍길동", "홍*동"), ("김철", "김*"), ("남궁민수", "남**수"), ("이", "*"), ("", ""), (None, "")],
)
def test_mask_name(name, masked):
    assert mask_name(name) == masked


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("010-1234-5678", "010-****-5678"),
        ("01012345678", "010-****-5678"),
        ("010 123 5678", "010-****-5678"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_phone(phone, masked):
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(
    ("email", "masked"),
    [("hong@example.com", "h***@example.com"), ("h@example.com", "h***@example.com"), ("not-an-email", "")],
)
def test_mask_email(email, masked):
    assert mask_email(email) == masked


def test_mask_text_hides_phones_and_emails_in_free_text():
    text = "연락처 010-1234-5678 또는 hong.gildong@example.com 으로 주세요"
    masked = mask_text(text)
    assert masked == "연락처 010-****-5678 또는 h***@example.com 으로 주세요"
    assert "1234" not in masked
    assert "gildong" not in masked


def test_masking_filters_are_registered(app):
    env = app.jinja_env
    rendered = env.from_string("{{ n|mask_name }} {{ p|mask_phone }} {{ e|mask_email }}").render(
        n="홍길동", p="010-1234-5678", e="hong@example.com"
    )
    assert rendered == "홍*동 010-****-5678 h***@example.com"


def test_korean_dates_in_seoul_time():
    utc = dt.datetime(2025, 10, 9, 5, 0, tzinfo=dt.UTC)  # 14:00 in Seoul
    assert format_datetime(utc, english=False) == "2025년 10월 9일 (목) 14:00"
    assert format_date(dt.date(2025, 10, 9), english=False) == "2025년 10월 9일 (목)"
    assert format_datetime(utc, english=True) == "Thu, 9 Oct 2025 14:00"
    # Late UTC evening is already the next day in Seoul.
    assert (
        format_date(dt.datetime(2025, 10, 8, 16, 0, tzinfo=dt.UTC), english=False) == "2025년 10월 9일 (목)"
    )


def test_won(app):
    with app.test_request_context("/"):
        assert format_won(1234567) == "1,234,567원"  # not a whole 만: every digit
        assert format_won(45_000_000) == "4,500만 원"  # issue 16: amounts the Korean way
        assert format_won(1_477_330_000) == "14억 7,733만 원"
        assert format_won(3_000) == "3,000원"


def test_templates_show_amounts_the_korean_way(app):
    """Issue 16: the ``won`` filter of a Korean page gives 조·억·만 when exact (the e-mail and
    the page agree), every digit otherwise; an English page gives KRW."""
    from flask import render_template_string
    from flask_babel import force_locale

    template = "{{ 30000000|won }} / {{ 1234567|won }} / {{ 1477330000|won_kr }}"
    with app.test_request_context("/"):
        assert render_template_string(template) == "3,000만 원 / 1,234,567원 / 14억 7,733만 원"
    with app.test_request_context("/"), force_locale("en"):
        assert render_template_string(template) == "KRW 30,000,000 / KRW 1,234,567 / KRW 1,477,330,000"
