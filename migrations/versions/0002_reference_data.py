"""reference data a fresh database holds

The source's 통통데이 rule (2nd and 4th Thursday, 14:00, 60 minutes, holidays skipped, hosted
by the mayor's office), the citizen participation policy committee with its five working
sub-committees, and the 동 관리카드 settings row and default categories. Values are spelled out
here (not imported from the models) so this revision keeps meaning the same thing later.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

COMMITTEE = "시정참여정책위원회"
SUBCOMMITTEES = ("행정/재정", "지역경제/일자리", "복지/여성/보건의료", "도시계획/환경", "문화/교육")
CATEGORIES = ("도로·교통", "안전", "환경", "복지", "문화·체육", "기타")

tongtong_rules = sa.table(
    "tongtong_rules",
    sa.column("id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("ordinals", sa.String),
    sa.column("weekday", sa.Integer),
    sa.column("start_time", sa.Time),
    sa.column("duration_minutes", sa.Integer),
    sa.column("slot_count", sa.Integer),
    sa.column("holiday_policy", sa.String),
    sa.column("host_id", sa.Integer),
    sa.column("location", sa.String),
    sa.column("active", sa.Boolean),
)
committees = sa.table(
    "committees", sa.column("id", sa.Integer), sa.column("name", sa.String), sa.column("description", sa.Text)
)
subcommittees = sa.table(
    "committee_subcommittees",
    sa.column("committee_id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("position", sa.Integer),
)
card_settings = sa.table(
    "card_settings",
    sa.column("id", sa.Integer),
    sa.column("weight_feasibility", sa.Float),
    sa.column("weight_legality", sa.Float),
    sa.column("weight_urgency", sa.Float),
    sa.column("weight_safety", sa.Float),
    sa.column("weight_beneficiaries", sa.Float),
    sa.column("dong_flag_bonus", sa.Float),
    sa.column("review_deadline_days", sa.Integer),
)
card_categories = sa.table(
    "card_categories",
    sa.column("name", sa.String),
    sa.column("position", sa.Integer),
    sa.column("active", sa.Boolean),
)


def upgrade():
    op.bulk_insert(
        tongtong_rules,
        [
            {
                "name": "통통데이",
                "ordinals": "2,4",
                "weekday": 3,
                "start_time": dt.time(14, 0),
                "duration_minutes": 60,
                "slot_count": 3,
                "holiday_policy": "skip",
                "host_id": None,
                "location": "시장실",
                "active": True,
            }
        ],
    )
    op.bulk_insert(committees, [{"name": COMMITTEE, "description": None}])
    committee_id = (
        op.get_bind()
        .execute(sa.text("SELECT id FROM committees WHERE name = :n"), {"n": COMMITTEE})
        .scalar_one()
    )
    op.bulk_insert(
        subcommittees,
        [
            {"committee_id": committee_id, "name": name, "position": i}
            for i, name in enumerate(SUBCOMMITTEES, start=1)
        ],
    )
    op.bulk_insert(
        card_settings,
        [
            {
                "id": 1,
                "weight_feasibility": 1.0,
                "weight_legality": 1.0,
                "weight_urgency": 1.5,
                "weight_safety": 1.5,
                "weight_beneficiaries": 1.0,
                "dong_flag_bonus": 5.0,
                "review_deadline_days": 14,
            }
        ],
    )
    op.bulk_insert(
        card_categories, [{"name": n, "position": i, "active": True} for i, n in enumerate(CATEGORIES)]
    )


def downgrade():
    op.execute(card_categories.delete().where(card_categories.c.name.in_(CATEGORIES)))
    op.execute(card_settings.delete().where(card_settings.c.id == 1))
    bind = op.get_bind()
    committee_id = bind.execute(
        sa.text("SELECT id FROM committees WHERE name = :n"), {"n": COMMITTEE}
    ).scalar()
    if committee_id is not None:
        op.execute(subcommittees.delete().where(subcommittees.c.committee_id == committee_id))
        op.execute(committees.delete().where(committees.c.id == committee_id))
    op.execute(tongtong_rules.delete().where(tongtong_rules.c.name == "통통데이"))
