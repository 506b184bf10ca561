"""동 관리카드: each dong's card of suggestions, the shared budget queue."""


def init_app(app) -> None:
    """Views are added by the card feature."""
