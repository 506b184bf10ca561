"""Card factories: plain functions that flush, never commit."""

from __future__ import annotations

from civic_app.cards import items, reviews, transitions
from civic_app.cards.models import CRITERIA, CardItem
from civic_app.extensions import db
from tests.factories import NOW, make_department, make_dong, make_user


class Cast:
    """A dong, a department and one user per card role."""

    def __init__(self) -> None:
        self.dong = make_dong("중앙동", code="4199051000", contested_area=True)
        self.dept = make_department("도로과", code="ROAD", field="도로·교통")
        self.other_dept = make_department("환경정책과", code="ENV", field="환경")
        self.budget = make_user("budget_office", name="예산주무관", email="budget@example.com")
        self.policy = make_user("policy_office", name="정책주무관", email="policy@example.com")
        self.dept_user = make_user(
            "department", name="도로주무관", email="road@example.com", department=self.dept
        )
        self.other_dept_user = make_user("department", name="환경주무관", department=self.other_dept)
        self.staff = make_user("civic_staff", name="소통주무관", email="staff@example.com")
        self.admin = make_user("admin", name="관리자")
        self.citizen = make_user("citizen", name="홍길동")

    def reviewer(self, party: str):
        return {"budget": self.budget, "policy": self.policy, "department": self.dept_user}[party]


def make_item(
    cast: Cast, *, title: str = "골목길 보안등 설치", cost: int | None = 30_000_000, dept=True, **kw
) -> CardItem:
    return items.create_item(
        db.session,
        dong_id=kw.pop("dong_id", cast.dong.id),
        title=title,
        description=kw.pop("description", "어두운 골목에 보안등이 필요합니다."),
        category=kw.pop("category", "안전"),
        source_kind=kw.pop("source_kind", "staff"),
        actor_id=cast.staff.id,
        now=kw.pop("now", NOW),
        department_id=cast.dept.id if dept else None,
        estimated_cost=cost,
        **kw,
    )


def review(
    cast: Cast,
    item: CardItem,
    party: str,
    *,
    score: int = 4,
    recommendation: str = "select",
    cost=None,
    now=NOW,
):
    return reviews.record_review(
        db.session,
        item,
        party=party,
        actor=cast.reviewer(party),
        now=now,
        scores=dict.fromkeys(CRITERIA, score),
        recommendation=recommendation,
        cost_estimate=cost,
        comment=f"{party} 내부 검토 의견",
    )


def review_all(cast: Cast, item: CardItem, *, score: int = 4) -> None:
    for party in ("budget", "policy", "department"):
        review(cast, item, party, score=score)


def selected_item(cast: Cast, **kw) -> CardItem:
    item = make_item(cast, **kw)
    review_all(cast, item)
    transitions.select_item(db.session, item, actor=cast.policy, now=NOW)
    return item


def move_to(item: CardItem, target: str, *, actor, now=NOW, reason: str | None = None, **data) -> CardItem:
    """Any transition, through the function that takes ``target``; ``data`` are its own fields
    (``rank``; ``referred_to``; ``fiscal_year``, ``budget_kind``, ``amount``, ``budget_line``)."""
    common = {"actor": actor, "now": now, "reason": reason}
    if target == "selected":
        return transitions.select_item(db.session, item, rank=data.get("rank"), **common)
    if target == "referred":
        return transitions.refer(db.session, item, referred_to=data.get("referred_to"), **common)
    if target == "budget_reflected":
        fields = ("fiscal_year", "budget_kind", "amount", "budget_line")
        return transitions.reflect_in_budget(db.session, item, **{f: data.get(f) for f in fields}, **common)
    return transitions.move(db.session, item, target, **common)


def reflected_item(cast: Cast, **kw) -> CardItem:
    item = selected_item(cast, **kw)
    transitions.reflect_in_budget(
        db.session,
        item,
        actor=cast.budget,
        now=NOW,
        fiscal_year=2027,
        budget_kind="main",
        amount=item.estimated_cost or 1_000_000,
        budget_line="안전관리 > 보안등 설치",
    )
    return item


__all__ = ["NOW", "Cast", "make_item", "move_to", "reflected_item", "review", "review_all", "selected_item"]
