"""The one check for every ``next`` parameter: only a same-site relative path, else the default.

Browsers drop tab, CR and LF inside URLs and read ``\\`` like ``/``, so ``/\\t/evil.example`` and
``/\\evil.example`` both lead to ``//evil.example``, another site; a CR or LF would also break the
Location header. Anything like that gets the default.
"""

from __future__ import annotations

from urllib.parse import urlsplit


def is_safe_path(target: object, *, prefix: str = "/") -> bool:
    """True for a relative path on this site (under ``prefix``) that a browser reads the same."""
    if not isinstance(target, str) or not target.startswith("/") or len(target) > 2000:
        return False
    if target.startswith("//") or "\\" in target:
        return False
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in target):
        return False
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return False
    base = prefix.rstrip("/")
    return not base or parts.path == base or parts.path.startswith(base + "/")


def safe_next(target: object, default: str, *, prefix: str = "/") -> str:
    """``target`` when it is a safe local path (under ``prefix``), else ``default``."""
    return target if is_safe_path(target, prefix=prefix) else default  # type: ignore[return-value]
