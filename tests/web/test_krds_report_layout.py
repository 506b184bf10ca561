"""The published quarterly report on a phone: a summary by field first, then one section per
field holding only that field's tasks (the whole report used to be one 54,738 px table)."""

from __future__ import annotations

import re

from sqlalchemy import select

from civic_app.committee.models import ReportingQuarter
from civic_app.extensions import db
from tests.factories_calendar import TableParser


def test_report_shows_a_summary_by_field_then_a_section_per_field(demo_city, client, session):
    quarter = db.session.scalar(
        select(ReportingQuarter)
        .where(ReportingQuarter.published_at.is_not(None))
        .order_by(ReportingQuarter.id)
    )
    entries = quarter.entries
    fields = sorted({e.field_name for e in entries})
    html = client.get(f"/committee/reports/{quarter.id}").get_data(as_text=True)

    summary = TableParser(html).tables["report-fields"]
    assert [row[0] for row in summary[1:]] == fields
    assert sum(int(row[1]) for row in summary[1:]) == len(entries)
    sections = re.findall(r'<details class="report-field" id="field-\d+"[^>]*>\s*<summary>([^<]+)', html)
    assert [s.strip() for s in sections] == fields
    # The summary comes before the first section; a long report starts folded.
    assert html.index('id="report-fields"') < html.index('class="report-field"')
    if len(entries) > 12:
        assert 'class="report-field" id="field-1">' in html
