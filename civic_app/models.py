"""Imports every feature's models, so Alembic and `flask shell` see the whole schema."""

from __future__ import annotations

import importlib
import importlib.util

from civic_app.features import FEATURES


def load_all_models() -> None:
    for feature in FEATURES:
        if importlib.util.find_spec(f"civic_app.{feature}") is None:
            continue
        name = f"civic_app.{feature}.models"
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name)


load_all_models()
importlib.import_module("civic_app.integrity.models")  # shared by every feature
importlib.import_module("civic_app.integrity.locks")  # counters flushed as "n = n + 1"
importlib.import_module("civic_app.dataversions")  # the cache keys every write bumps
