"""Search a text for one person's personal data in every shape the privacy guard knows."""

from __future__ import annotations

import re

from civic_app.privacy import guard

# The literal shapes of issue 12 (finding 3), searched as well as the guard's own scan.
PHONE_SHAPES = (
    "010-1234-5678",
    "01012345678",
    "+82-10-1234-5678",
    "+82 10 1234 5678",
    "(010)1234-5678",
    "010 - 1234 - 5678",
    "010–1234–5678",
    "010_1234_5678",
    "010/1234/5678",
    "０１０-１２３４-５６７８",
    "82-10-1234-5678",
    "1234-5678",
    "1234 5678",
)


def hits(text: str, *, name: str, phone: str, email: str) -> list[str]:
    """What of ``name``, ``phone`` and ``email`` appears in ``text`` (empty: nothing)."""
    local = email.split("@", maxsplit=1)[0]
    phone_tail = re.sub(r"\D", "", phone)[1:]
    found = []
    for finding in guard.scan(text, [name], phones=[phone], emails=[email]):
        flat = guard.fold(finding.text)
        ours = {
            "name": True,
            "phone": re.sub(r"\D", "", flat).endswith(phone_tail),
            "email": local.casefold() in flat.casefold(),
        }[finding.kind]
        if ours:
            found.append(finding.text)
    found += [shape for shape in (name, " ".join(name), local, *PHONE_SHAPES) if shape in text]
    return found
