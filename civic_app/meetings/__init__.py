"""통통데이: citizen–mayor meeting sessions, requests, review and follow-up."""


def init_app(app) -> None:
    """Views are added by the 통통데이 feature."""
