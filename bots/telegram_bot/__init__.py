"""The Telegram bot process: publishes the outbox to the channel and answers residents.

Run ``python -m bots.telegram_bot`` (continuous) or ``python -m bots.telegram_bot --once``.
This package is the only code that imports ``telegram`` (python-telegram-bot).
"""
