"""Domain errors raised by services; views turn them into Korean messages."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain was broken. ``message`` is user-facing (already translated)."""

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotAllowed(DomainError):
    status_code = 403


class NotFound(DomainError):
    status_code = 404


class InvalidTransition(DomainError):
    status_code = 409


class Conflict(DomainError):
    """Someone else changed the record, or a unique resource is taken."""

    status_code = 409


class ValidationFailed(DomainError):
    """Input is malformed; ``errors`` lists (line/field, message) pairs."""

    status_code = 400

    def __init__(self, message: str, errors: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []
