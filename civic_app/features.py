"""The feature packages, in registration order (blueprints, nav, demo data, reference data).

A feature package ``civic_app/<name>/`` exposes ``init_app(app)`` in its ``__init__.py``
and may have ``models.py``; a package listed here but not yet written is skipped.
"""

FEATURES: tuple[str, ...] = (
    "accounts",
    "dongs",
    "workdays",
    "audit",
    "notify",
    "public",
    "api",
    "demo",
    "visits",
    "meetings",
    "cards",
    "committee",
    "telegram",
    "calendar",
    "dashboard",
    "satisfaction",
    "privacy",
    "scale",
    "follow",
)
