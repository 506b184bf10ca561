"""Telegram: the public channel's approval queue, resident chat linking and subscriptions.

The bot process itself is ``bots/telegram_bot`` (the only code importing ``telegram``).
"""


def init_app(app) -> None:
    from civic_app.registry import get_registry
    from civic_app.telegram import policy, views
    from civic_app.telegram.cli import telegram_cli

    views.init_app(app)
    from civic_app.accounts.rights import register_rights_hooks
    from civic_app.telegram import rights

    register_rights_hooks("telegram", export=rights.export, erase=rights.erase)
    app.cli.add_command(telegram_cli)
    get_registry(app).set_telegram_approval_policy(policy.needs_approval)
