"""iCalendar feeds and per-event downloads."""


def init_app(app) -> None:
    """Views are added by the calendar feature."""
