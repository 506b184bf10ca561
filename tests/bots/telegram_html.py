"""A checker for Telegram's HTML parse mode, as strict as the Bot API.

Allowed: b strong i em u ins s strike del span(class="tg-spoiler") tg-spoiler a(href)
code pre blockquote tg-emoji; entities &lt; &gt; &amp; &quot; and numeric ones; tags must nest.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

ALLOWED = {
    "b": set(),
    "strong": set(),
    "i": set(),
    "em": set(),
    "u": set(),
    "ins": set(),
    "s": set(),
    "strike": set(),
    "del": set(),
    "span": {"class"},
    "tg-spoiler": set(),
    "a": {"href"},
    "code": {"class"},
    "pre": set(),
    "blockquote": {"expandable"},
    "tg-emoji": {"emoji-id"},
}
ENTITY_RE = re.compile(r"&(?!(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);)")
MAX_LENGTH = 4096


class TelegramHTMLError(ValueError):
    pass


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text_length = 0

    def handle_starttag(self, tag, attrs):
        if tag not in ALLOWED:
            raise TelegramHTMLError(f'Can\'t parse entities: unsupported start tag "{tag}"')
        for name, _value in attrs:
            if name not in ALLOWED[tag]:
                raise TelegramHTMLError(f'Can\'t parse entities: unsupported attribute "{name}" of <{tag}>')
        self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            raise TelegramHTMLError(f'Can\'t parse entities: unmatched end tag "{tag}"')
        self.stack.pop()

    def handle_data(self, data):
        self.text_length += len(data)


def validate(text: str) -> int:
    """Raise TelegramHTMLError like the Bot API would; return the visible text length."""
    if "<" in re.sub(r"</?[a-zA-Z][^<>]*>", "", text):
        raise TelegramHTMLError("Can't parse entities: unescaped '<'")
    if ENTITY_RE.search(text):
        raise TelegramHTMLError("Can't parse entities: unescaped '&'")
    parser = _Parser()
    parser.feed(text)
    parser.close()
    if parser.stack:
        raise TelegramHTMLError(f"Can't parse entities: unclosed <{parser.stack[-1]}>")
    if parser.text_length > MAX_LENGTH or len(text) > MAX_LENGTH:
        raise TelegramHTMLError("Bad Request: message is too long")
    return parser.text_length
