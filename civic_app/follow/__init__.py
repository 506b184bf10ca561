"""구독 (follow): anyone follows a dong, a card item, their own 통통데이 request or a committee
task by e-mail or Telegram, and hears of each change once (at once or in a weekly digest)."""

from __future__ import annotations


def init_app(app) -> None:
    from civic_app.accounts.rights import register_rights_hooks
    from civic_app.events import add_listener
    from civic_app.follow import bot, demo, rights, services, views
    from civic_app.follow.cli import follow_cli
    from civic_app.privacy.services import register_purger
    from civic_app.registry import get_registry

    views.init_app(app)
    bot.init_app(app)
    add_listener(app, services.on_change)
    app.cli.add_command(follow_cli)
    get_registry(app).add_demo_loader(90, "follow", demo.load_demo)
    register_rights_hooks("follow", export=rights.export, erase=rights.erase)
    register_purger("follow_pending", services.purge_pending)
