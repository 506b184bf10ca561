"""Extension points that let feature packages plug in without editing shared files.

Each feature's ``init_app(app)`` registers its blueprints, navigation entries, demo-data
loader, reference-data loader and OpenAPI paths here, and the hooks through which features
ask each other without importing each other: the Telegram approval policy (the outbox asks),
blocked days (the visit planner asks; 통통데이 registers its session days) and personal-name
sources (the privacy guard asks; 통통데이 registers its requesters' names).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple


@dataclass(frozen=True)
class NavItem:
    label: Callable[[], str]  # lazy: translated at render time
    endpoint: str
    roles: frozenset[str] | None = None  # None: everyone; empty set: signed-in users
    order: int = 100
    group: str = "main"  # main | staff
    values: tuple[tuple[str, str], ...] = ()  # url_for arguments


class NavLink(NamedTuple):
    """A menu entry as one page shows it: translated label, URL, whether it is this page."""

    label: str
    href: str
    current: bool


@dataclass(frozen=True)
class BlockedDaysSource:
    """Days a feature keeps for itself (통통데이): other features schedule nothing on them."""

    name: str
    days: Callable[[Any, dt.date, dt.date], Iterable[dt.date]]  # fn(session, start, end), inclusive
    label: Callable[[], str]  # lazy: what the day is, translated when shown ("통통데이")


@dataclass
class Registry:
    nav: list[NavItem] = field(default_factory=list)
    # (order, name, fn(session, ctx)) run by `flask seed-demo` in ascending order.
    demo_loaders: list[tuple[int, str, Callable]] = field(default_factory=list)
    # (order, name, fn(session)) idempotent reference data a fresh database must hold.
    reference_loaders: list[tuple[int, str, Callable]] = field(default_factory=list)
    openapi_paths: dict = field(default_factory=dict)
    openapi_schemas: dict = field(default_factory=dict)
    # (order, fn() -> dict(title, template, context)) blocks shown on the public home page.
    home_sections: list[tuple[int, Callable]] = field(default_factory=list)
    # (order, fn() -> dict(template, ...)) blocks a feature adds to the public dashboard.
    dashboard_sections: list[tuple[int, Callable]] = field(default_factory=list)
    # fn(session, kind) -> bool: whether a Telegram outbox message of ``kind`` waits for staff
    # approval. The Telegram feature sets it; unset, every kind is published automatically.
    telegram_approval_policy: Callable[[Any, str], bool] | None = None
    # Days other features keep free of their own appointments (the visit planner asks).
    blocked_days: list[BlockedDaysSource] = field(default_factory=list)
    # name -> fn(session) -> names of the people a feature stores (walk-in requesters): the
    # privacy guard keeps them off public surfaces together with the citizens' account names.
    name_sources: dict[str, Callable[[Any], Iterable[str]]] = field(default_factory=dict)

    def add_nav(self, item: NavItem) -> None:
        if all(existing.endpoint != item.endpoint for existing in self.nav):
            self.nav.append(item)
            self.nav.sort(key=lambda n: n.order)

    def add_feature_nav(
        self, order: int, public: tuple[Any, str], staff: tuple[Any, str], staff_roles: Iterable[str]
    ) -> None:
        """A feature's pair of menu entries at ``order``: its public page in the main menu, for
        everyone, and its staff page in the staff menu, for ``staff_roles``. Each entry is
        ``(label, endpoint)``, the label a lazy string (translated when the menu is rendered)."""
        (public_label, public_endpoint), (staff_label, staff_endpoint) = public, staff
        self.add_nav(NavItem(lambda: str(public_label), public_endpoint, None, order, "main"))
        self.add_nav(
            NavItem(lambda: str(staff_label), staff_endpoint, frozenset(staff_roles), order, "staff")
        )

    def add_demo_loader(self, order: int, name: str, fn: Callable) -> None:
        if all(n != name for _, n, _ in self.demo_loaders):
            self.demo_loaders.append((order, name, fn))
            self.demo_loaders.sort(key=lambda t: t[0])

    def add_reference_loader(self, order: int, name: str, fn: Callable) -> None:
        if all(n != name for _, n, _ in self.reference_loaders):
            self.reference_loaders.append((order, name, fn))
            self.reference_loaders.sort(key=lambda t: t[0])

    def add_home_section(self, order: int, fn: Callable) -> None:
        self.home_sections.append((order, fn))

    def add_dashboard_section(self, order: int, fn: Callable) -> None:
        self.dashboard_sections.append((order, fn))

    def add_openapi(self, paths: dict, schemas: dict | None = None) -> None:
        self.openapi_paths.update(paths)
        self.openapi_schemas.update(schemas or {})

    def set_telegram_approval_policy(self, fn: Callable[[Any, str], bool]) -> None:
        self.telegram_approval_policy = fn

    def add_blocked_days(
        self,
        name: str,
        days: Callable[[Any, dt.date, dt.date], Iterable[dt.date]],
        label: Callable[[], str],
    ) -> None:
        if all(existing.name != name for existing in self.blocked_days):
            self.blocked_days.append(BlockedDaysSource(name, days, label))

    def add_name_source(self, name: str, fn: Callable[[Any], Iterable[str]]) -> None:
        self.name_sources[name] = fn

    def blocked_days_between(self, session, start: dt.date, end: dt.date) -> dict[dt.date, BlockedDaysSource]:
        """Every registered blocked day in [start, end] and who keeps it (the first to register)."""
        found: dict[dt.date, BlockedDaysSource] = {}
        for source in self.blocked_days:
            for day in source.days(session, start, end):
                found.setdefault(day, source)
        return found


def get_registry(app) -> Registry:
    return app.extensions.setdefault("civic_registry", Registry())
