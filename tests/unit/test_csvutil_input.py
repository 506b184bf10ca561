"""Issue 12, finding 7: a NUL byte in an uploaded CSV is a Korean error naming the line."""

from __future__ import annotations

import pytest

from civic_app.csvutil import read_csv
from civic_app.errors import ValidationFailed


def test_nul_byte_is_refused_with_its_line(app):
    with app.test_request_context(), pytest.raises(ValidationFailed) as err:
        read_csv("code,name\n1,ok\n2,a\x00b\n", ["code", "name"])
    assert "NUL" in err.value.message
    assert err.value.errors[0][0] == "3"


def test_clean_file_still_reads(app):
    with app.test_request_context():
        assert read_csv("code,name\n1,가\n", ["code", "name"]) == [(2, {"code": "1", "name": "가"})]
