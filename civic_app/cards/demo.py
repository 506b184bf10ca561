"""Demo data for the 39 cards (filled below)."""


def load_demo(session, ctx) -> None:
    return None
