"""Extension points that let feature packages plug in without editing shared files.

Each feature's ``init_app(app)`` registers its blueprints, navigation entries, demo-data
loader, reference-data loader and OpenAPI paths here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class NavItem:
    label: Callable[[], str]  # lazy: translated at render time
    endpoint: str
    roles: frozenset[str] | None = None  # None: everyone; empty set: signed-in users
    order: int = 100
    group: str = "main"  # main | staff
    values: tuple[tuple[str, str], ...] = ()  # url_for arguments


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

    def add_nav(self, item: NavItem) -> None:
        if all(existing.endpoint != item.endpoint for existing in self.nav):
            self.nav.append(item)
            self.nav.sort(key=lambda n: n.order)

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


def get_registry(app) -> Registry:
    return app.extensions.setdefault("civic_registry", Registry())
