"""Personal-data retention: anonymise what is past the retention period (개인정보 파기).

Features plug their own clean-up in with :func:`civic_app.privacy.services.register_purger`.
"""

from __future__ import annotations


def init_app(app) -> None:
    from civic_app.privacy.cli import backup_cli, privacy_cli

    app.cli.add_command(privacy_cli)
    app.cli.add_command(backup_cli)
