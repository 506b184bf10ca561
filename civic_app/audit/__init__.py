"""The audit log: staff actions and every view of unmasked personal data."""


def init_app(app) -> None:
    """The audit log has no pages of its own yet."""
